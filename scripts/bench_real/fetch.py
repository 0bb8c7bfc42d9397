#!/usr/bin/env python3
"""Copy the raw sources of the real-data benchmark into data/real/raw/, byte for byte.

    pip install scikit-learn palmerpenguins
    python3 scripts/bench_real/fetch.py            # copy, then check against SHA256SUMS
    python3 scripts/bench_real/fetch.py --check    # only check the committed copies

Sources (licences and attribution in data/real/README.md):

* penguins.csv: the `palmerpenguins` PyPI package's `palmerpenguins/data/penguins.csv`;
* diabetes_data_raw.csv.gz, diabetes_target.csv.gz: scikit-learn's bundled files
  (`sklearn/datasets/data/`, what `load_diabetes(scaled=False)` reads);
* winequality-red.csv.gz: `data/winequality-red.csv.gz` inside the `linfa-datasets` 0.8.1 crate
  from crates.io, obtained through cargo (a throwaway crate in a temporary folder that depends
  on it; `cargo fetch` puts the .crate in cargo's cache, from which the file is read).

The UCI digits are not copied: the benchmark reads the project's bundled
host-train/data/digits8x8.csv.
"""

import argparse
import gzip
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "data" / "real" / "raw"
LINFA = ("linfa-datasets", "0.8.1")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def package_file(module: str, relative: str) -> Path:
    try:
        mod = __import__(module)
    except ImportError:
        sys.exit(f"fetch.py: the Python package `{module}` is missing: pip install "
                 f"{'scikit-learn' if module == 'sklearn' else module}")
    return Path(mod.__file__).resolve().parent / relative


def linfa_crate() -> Path:
    """The linfa-datasets .crate in cargo's cache, fetched through cargo when it is not there."""
    name, version = LINFA
    cargo_home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))

    def cached():
        return sorted((cargo_home / "registry" / "cache").glob(f"*/{name}-{version}.crate"))

    if not cached():
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "src").mkdir()
            (Path(tmp) / "src" / "main.rs").write_text("fn main() {}\n")
            (Path(tmp) / "Cargo.toml").write_text(
                '[package]\nname = "fetch-linfa-datasets"\nversion = "0.0.0"\nedition = "2021"\n'
                f'[dependencies]\n{name} = {{ version = "={version}", default-features = false, '
                'features = ["winequality"] }\n'
            )
            subprocess.run(["cargo", "fetch"], cwd=tmp, check=True)
    found = cached()
    if not found:
        sys.exit(f"fetch.py: {name}-{version}.crate not found under {cargo_home}/registry/cache")
    return found[0]


def wine_bytes() -> bytes:
    name, version = LINFA
    with tarfile.open(linfa_crate(), "r:gz") as crate:
        member = crate.extractfile(f"{name}-{version}/data/winequality-red.csv.gz")
        return member.read()


def check() -> bool:
    ok = True
    for line in (RAW / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        path = RAW / name
        if not path.is_file():
            print(f"missing: {path}")
            ok = False
        elif sha256(path) != digest:
            print(f"changed: {path} (sha256 {sha256(path)}, expected {digest})")
            ok = False
    if ok:
        print(f"{RAW.relative_to(ROOT)}: all files match SHA256SUMS")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check the copies")
    args = parser.parse_args()
    if not args.check:
        RAW.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(package_file("palmerpenguins", "data/penguins.csv"), RAW / "penguins.csv")
        for f in ("diabetes_data_raw.csv.gz", "diabetes_target.csv.gz"):
            shutil.copyfile(package_file("sklearn", f"datasets/data/{f}"), RAW / f)
        wine = wine_bytes()
        gzip.GzipFile(fileobj=io.BytesIO(wine)).read()  # a readable gzip
        (RAW / "winequality-red.csv.gz").write_bytes(wine)
    sys.exit(0 if check() else 1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Build the real-data benchmark's seeded train/test splits from the raw sources.

    python3 scripts/bench_real/prepare.py [--seeds N] [--out DIR] [--sets a,b]

Reads data/real/raw/ (see fetch.py) and the project's host-train/data/digits8x8.csv and writes,
for every set and seed S in 0..N-1,

    DIR/SET/seedS/train.csv    normal rows only (header line, numeric columns)
    DIR/SET/seedS/test.csv     held-out normal rows and the anomalies, shuffled
    DIR/SET/seedS/labels.txt   one label per test row: 0 normal, 1 anomaly

and DIR/sets.json (columns, rules, counts and recording steps of each set; written when all
sets are prepared). DIR is data/real by
default, where the splits of seeds 0, 1 and 2 are committed. The output is deterministic: the
same bytes on every machine and Python version (only the standard library is used; the random
draws come from SplitMix64 here, not from a library generator whose streams may change). A file
whose bytes would not change is left untouched.

Every set goes through the same steps:

1. the rows are split into normal rows and anomalies by the set's rule (below);
2. columns that are constant over the set's normal rows are dropped (the trainer refuses a
   constant column, and a density on such a column is degenerate); only the digits have any;
3. each column is dequantised: the values were recorded on a grid of step q (the greatest
   common divisor of the values as written, e.g. 1 for the digits' pixel counts, 0.1 mm for a
   bill length, 25 g for the penguins' body masses, 0.00001 for a wine's density; see
   grid_step), and a uniform draw from (-q/2, q/2) is added to every value (one fixed draw per
   value and set, the same in every split), so that the held-out log-likelihood is that of a density, comparable between
   models, rather than rewarding mass piled on the grid points;
4. for seed S the normal rows are shuffled and 70 % of them (rounded) form the training set; the
   test set is the other normal rows and the anomalies (for the digits, a draw of 20 images of
   each other digit), in a shuffled order.

Rules:

* digits: the UCI 8x8 digits; digit 0 normal (178 images), the other digits anomalies;
* penguins: palmerpenguins' bill length and depth, flipper length and body mass; Adelie normal,
  Chinstrap anomalies (Gentoo not used); the two rows without measurements dropped;
* wine-red: the 11 physico-chemical columns of the UCI red wines; quality 5 or 6 normal,
  quality <= 4 or >= 8 anomalies (quality 7 not used);
* diabetes: scikit-learn's diabetes table in its original units (load_diabetes(scaled=False));
  the 10 % of patients with the highest disease progression (the target; ties at the
  threshold included) are the anomalies, the others normal.
"""

import argparse
import csv
import gzip
import io
import json
import math
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "data" / "real" / "raw"
DIGITS = ROOT / "host-train" / "data" / "digits8x8.csv"
SETS = ["digits", "penguins", "wine-red", "diabetes"]
TRAIN_FRACTION = 0.7
DIGITS_ANOMALIES_PER_CLASS = 20
MASK = (1 << 64) - 1


class SplitMix64:
    """SplitMix64 (Steele, Lea & Flood 2014): a small generator with a fixed, documented output."""

    def __init__(self, seed: int):
        self.state = seed & MASK

    def next_u64(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self) -> float:
        """In [0, 1), 53 bits."""
        return (self.next_u64() >> 11) * 2.0**-53

    def below(self, n: int) -> int:
        """Uniform in 0..n-1, without bias (rejection)."""
        limit = (1 << 64) - ((1 << 64) % n)
        while True:
            x = self.next_u64()
            if x < limit:
                return x % n

    def shuffle(self, items: list) -> None:
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


def stream(set_index: int, purpose: int, seed: int) -> SplitMix64:
    return SplitMix64((set_index << 48) ^ (purpose << 40) ^ seed)


def decimals(text: str) -> int:
    text = text.strip().lower()
    if "e" in text:
        raise ValueError(f"exponent notation not expected: {text!r}")
    return len(text.split(".")[1]) if "." in text else 0


class Table:
    """Rows of cells as written (strings), column names, and a label per row."""

    def __init__(self, columns, cells, labels):
        self.columns = columns
        self.cells = cells  # list of rows, each a list of str
        self.labels = labels  # "normal", "anomaly" or None (not used)


def load_digits() -> tuple[Table, dict]:
    with DIGITS.open(newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    labels = ["normal" if r[-1] == "0" else "anomaly" for r in rows]
    classes = [int(r[-1]) for r in rows]
    return Table(header[:-1], [r[:-1] for r in rows], labels), {"classes": classes}


def load_penguins() -> tuple[Table, dict]:
    with (RAW / "penguins.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    cols = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    kept = [r for r in rows if all(r[c] not in ("", "NA") for c in cols)]
    dropped = len(rows) - len(kept)
    role = {"Adelie": "normal", "Chinstrap": "anomaly"}
    labels = [role.get(r["species"]) for r in kept]
    return Table(cols, [[r[c] for c in cols] for r in kept], labels), {"rows_dropped_na": dropped}


def load_wine() -> tuple[Table, dict]:
    text = gzip.decompress((RAW / "winequality-red.csv.gz").read_bytes()).decode()
    rows = list(csv.reader(io.StringIO(text)))
    header, rows = rows[0], rows[1:]
    quality = [int(r[-1]) for r in rows]
    labels = [
        "normal" if q in (5, 6) else "anomaly" if q <= 4 or q >= 8 else None for q in quality
    ]
    cols = [c.replace(" ", "_") for c in header[:-1]]
    return Table(cols, [r[:-1] for r in rows], labels), {}


def load_diabetes() -> tuple[Table, dict]:
    data = gzip.decompress((RAW / "diabetes_data_raw.csv.gz").read_bytes()).decode()
    target = gzip.decompress((RAW / "diabetes_target.csv.gz").read_bytes()).decode()
    cells = [line.split() for line in data.splitlines() if line.strip()]
    y = [float(t) for t in target.split()]
    assert len(cells) == len(y) == 442, (len(cells), len(y))
    n_anomalies = math.ceil(0.1 * len(y))
    threshold = sorted(y, reverse=True)[n_anomalies - 1]
    labels = ["anomaly" if t >= threshold else "normal" for t in y]
    cols = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
    return Table(cols, cells, labels), {"target_threshold": threshold}


LOADERS = {
    "digits": load_digits,
    "penguins": load_penguins,
    "wine-red": load_wine,
    "diabetes": load_diabetes,
}


def grid_step(texts: list[str]) -> tuple[Fraction, int]:
    """The recording step of a column and the decimals it is written with.

    The step is the greatest common divisor of the values as written, taken over the values
    written with at most k decimals, k the smallest count that covers 95 % of the column (a few
    values are averages written to 14 decimals, e.g. a wine's alcohol 11.0666666666667, and
    would otherwise make the step vanish)."""
    counts = sorted(decimals(t) for t in texts)
    k = counts[math.ceil(0.95 * len(counts)) - 1]
    g = 0
    for t in texts:
        if decimals(t) <= k:
            g = math.gcd(g, abs(int(Fraction(t.strip()) * 10**k)))
    step = Fraction(g, 10**k)
    places = next(p for p in range(k + 1) if (step * 10**p).denominator == 1)
    return step, places


def prepare_set(name: str, seeds: int, out: Path) -> dict:
    set_index = SETS.index(name)
    table, extra = LOADERS[name]()
    normal = [i for i, l in enumerate(table.labels) if l == "normal"]
    anomalies = [i for i, l in enumerate(table.labels) if l == "anomaly"]
    keep = [j for j in range(len(table.columns)) if len({table.cells[i][j] for i in normal}) > 1]
    dropped = [table.columns[j] for j in range(len(table.columns)) if j not in keep]
    used = normal + anomalies
    steps, values = [], {}
    for j in keep:
        q, k = grid_step([table.cells[i][j] for i in used])
        steps.append((q, k))
    # One fixed dequantisation draw per value (rows in file order, then columns).
    noise = stream(set_index, 1, 0)
    for i in sorted(used):
        row = []
        for (q, k), j in zip(steps, keep):
            x = float(Fraction(table.cells[i][j].strip())) + float(q) * (noise.uniform() - 0.5)
            row.append(f"{x:.{k + 3}f}")
        values[i] = row
    header = ",".join(table.columns[j] for j in keep) + "\n"
    info = {
        "name": name,
        "columns": [table.columns[j] for j in keep],
        "dropped_constant_columns": dropped,
        "recording_steps": [str(q) for q, _ in steps],
        "normal_rows": len(normal),
        "anomaly_rows": len(anomalies),
        "train_fraction": TRAIN_FRACTION,
        **extra,
    }
    info.pop("classes", None)
    per_seed = []
    for seed in range(seeds):
        rng = stream(set_index, 2, seed)
        order = normal[:]
        rng.shuffle(order)
        n_train = round(TRAIN_FRACTION * len(order))
        train, test_normal = order[:n_train], order[n_train:]
        if name == "digits":
            classes = extra["classes"]
            test_anomalies = []
            for c in range(1, 10):
                pool = [i for i in anomalies if classes[i] == c]
                rng.shuffle(pool)
                test_anomalies += pool[:DIGITS_ANOMALIES_PER_CLASS]
        else:
            test_anomalies = anomalies[:]
        test = [(i, 0) for i in test_normal] + [(i, 1) for i in test_anomalies]
        rng.shuffle(test)
        d = out / name / f"seed{seed}"
        write(d / "train.csv", header + "".join(",".join(values[i]) + "\n" for i in train))
        write(d / "test.csv", header + "".join(",".join(values[i]) + "\n" for i, _ in test))
        write(d / "labels.txt", "".join(f"{l}\n" for _, l in test))
        per_seed.append(
            {"train": len(train), "test_normal": len(test_normal), "test_anomalies": len(test_anomalies)}
        )
    info["splits"] = per_seed
    return info


def write(path: Path, text: str) -> None:
    data = text.encode()
    if path.is_file() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="splits 0..N-1 (default 3)")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "real", help="output folder")
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of {SETS}")
    args = parser.parse_args()
    sets = [s for s in args.sets.split(",") if s]
    unknown = [s for s in sets if s not in SETS]
    if unknown:
        parser.error(f"unknown set(s) {unknown}; known: {SETS}")
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    infos = [prepare_set(s, args.seeds, args.out) for s in sets]
    if sets == SETS:  # a partial run leaves the description of all sets as it is
        write(args.out / "sets.json", json.dumps(infos, indent=1) + "\n")
    for i in infos:
        s = i["splits"][0]
        print(
            f"{i['name']}: d = {len(i['columns'])}, {i['normal_rows']} normal / "
            f"{i['anomaly_rows']} anomalous rows; split: {s['train']} train, "
            f"{s['test_normal']} + {s['test_anomalies']} test"
            + (f"; dropped constant columns {i['dropped_constant_columns']}"
               if i["dropped_constant_columns"] else "")
        )


if __name__ == "__main__":
    main()

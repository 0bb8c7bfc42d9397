#!/usr/bin/env python3
"""scikit-learn baselines of the real-data benchmark, on the splits written by prepare.py.

    pip install scikit-learn numpy
    python3 scripts/bench_real/baselines.py --seeds 3 --out target/bench-real/baselines.json

For every set and seed S (data/real/SET/seedS/{train,test}.csv and labels.txt) it fits, on the
training rows (all normal) standardised per feature with the training rows' mean and standard
deviation:

* gmm: GaussianMixture, full covariances, k = 1..8 chosen by BIC (n_init 3, random_state S,
  reg_covar 1e-3: a thousandth of each feature's variance added to the covariances; with
  scikit-learn's default 1e-6, components collapse onto the digits' near-constant pixels when
  they hold fewer rows than dimensions, BIC then picks k = 6 and the held-out NLL is ~5e6);
* kde: KernelDensity (Gaussian kernel), bandwidth chosen by 5-fold cross-validated
  log-likelihood on the training rows among 41 values from 10^-2 to 10^2 (log-spaced);
* iforest: IsolationForest (200 trees, random_state S);
* ocsvm: OneClassSVM (RBF kernel, gamma "scale", nu 0.1).

It reports, per model, the AUROC of the anomaly score on the test rows (higher score = more
anomalous: -log density for gmm and kde, -score_samples for iforest and ocsvm) and, for the two
normalised densities, the held-out NLL: the mean of -ln p(y) over the test set's normal rows, in
the data's units, i.e. -ln p_z(z) + sum_j ln sd_j for z the standardised point (the log-Jacobian
of the standardisation). Output: one JSON object, {"sklearn": version, "numpy": version,
"results": [{"set", "seed", "model", "auroc", "nll" (or null), "param", "seconds"}, ...]}.
"""

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETS = ["digits", "penguins", "wine-red", "diabetes"]

try:
    import numpy as np
    import sklearn
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score
    from sklearn.mixture import GaussianMixture
    from sklearn.model_selection import GridSearchCV, KFold
    from sklearn.neighbors import KernelDensity
    from sklearn.svm import OneClassSVM
except ImportError as e:  # the message bench-real shows
    sys.exit(f"baselines.py: {e.name} is missing: pip install scikit-learn numpy")


def load_csv(path: Path) -> np.ndarray:
    x = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    if not np.isfinite(x).all():
        sys.exit(f"baselines.py: {path}: non-finite values")
    return x


def load_labels(path: Path) -> np.ndarray:
    labels = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    bad = [l for l in labels if l not in ("0", "1")]
    if bad:
        sys.exit(f"baselines.py: {path}: labels must be 0 or 1, found {bad[0]!r}")
    return np.array([l == "1" for l in labels])


def run_split(data: Path, name: str, seed: int) -> list[dict]:
    d = data / name / f"seed{seed}"
    train, test = load_csv(d / "train.csv"), load_csv(d / "test.csv")
    labels = load_labels(d / "labels.txt")
    if len(labels) != len(test):
        sys.exit(f"baselines.py: {d}: {len(test)} test rows but {len(labels)} labels")
    mean, sd = train.mean(axis=0), train.std(axis=0)
    if (sd == 0).any():
        sys.exit(f"baselines.py: {d}/train.csv: constant column(s) {np.flatnonzero(sd == 0)}")
    log_jacobian = float(np.log(sd).sum())
    z_train, z_test = (train - mean) / sd, (test - mean) / sd
    normal = ~labels
    out = []

    def record(model, score, log_density=None, param=None, seconds=0.0):
        nll = None if log_density is None else float(-log_density[normal].mean() + log_jacobian)
        out.append({
            "set": name,
            "seed": seed,
            "model": model,
            "auroc": float(roc_auc_score(labels, score)),
            "nll": nll,
            "param": param,
            "seconds": seconds,
        })

    t = time.perf_counter()
    best = None
    for k in range(1, 9):
        gmm = GaussianMixture(
            k, covariance_type="full", n_init=3, reg_covar=1e-3, random_state=seed
        )
        gmm.fit(z_train)
        bic = gmm.bic(z_train)
        if best is None or bic < best[0]:
            best = (bic, k, gmm)
    _, k, gmm = best
    ld = gmm.score_samples(z_test)
    record("gmm", -ld, ld, f"k = {k}", time.perf_counter() - t)

    t = time.perf_counter()
    grid = GridSearchCV(
        KernelDensity(kernel="gaussian"),
        {"bandwidth": np.logspace(-2, 2, 41)},
        cv=KFold(5, shuffle=True, random_state=seed),
    )
    grid.fit(z_train)
    bw = grid.best_params_["bandwidth"]
    ld = grid.best_estimator_.score_samples(z_test)
    record("kde", -ld, ld, f"bandwidth {bw:.3g} sd", time.perf_counter() - t)

    t = time.perf_counter()
    forest = IsolationForest(n_estimators=200, random_state=seed).fit(z_train)
    record("iforest", -forest.score_samples(z_test), seconds=time.perf_counter() - t)

    t = time.perf_counter()
    svm = OneClassSVM(kernel="rbf", gamma="scale", nu=0.1).fit(z_train)
    record("ocsvm", -svm.score_samples(z_test), seconds=time.perf_counter() - t)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "real")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    sets = [s for s in args.sets.split(",") if s]
    unknown = [s for s in sets if s not in SETS]
    if unknown:
        parser.error(f"unknown set(s) {unknown}; known: {SETS}")
    results = []
    for name in sets:
        for seed in range(args.seeds):
            for r in run_split(args.data, name, seed):
                results.append(r)
                nll = "—" if r["nll"] is None else f"{r['nll']:.3f}"
                print(f"baselines: {name} seed {seed} {r['model']}: AUROC {r['auroc']:.4f}, "
                      f"NLL {nll} ({r['param'] or ''}, {r['seconds']:.1f} s)", file=sys.stderr)
    doc = {"sklearn": sklearn.__version__, "numpy": np.__version__, "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    tmp.replace(args.out)


if __name__ == "__main__":
    main()

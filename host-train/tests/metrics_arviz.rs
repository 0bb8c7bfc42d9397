//! The Rust R̂ / ESS against ArviZ: `tests/fixtures/rhat_arviz.json` holds chain arrays and
//! ArviZ's `rhat(method="rank")`, `ess(method="bulk")` and `ess(method="tail")` per dimension,
//! produced by `tests/fixtures/make_rhat_fixtures.py` (ArviZ 0.23.4, numpy 2.4.6,
//! scipy 1.17.1; the versions are recorded in the file). Agreement is required to 1e-9
//! relative; the differences actually seen are at the level of f64 rounding (2.2e-15 at most),
//! from FFT and summation order.

use emberflow_train::metrics::{Chains, convergence, ess_bulk, ess_tail, rhat_rank};
use serde_json::Value;

/// Relative tolerance of the comparison.
const REL_TOL: f64 = 1e-9;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rhat_arviz.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture file");
    serde_json::from_str(&text).expect("fixture JSON")
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN)) // null = NaN
        .collect()
}

/// Compare and return the largest relative difference; NaN must match NaN.
fn compare(case: &str, what: &str, got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len(), "{case} {what}: length");
    let mut worst = 0.0f64;
    for (j, (g, w)) in got.iter().zip(want).enumerate() {
        if w.is_nan() {
            assert!(g.is_nan(), "{case} {what}[{j}]: ArviZ NaN, got {g}");
            continue;
        }
        let rel = (g - w).abs() / w.abs();
        assert!(
            rel <= REL_TOL,
            "{case} {what}[{j}]: got {g}, ArviZ {w} (rel {rel:e})"
        );
        worst = worst.max(rel);
    }
    worst
}

#[test]
fn rhat_and_ess_match_arviz() {
    let doc = fixture();
    assert_eq!(doc["arviz"], "0.23.4");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 7);
    let mut worst = 0.0f64;
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let dim = |k: &str| case[k].as_u64().expect("shape") as usize;
        let values = numbers(&case["values"]);
        let draws = Chains::new(&values, dim("chains"), dim("draws"), dim("dims")).expect("shape");
        let rhat = rhat_rank(&draws);
        let bulk = ess_bulk(&draws);
        let tail = ess_tail(&draws);
        worst = worst.max(compare(name, "rhat", &rhat, &numbers(&case["rhat_rank"])));
        worst = worst.max(compare(
            name,
            "ess_bulk",
            &bulk,
            &numbers(&case["ess_bulk"]),
        ));
        worst = worst.max(compare(
            name,
            "ess_tail",
            &tail,
            &numbers(&case["ess_tail"]),
        ));
        // The one-pass summary gives the same numbers.
        let all = convergence(&draws);
        assert_eq!(all.rhat.len(), rhat.len());
        for (a, b) in all
            .rhat
            .iter()
            .zip(&rhat)
            .chain(all.ess_bulk.iter().zip(&bulk))
        {
            assert!(
                a == b || (a.is_nan() && b.is_nan()),
                "{name}: convergence()"
            );
        }
        println!("{name}: rhat {rhat:?} ess_bulk {bulk:?} ess_tail {tail:?}");
    }
    println!("largest relative difference from ArviZ: {worst:e}");
}

#[test]
fn badly_mixed_cases_are_flagged() {
    // What the fixture cases are for: R̂ separates mixed from stuck chains.
    let doc = fixture();
    for case in doc["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let values = numbers(&case["values"]);
        let dim = |k: &str| case[k].as_u64().expect("shape") as usize;
        let draws = Chains::new(&values, dim("chains"), dim("draws"), dim("dims")).expect("shape");
        let max_rhat = convergence(&draws).rhat.iter().copied().fold(0.0, f64::max);
        match name {
            "well_mixed" | "heavy_tailed" => assert!(max_rhat < 1.01, "{name}: {max_rhat}"),
            "different_means" | "different_scales" | "many_chains_two_modes" => {
                assert!(max_rhat > 1.3, "{name}: {max_rhat}")
            }
            _ => {}
        }
    }
}

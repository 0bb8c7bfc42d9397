//! `cargo xtask bench-real [--seeds N] [--iters N] [--sets a,b] [--reuse]`: the real-data
//! benchmark. On the seeded splits of `data/real` (built by `scripts/bench_real/prepare.py`,
//! which it reruns: the committed splits come out unchanged) it trains an EBM per set and seed
//! with `emberflow train --data train.csv --out m.efm --seed S` (plain defaults; then the
//! [`VARIANTS`] with documented flags), scores the test rows with `emberflow energy`, runs the
//! scikit-learn baselines of `scripts/bench_real/baselines.py` on the same splits, and writes
//! the "Real data" section of BENCHMARKS.md: AUROC and held-out NLL (mean ± sd over seeds) of
//! every model, and whether the targets are met (the EBM's AUROC at least the best baseline's
//! on every set, its held-out NLL at most the GaussianMixture's).
//!
//! The EBM's held-out NLL is the mean of `−ln p(y) = U(x) + ln Z + Σ ln scale` over the test
//! set's normal rows, in data units: `U` from `emberflow energy`, `Σ ln scale` the model's
//! normalisation, `ln Z` estimated here by importance sampling with the model's own flow
//! (`emberflow_train::metrics::log_z`, the trainer's estimator, [`LN_Z_DRAWS`] draws).

use crate::bench::{load_average, machine};
use crate::setup::{emberflow_binary, replace_section, root, target_dir};
use anyhow::{Context, Result, bail, ensure};
use emberflow_train::eval::{read_model, with_networks};
use emberflow_train::metrics::{LogZ, detection, log_z, mean_nll, parse_labels};
use emberflow_train::report::TrainReport;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The sets, in table order, as `prepare.py` names them.
pub const SETS: &[&str] = &["digits", "penguins", "wine-red", "diabetes"];

/// The EBM rows: a key, the flags added to `emberflow train --data train.csv --out m.efm
/// --seed S`, and what the row is. The first is the plain defaults (the headline row).
pub const VARIANTS: &[(&str, &[&str], &str)] = &[
    ("ebm", &[], "emberflow, defaults"),
    (
        "ebm-val",
        &["--validation", "0.1"],
        "emberflow, `--validation 0.1`",
    ),
];

/// The baselines as `baselines.py` names them, and their row labels.
const BASELINES: &[(&str, &str)] = &[
    ("gmm", "GaussianMixture (k by BIC)"),
    ("kde", "KernelDensity (CV bandwidth)"),
    ("iforest", "IsolationForest"),
    ("ocsvm", "OneClassSVM"),
];

/// The trainer holds out 10 % of the rows by default from this many training rows on, so
/// there the `--validation 0.1` row would repeat the defaults and is not run.
pub const DEFAULT_VALIDATION_ROWS: usize = 500;

/// Flow draws of the importance-sampled `ln Z` of each exported EBM.
pub const LN_Z_DRAWS: usize = 1 << 16;

/// What `pip install` needs for the baselines.
const PIP: &str = "pip install scikit-learn numpy";

/// The options of `cargo xtask bench-real`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seeds (splits and training seeds 0..N-1; the splits of seeds 0-2 are committed).
    #[arg(long, value_name = "N", default_value_t = 3)]
    seeds: u64,
    /// Training iterations of each EBM (`emberflow train --iters`; default: the trainer's).
    #[arg(long, value_name = "N")]
    iters: Option<u64>,
    /// Only these sets (comma-separated: digits, penguins, wine-red, diabetes).
    #[arg(long, value_name = "a,b", value_delimiter = ',')]
    sets: Option<Vec<String>>,
    /// Keep the models of an earlier run with the same command, and the baselines of an
    /// earlier run that covers these sets and seeds (`target/bench-real`), instead of training
    /// and fitting again.
    #[arg(long)]
    reuse: bool,
    /// The Python 3 interpreter with scikit-learn and numpy.
    #[arg(long, value_name = "PATH", default_value = "python3")]
    python: String,
}

/// One model's figures on one split.
#[derive(Clone, Debug, PartialEq)]
pub struct Obs {
    /// The set.
    pub set: String,
    /// The seed (split, and training or fitting seed).
    pub seed: u64,
    /// The model's key (a [`VARIANTS`] or [`BASELINES`] key).
    pub model: String,
    /// AUROC on the test rows.
    pub auroc: f64,
    /// Held-out NLL of the test set's normal rows, in data units (normalised models only).
    pub nll: Option<f64>,
    /// A short note (the chosen k, the bandwidth, `ln Z`'s effective sample size, …).
    pub note: String,
    /// Seconds of fitting or training.
    pub seconds: f64,
}

/// The outcome of one model on one split: its figures, or why it failed.
pub type Outcome = std::result::Result<Obs, String>;

/// Mean and sample standard deviation (`n − 1`; NaN for fewer than two values).
pub fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return (mean, f64::NAN);
    }
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// `mean ± sd` with `digits` decimals (`mean` alone for one value, `—` for none).
pub fn fmt_mean_sd(v: &[f64], digits: usize) -> String {
    match mean_sd(v) {
        (m, _) if m.is_nan() => "—".into(),
        (m, s) if s.is_nan() => format!("{m:.digits$}"),
        (m, s) => format!("{m:.digits$} ± {s:.digits$}"),
    }
}

/// The energies of an `emberflow energy` CSV (`index,x0,…,energy`, a header line), in row
/// order.
pub fn parse_energies_csv(text: &str) -> Result<Vec<f64>> {
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else {
        bail!("the energies file is empty");
    };
    let columns = header.split(',').count();
    ensure!(
        header.split(',').next_back() == Some("energy"),
        "the energies file's header `{header}` does not end with `energy`"
    );
    let mut out = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').collect();
        ensure!(
            cells.len() == columns,
            "energies line {}: {} cells, the header has {columns}",
            i + 1,
            cells.len()
        );
        let cell = cells[columns - 1].trim();
        let e: f64 = cell
            .parse()
            .with_context(|| format!("energies line {}: `{cell}` is not a number", i + 1))?;
        out.push(e);
    }
    Ok(out)
}

/// The baselines' JSON (`baselines.py`): the versions of scikit-learn and numpy, and one
/// [`Obs`] per set, seed and model.
pub fn parse_baselines(text: &str) -> Result<(String, Vec<Obs>)> {
    let doc: serde_json::Value =
        serde_json::from_str(text).context("the baselines' output is not JSON")?;
    let version = |k: &str| doc.get(k).and_then(|v| v.as_str()).unwrap_or("?");
    let versions = format!(
        "scikit-learn {}, numpy {}",
        version("sklearn"),
        version("numpy")
    );
    let results = doc
        .get("results")
        .and_then(|r| r.as_array())
        .context("the baselines' output has no `results` list")?;
    let mut out = Vec::with_capacity(results.len());
    for (i, r) in results.iter().enumerate() {
        let field = |k: &str| {
            r.get(k)
                .with_context(|| format!("baselines result {i}: no `{k}`"))
        };
        let text_of = |k: &str| -> Result<String> {
            field(k)?
                .as_str()
                .map(str::to_string)
                .with_context(|| format!("baselines result {i}: `{k}` is not a string"))
        };
        let number = |k: &str| -> Result<f64> {
            field(k)?
                .as_f64()
                .with_context(|| format!("baselines result {i}: `{k}` is not a number"))
        };
        let auroc = number("auroc")?;
        let nll = match field("nll")? {
            serde_json::Value::Null => None,
            v => Some(
                v.as_f64()
                    .with_context(|| format!("baselines result {i}: `nll` is not a number"))?,
            ),
        };
        let seed = field("seed")?
            .as_u64()
            .with_context(|| format!("baselines result {i}: `seed` is not a seed"))?;
        out.push(Obs {
            set: text_of("set")?,
            seed,
            model: text_of("model")?,
            auroc,
            nll,
            note: r
                .get("param")
                .and_then(|p| p.as_str())
                .unwrap_or("")
                .to_string(),
            seconds: r
                .get("seconds")
                .and_then(|s| s.as_f64())
                .unwrap_or(f64::NAN),
        });
    }
    Ok((versions, out))
}

/// The figures of one model on one set over the seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// AUROC of each seed that ran.
    pub auroc: Vec<f64>,
    /// Held-out NLL of each seed that has one.
    pub nll: Vec<f64>,
    /// The seeds' notes, and the failures.
    pub notes: Vec<String>,
    /// Seconds of fitting or training of each seed that ran.
    pub seconds: Vec<f64>,
    /// Seeds that failed.
    pub failed: usize,
}

/// The figures of `model` on `set` among `outcomes` (failures counted and noted).
pub fn summarise(outcomes: &[(String, String, u64, Outcome)], set: &str, model: &str) -> Summary {
    let mut s = Summary {
        auroc: Vec::new(),
        nll: Vec::new(),
        notes: Vec::new(),
        seconds: Vec::new(),
        failed: 0,
    };
    for (o_set, o_model, seed, outcome) in outcomes {
        if o_set != set || o_model != model {
            continue;
        }
        match outcome {
            Ok(o) => {
                s.auroc.push(o.auroc);
                s.nll.extend(o.nll);
                s.seconds.push(o.seconds);
                if !o.note.is_empty() {
                    s.notes.push(o.note.clone());
                }
            }
            Err(why) => {
                s.failed += 1;
                s.notes.push(format!("seed {seed} failed: {why}"));
            }
        }
    }
    s
}

/// Whether the EBM meets the targets on a set: AUROC (mean over seeds) at least the best
/// baseline's mean, and held-out NLL (mean) at most the GaussianMixture's. `None` where a
/// figure is missing.
pub fn targets_met(
    ebm: &Summary,
    baselines: &[Summary],
    gmm: &Summary,
) -> (Option<bool>, Option<bool>) {
    let mean = |v: &[f64]| (!v.is_empty() && ebm.failed == 0).then(|| mean_sd(v).0);
    let best = baselines
        .iter()
        .filter(|b| !b.auroc.is_empty())
        .map(|b| mean_sd(&b.auroc).0)
        .fold(None, |acc: Option<f64>, m| {
            Some(acc.map_or(m, |a| a.max(m)))
        });
    let auroc = mean(&ebm.auroc).zip(best).map(|(e, b)| e >= b);
    let gmm_nll = (!gmm.nll.is_empty()).then(|| mean_sd(&gmm.nll).0);
    let nll = (ebm.nll.len() == ebm.auroc.len())
        .then(|| mean(&ebm.nll))
        .flatten()
        .zip(gmm_nll)
        .map(|(e, g)| e <= g);
    (auroc, nll)
}

/// The mean of some seconds, `—` for none.
fn fmt_seconds(v: &[f64]) -> String {
    match mean_sd(v).0 {
        m if m.is_nan() => "—".into(),
        m if m < 10.0 => format!("{m:.1} s"),
        m => format!("{m:.0} s"),
    }
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "—",
    }
}

/// Rows, columns and anomalies of a split (for the section's headings).
#[derive(Clone, Copy, Debug, PartialEq)]
struct SplitSize {
    dim: usize,
    train: usize,
    test_normal: usize,
    test_anomalies: usize,
}

fn split_dir(set: &str, seed: u64) -> PathBuf {
    root()
        .join("data/real")
        .join(set)
        .join(format!("seed{seed}"))
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn split_size(dir: &Path) -> Result<SplitSize> {
    let train = read_text(&dir.join("train.csv"))?;
    let labels = parse_labels(&read_text(&dir.join("labels.txt"))?)
        .with_context(|| format!("{}", dir.join("labels.txt").display()))?;
    let dim = train.lines().next().map_or(0, |h| h.split(',').count());
    let anomalies = labels.iter().filter(|&&l| l).count();
    Ok(SplitSize {
        dim,
        train: train
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .count(),
        test_normal: labels.len() - anomalies,
        test_anomalies: anomalies,
    })
}

/// Check that `python` runs and has scikit-learn and numpy.
fn check_python(python: &str) -> Result<()> {
    let out = Command::new(python)
        .args(["-c", "import sklearn, numpy"])
        .output();
    match out {
        Err(e) => bail!(
            "bench-real runs the scikit-learn baselines with Python 3, but `{python}` could not \
             be started ({e}): install Python 3 and then `{PIP}` (or name the interpreter with \
             --python)"
        ),
        Ok(o) if !o.status.success() => bail!(
            "bench-real needs scikit-learn and numpy in `{python}`: {PIP}\n({})",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Ok(_) => Ok(()),
    }
}

fn run_python(python: &str, args: &[String]) -> Result<()> {
    eprintln!("$ {python} {}", args.join(" "));
    let status = Command::new(python)
        .args(args)
        .current_dir(root())
        .status()
        .with_context(|| format!("starting {python}"))?;
    ensure!(
        status.success(),
        "`{python} {}` failed ({status})",
        args.join(" ")
    );
    Ok(())
}

/// The last `error` line of a command's stderr (or its last line).
fn why_failed(stderr: &str) -> String {
    stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("error"))
        .or_else(|| stderr.lines().rev().find(|l| !l.trim().is_empty()))
        .unwrap_or("failed")
        .trim_start_matches("error: ")
        .to_string()
}

/// Run `emberflow` with `args` (stdout dropped): `Ok(Err(reason))` when it fails, with the
/// last error line of its stderr; `Err` only when it cannot be started.
fn emberflow<A: AsRef<std::ffi::OsStr>>(
    bin: &Path,
    args: &[A],
    what: &str,
) -> Result<Result<(), String>> {
    let output = Command::new(bin)
        .args(args)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .output()
        .with_context(|| format!("running emberflow {what}"))?;
    Ok(if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "emberflow {what}: {}",
            why_failed(&String::from_utf8_lossy(&output.stderr))
        ))
    })
}

/// Train (or reuse), score and evaluate one EBM; `Err` with the reason when a step fails.
fn run_ebm(
    bin: &Path,
    out_dir: &Path,
    set: &str,
    seed: u64,
    (key, flags): (&str, &[&str]),
    iters: Option<u64>,
    reuse: bool,
) -> Result<Outcome> {
    let split = split_dir(set, seed);
    let dir = out_dir.join(set);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let model = dir.join(format!("{key}-seed{seed}.efm"));
    let stamp = model.with_extension("cmd");
    let mut args: Vec<String> = vec!["train".into(), "--data".into()];
    args.push(split.join("train.csv").display().to_string());
    args.extend(["--out".into(), model.display().to_string()]);
    args.extend(["--seed".into(), seed.to_string(), "--quiet".into()]);
    if let Some(n) = iters {
        args.extend(["--iters".into(), n.to_string()]);
    }
    args.extend(flags.iter().map(|f| f.to_string()));
    let command = args.join(" ");
    let reused = reuse
        && model.is_file()
        && std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == command);
    if reused {
        eprintln!("bench-real: {set} {key} seed {seed} (reused)");
    } else {
        eprintln!("bench-real: {set} {key} seed {seed}: emberflow {command}");
        let _ = std::fs::remove_file(&stamp);
        if let Err(why) = emberflow(bin, &args, "train")? {
            return Ok(Err(why));
        }
        std::fs::write(&stamp, format!("{command}\n"))
            .with_context(|| format!("writing {}", stamp.display()))?;
    }
    let report = TrainReport::read(&model.with_extension("json"))?;
    let energies = dir.join(format!("{key}-seed{seed}.energies.csv"));
    let (test, labels_path) = (split.join("test.csv"), split.join("labels.txt"));
    let energy_args = [
        Path::new("energy"),
        Path::new("--model"),
        &model,
        Path::new("--data"),
        &test,
        Path::new("--out"),
        &energies,
        Path::new("--labels"),
        &labels_path,
    ];
    if let Err(why) = emberflow(bin, &energy_args, "energy")? {
        return Ok(Err(why));
    }
    let u = parse_energies_csv(&read_text(&energies)?)
        .with_context(|| format!("{}", energies.display()))?;
    let labels = parse_labels(&read_text(&labels_path)?)
        .with_context(|| format!("{}", labels_path.display()))?;
    let d = match detection(&u, &labels) {
        Ok(d) => d,
        Err(e) => return Ok(Err(format!("AUROC: {e}"))),
    };
    let file = read_model(&model)?;
    let t = Instant::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let lz: LogZ = with_networks(&file, |energy, flow, _| {
        Ok(log_z(energy, flow, LN_Z_DRAWS, seed, threads))
    })?;
    let normal: Vec<f32> = u
        .iter()
        .zip(&labels)
        .filter(|(_, l)| !**l)
        .map(|(&e, _)| e as f32)
        .collect();
    let nll = mean_nll(&normal, lz.ln_z, file.log_jacobian);
    eprintln!(
        "bench-real: {set} {key} seed {seed}: AUROC {:.4}, held-out NLL {nll:.3} (ln Z {:.3} ± \
         {:.3}, ESS {:.0} of {} draws, {:.1} s)",
        d.auroc,
        lz.ln_z,
        lz.se,
        lz.ess,
        lz.draws,
        t.elapsed().as_secs_f64()
    );
    Ok(Ok(Obs {
        set: set.into(),
        seed,
        model: key.into(),
        auroc: d.auroc,
        nll: nll.is_finite().then_some(nll),
        note: format!(
            "{} it{}, ln Z ESS {:.0}",
            report.iterations,
            report
                .metric("selected_iteration")
                .map_or(String::new(), |i| format!(" (best {i:.0})")),
            lz.ess.max(0.0)
        ),
        seconds: report.train_seconds,
    }))
}

/// `cargo xtask bench-real`.
pub fn run_real(args: &Args) -> Result<()> {
    let Args {
        seeds,
        iters,
        ref sets,
        reuse,
        ref python,
    } = *args;
    ensure!(seeds >= 1, "--seeds must be at least 1");
    let sets: Vec<&str> = match sets {
        Some(s) => {
            for name in s {
                ensure!(
                    SETS.contains(&name.as_str()),
                    "unknown set `{name}`; the sets are {}",
                    SETS.join(", ")
                );
            }
            SETS.iter()
                .copied()
                .filter(|n| s.iter().any(|x| x == n))
                .collect()
        }
        None => SETS.to_vec(),
    };
    let started = Instant::now();
    let load_before = load_average();
    check_python(python)?;
    let set_list = sets.join(",");
    run_python(
        python,
        &[
            "scripts/bench_real/prepare.py".into(),
            "--seeds".into(),
            seeds.to_string(),
            "--sets".into(),
            set_list.clone(),
        ],
    )?;
    let out_dir = target_dir().join("bench-real");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let baselines_json = out_dir.join("baselines.json");
    let earlier = reuse
        .then(|| std::fs::read_to_string(&baselines_json).ok())
        .flatten()
        .and_then(|text| parse_baselines(&text).ok())
        .filter(|(_, obs)| covers(obs, &sets, seeds));
    let t = Instant::now();
    let (versions, baseline_obs) = match earlier {
        Some(v) => {
            eprintln!(
                "bench-real: baselines reused from {}",
                baselines_json.display()
            );
            v
        }
        None => {
            run_python(
                python,
                &[
                    "scripts/bench_real/baselines.py".into(),
                    "--seeds".into(),
                    seeds.to_string(),
                    "--sets".into(),
                    set_list.clone(),
                    "--out".into(),
                    baselines_json.display().to_string(),
                ],
            )?;
            parse_baselines(&read_text(&baselines_json)?)
                .with_context(|| format!("{}", baselines_json.display()))?
        }
    };
    let baseline_seconds = t.elapsed().as_secs_f64();
    let mut outcomes: Vec<(String, String, u64, Outcome)> = baseline_obs
        .into_iter()
        .filter(|o| sets.contains(&o.set.as_str()) && o.seed < seeds)
        .map(|o| (o.set.clone(), o.model.clone(), o.seed, Ok(o)))
        .collect();

    let bin = emberflow_binary(&out_dir)?;
    let t = Instant::now();
    let mut sizes = Vec::new();
    for (i, set) in sets.iter().enumerate() {
        for seed in 0..seeds {
            let size = split_size(&split_dir(set, seed))?;
            for (key, flags, _) in VARIANTS {
                if flags == &["--validation", "0.1"] && size.train >= DEFAULT_VALIDATION_ROWS {
                    continue;
                }
                let o = run_ebm(&bin, &out_dir, set, seed, (key, flags), iters, reuse)?;
                if let Err(why) = &o {
                    eprintln!("bench-real: {set} {key} seed {seed} failed: {why}");
                }
                outcomes.push((set.to_string(), key.to_string(), seed, o));
            }
        }
        sizes.push(split_size(&split_dir(set, 0))?);
        // The section after every set, so an interrupted run keeps what it measured.
        let done = &sets[..=i];
        let md = render(&Render {
            seeds,
            iters,
            sets: done,
            all_sets: args.sets.is_none() && done.len() == SETS.len(),
            reuse,
            sizes: &sizes,
            outcomes: &outcomes,
            versions: &versions,
            machine: &machine(),
            load: (&load_before, &load_average()),
            seconds: (
                baseline_seconds,
                t.elapsed().as_secs_f64(),
                started.elapsed().as_secs_f64(),
            ),
        });
        replace_section(&root().join("BENCHMARKS.md"), "Real data", &md)?;
    }
    eprintln!(
        "BENCHMARKS.md: section `Real data` updated ({:.0} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Whether `obs` holds every baseline for every set and seed below `seeds`.
fn covers(obs: &[Obs], sets: &[&str], seeds: u64) -> bool {
    sets.iter().all(|set| {
        (0..seeds).all(|seed| {
            BASELINES.iter().all(|(model, _)| {
                obs.iter()
                    .any(|o| o.set == *set && o.seed == seed && o.model == *model)
            })
        })
    })
}

/// What the section is drawn from.
struct Render<'a> {
    seeds: u64,
    iters: Option<u64>,
    sets: &'a [&'a str],
    all_sets: bool,
    reuse: bool,
    sizes: &'a [SplitSize],
    outcomes: &'a [(String, String, u64, Outcome)],
    versions: &'a str,
    machine: &'a str,
    load: (&'a str, &'a str),
    seconds: (f64, f64, f64),
}

/// The "Real data" section's body.
fn render(r: &Render<'_>) -> String {
    let mut md = String::new();
    let iters = r.iters.map_or(String::new(), |n| format!(" --iters {n}"));
    let _ = write!(
        md,
        "Command: `cargo xtask bench-real --seeds {}{iters}{}{}`. Machine: {}; {}. Load average \
         (1 min) at the start and the end: {} / {}. Time: {:.0} s in all ({:.0} s for the \
         baselines, {:.0} s for the EBMs: training, scoring and ln Z).\n\n",
        r.seeds,
        if r.all_sets {
            String::new()
        } else {
            format!(" --sets {}", r.sets.join(","))
        },
        if r.reuse { " --reuse" } else { "" },
        r.machine,
        r.versions,
        r.load.0,
        r.load.1,
        r.seconds.2,
        r.seconds.0,
        r.seconds.1,
    );
    if r.reuse {
        md += "With `--reuse`, the models and baselines already in `target/bench-real` from an \
               earlier run with the same settings were kept: the time above leaves out their \
               fitting; the time per fit below is that of the run that made them.\n\n";
    }
    md += "Data: `data/real` (sources, licences and attribution in `data/real/README.md`): \
           seeded splits written by `python3 scripts/bench_real/prepare.py --seeds N`, the \
           training rows all normal, the test rows held-out normal rows and anomalies. Seed S \
           is both the split and the training or fitting seed.\n\n";
    md += "- **EBM**: `emberflow train --data data/real/SET/seedS/train.csv --out m.efm \
           --seed S` (the defaults";
    if let Some(n) = r.iters {
        let _ = write!(md, ", with `--iters {n}`");
    }
    md += "; the second row adds `--validation 0.1`), then `emberflow energy --model m.efm \
           --data test.csv --out e.csv --labels labels.txt`. AUROC of the energy \
           (`emberflow_train::metrics::detection`, the function `emberflow energy` prints \
           with). Held-out NLL: the mean of `U + ln Z + Σ ln scale` over the test set's normal \
           rows, `ln Z` estimated by importance sampling with the model's own flow \
           (`emberflow_train::metrics::log_z`, 65,536 draws); the estimate is biased low where \
           the flow misses part of the EBM's mass, and its effective sample size (ESS) is \
           noted.\n";
    md += "- **Baselines**: `python3 scripts/bench_real/baselines.py --seeds N --out FILE` \
           (scikit-learn, on the training rows standardised per feature): GaussianMixture \
           (full covariances, k = 1…8 by BIC, n_init 3, reg_covar 1e-3), KernelDensity \
           (Gaussian kernel, bandwidth by 5-fold cross-validated likelihood), IsolationForest \
           (200 trees), OneClassSVM (RBF, gamma `scale`, ν = 0.1). The two densities' NLL is \
           in data units (the standardisation's log-Jacobian added).\n";
    md += "- **Targets** (issue 13): the EBM's AUROC at least the best baseline's on every \
           set; its held-out NLL at most the GaussianMixture's. Compared on the means over \
           seeds; judged on the plain-defaults row.\n\n";
    md += "AUROC (4 decimals; the targets are judged on the unrounded means): higher is better (0.5 is \
           chance). Held-out NLL: nats per test point, in the \
           data's units, lower is better; comparable between models on a set, not between \
           sets.\n\n";

    let mut summary = String::from(
        "| set | EBM AUROC | best baseline AUROC | AUROC target | EBM NLL | GMM NLL | NLL target |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for (set, size) in r.sets.iter().zip(r.sizes) {
        let _ = write!(
            md,
            "### {set}\n\nd = {}; {} training rows, {} normal + {} anomalous test rows \
             (seed 0).\n\n| model | AUROC | held-out NLL | AUROC per seed | time per fit | notes |\n\
             |---|---|---|---|---|---|\n",
            size.dim, size.train, size.test_normal, size.test_anomalies
        );
        let mut rows: Vec<(&str, &str)> = VARIANTS.iter().map(|(k, _, l)| (*k, *l)).collect();
        rows.extend(BASELINES.iter().copied());
        for (key, label) in &rows {
            let s = summarise(r.outcomes, set, key);
            if s.auroc.is_empty() && s.failed == 0 {
                if VARIANTS.iter().any(|v| v.0 == *key) && size.train >= DEFAULT_VALIDATION_ROWS {
                    let _ = writeln!(
                        md,
                        "| {label} | = defaults | | | | not run: with {} training rows the \
                         default already holds out 10 % |",
                        size.train
                    );
                }
                continue;
            }
            let notes = if s.notes.is_empty() {
                String::new()
            } else {
                s.notes.join("; ")
            };
            let _ = writeln!(
                md,
                "| {label} | {} | {} | {} | {} | {notes} |",
                fmt_mean_sd(&s.auroc, 4),
                fmt_mean_sd(&s.nll, 2),
                s.auroc
                    .iter()
                    .map(|v| format!("{v:.4}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                fmt_seconds(&s.seconds),
            );
        }
        md += "\n";
        let ebm = summarise(r.outcomes, set, VARIANTS[0].0);
        let baselines: Vec<Summary> = BASELINES
            .iter()
            .map(|(k, _)| summarise(r.outcomes, set, k))
            .collect();
        let gmm = &baselines[0];
        let (auroc_met, nll_met) = targets_met(&ebm, &baselines, gmm);
        let best = BASELINES
            .iter()
            .zip(&baselines)
            .filter(|(_, b)| !b.auroc.is_empty())
            .max_by(|a, b| mean_sd(&a.1.auroc).0.total_cmp(&mean_sd(&b.1.auroc).0));
        let _ = writeln!(
            summary,
            "| {set} | {} | {} | {} | {} | {} | {} |",
            fmt_mean_sd(&ebm.auroc, 4),
            best.map_or("—".into(), |(b, s)| format!(
                "{} ({})",
                fmt_mean_sd(&s.auroc, 4),
                b.1
            )),
            yes_no(auroc_met),
            fmt_mean_sd(&ebm.nll, 2),
            fmt_mean_sd(&gmm.nll, 2),
            yes_no(nll_met),
        );
    }
    md += "### Targets\n\nThe plain-defaults EBM against the targets (means over seeds):\n\n";
    md += &summary;
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(set: &str, model: &str, seed: u64, auroc: f64, nll: Option<f64>) -> Obs {
        Obs {
            set: set.into(),
            seed,
            model: model.into(),
            auroc,
            nll,
            note: String::new(),
            seconds: 1.0,
        }
    }

    fn outcome(o: Obs) -> (String, String, u64, Outcome) {
        (o.set.clone(), o.model.clone(), o.seed, Ok(o))
    }

    #[test]
    fn mean_and_sample_sd() {
        let (m, s) = mean_sd(&[1.0, 2.0, 3.0]);
        assert_eq!(m, 2.0);
        assert!((s - 1.0).abs() < 1e-12);
        assert!(mean_sd(&[]).0.is_nan());
        let (m, s) = mean_sd(&[4.0]);
        assert_eq!(m, 4.0);
        assert!(s.is_nan());
        assert_eq!(fmt_mean_sd(&[0.9, 0.95, 1.0], 3), "0.950 ± 0.050");
        assert_eq!(fmt_mean_sd(&[0.9], 2), "0.90");
        assert_eq!(fmt_mean_sd(&[], 2), "—");
    }

    #[test]
    fn energies_csv_is_read_by_its_last_column() {
        let text = "index,x0,x1,energy\n0,1.5,2,-0.25\n1,3,4,7e-1\n\n";
        assert_eq!(parse_energies_csv(text).unwrap(), vec![-0.25, 0.7]);
        let err = parse_energies_csv("index,x0,energy\n0,1,abc\n").unwrap_err();
        assert!(
            format!("{err:#}").contains("line 2: `abc` is not a number"),
            "{err:#}"
        );
        let err = parse_energies_csv("index,x0,energy\n0,1\n").unwrap_err();
        assert!(
            format!("{err:#}").contains("2 cells, the header has 3"),
            "{err:#}"
        );
        assert!(parse_energies_csv("").is_err());
        assert!(parse_energies_csv("index,x0\n0,1\n").is_err());
    }

    #[test]
    fn baselines_json_is_parsed_and_bad_input_is_named() {
        let text = r#"{"sklearn": "1.9.1", "numpy": "2.4.6", "results": [
            {"set": "penguins", "seed": 0, "model": "gmm", "auroc": 0.97, "nll": 14.5,
             "param": "k = 1", "seconds": 0.8},
            {"set": "penguins", "seed": 0, "model": "ocsvm", "auroc": 0.98, "nll": null,
             "param": null, "seconds": 0.0}]}"#;
        let (versions, rows) = parse_baselines(text).unwrap();
        assert_eq!(versions, "scikit-learn 1.9.1, numpy 2.4.6");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].nll, Some(14.5));
        assert_eq!(rows[0].note, "k = 1");
        assert_eq!(rows[1].nll, None);
        assert_eq!(rows[1].note, "");
        assert!(parse_baselines("not json").is_err());
        assert!(parse_baselines(r#"{"results": 3}"#).is_err());
        let err = parse_baselines(r#"{"results": [{"set": "a", "seed": 0, "model": "gmm"}]}"#)
            .unwrap_err();
        assert!(err.to_string().contains("no `auroc`"), "{err}");
        let err = parse_baselines(
            r#"{"results": [{"set": "a", "seed": -1, "model": "gmm", "auroc": 1, "nll": 1}]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("`seed`"), "{err}");
    }

    #[test]
    fn summaries_and_targets() {
        let outcomes = vec![
            outcome(obs("s", "ebm", 0, 0.90, Some(10.0))),
            outcome(obs("s", "ebm", 1, 0.94, Some(12.0))),
            outcome(obs("s", "gmm", 0, 0.90, Some(11.5))),
            outcome(obs("s", "gmm", 1, 0.92, Some(11.5))),
            outcome(obs("s", "kde", 0, 0.95, Some(13.0))),
            outcome(obs("s", "kde", 1, 0.95, Some(13.0))),
            outcome(obs("t", "ebm", 0, 0.5, None)),
            ("t".into(), "ebm".into(), 1, Err("diverged".into())),
        ];
        let ebm = summarise(&outcomes, "s", "ebm");
        assert_eq!(ebm.auroc, vec![0.90, 0.94]);
        assert_eq!(ebm.nll, vec![10.0, 12.0]);
        let gmm = summarise(&outcomes, "s", "gmm");
        let kde = summarise(&outcomes, "s", "kde");
        // AUROC 0.92 < the KDE's 0.95; NLL 11 ≤ the GMM's 11.5.
        assert_eq!(
            targets_met(&ebm, &[gmm.clone(), kde.clone()], &gmm),
            (Some(false), Some(true))
        );
        assert_eq!(
            targets_met(&ebm, std::slice::from_ref(&gmm), &gmm),
            (Some(true), Some(true))
        );
        // A failed seed: no verdict, the failure noted.
        let t = summarise(&outcomes, "t", "ebm");
        assert_eq!(t.failed, 1);
        assert_eq!(t.notes, vec!["seed 1 failed: diverged".to_string()]);
        assert_eq!(
            targets_met(&t, std::slice::from_ref(&gmm), &gmm),
            (None, None)
        );
        // No baselines: no verdict.
        let none = summarise(&outcomes, "t", "gmm");
        assert_eq!(
            targets_met(&ebm, std::slice::from_ref(&none), &none),
            (None, None)
        );
    }

    #[test]
    fn baselines_cover_the_sets_and_seeds() {
        let mut obs_all = Vec::new();
        for seed in 0..2 {
            for (model, _) in BASELINES {
                obs_all.push(obs("penguins", model, seed, 0.9, None));
            }
        }
        assert!(covers(&obs_all, &["penguins"], 2));
        assert!(!covers(&obs_all, &["penguins"], 3));
        assert!(!covers(&obs_all, &["penguins", "digits"], 1));
        obs_all.pop();
        assert!(!covers(&obs_all, &["penguins"], 2));
    }

    #[test]
    fn the_section_has_a_table_per_set_and_the_targets() {
        let outcomes = vec![
            outcome(obs("penguins", "ebm", 0, 0.97, Some(14.0))),
            outcome(obs("penguins", "gmm", 0, 0.98, Some(14.5))),
        ];
        let size = SplitSize {
            dim: 4,
            train: 106,
            test_normal: 45,
            test_anomalies: 68,
        };
        let md = render(&Render {
            seeds: 1,
            iters: Some(100),
            sets: &["penguins"],
            all_sets: false,
            reuse: false,
            sizes: &[size],
            outcomes: &outcomes,
            versions: "scikit-learn 1.9.1, numpy 2.4.6",
            machine: "test machine",
            load: ("1.0", "1.1"),
            seconds: (1.0, 2.0, 3.0),
        });
        assert!(md.contains("`cargo xtask bench-real --seeds 1 --iters 100 --sets penguins`"));
        assert!(md.contains("### penguins\n\nd = 4; 106 training rows, 45 normal + 68"));
        assert!(
            md.contains("| emberflow, defaults | 0.9700 | 14.00 | 0.9700 | 1.0 s |  |"),
            "{md}"
        );
        assert!(
            md.contains("| GaussianMixture (k by BIC) | 0.9800 | 14.50 |"),
            "{md}"
        );
        assert!(
            md.contains("| penguins | 0.9700 | 0.9800 (GaussianMixture (k by BIC)) | **no** | 14.00 | 14.50 | yes |"),
            "{md}"
        );
    }
}

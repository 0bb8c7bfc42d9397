//! `emberflow train`: joint EBM + flow training on a built-in data set, the UCI digits or a CSV
//! file, exported to a model file, with a JSON report next to it.

use anyhow::{Context, Result, anyhow, bail};
use clap::Args as ClapArgs;
use emberflow_core::model::Encoding;
use emberflow_core::{Adaptation, FlowMcConfig, GlobalMove, Schedule};
use emberflow_train::data::{
    BuiltIn, Dataset, DigitsOptions, Scaling, Standardizer, default_validation_fraction, digits,
    load_csv, parse_class_weights, parse_classes, spread_ratio, validation_split,
};
use emberflow_train::export::{ExportMeta, to_bytes, to_bytes_with_threshold};
use emberflow_train::fs::write_bytes_atomically as write_atomic;
use emberflow_train::monitor::{Finished, Monitor};
use emberflow_train::report::{LogRecord, TrainReport};
use emberflow_train::shape::{parse_activation, parse_widths};
use emberflow_train::train::{Progress, Verdict, train_scored};
use emberflow_train::{Method, ModelShape, TrainConfig};
use std::io::Write;
use std::path::PathBuf;

/// `emberflow train` options.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// A built-in data set: the paper's two-modes, four-modes, eight-gaussians, rings, gmm-16,
    /// gmm-32, gmm-64; widths (2-D, mode widths 0.05/0.25/0.8, weights 0.5/0.3/0.2), slips-8,
    /// -16, -32, -64, -128 (SLIPS two modes, weights 2:1), weighted-24, weighted-100 (four
    /// modes, weights 0.1–0.4); or digits.
    #[arg(long, conflicts_with = "data", required_unless_present = "data")]
    dataset: Option<String>,
    /// A CSV file of numeric columns (header optional).
    #[arg(long)]
    data: Option<PathBuf>,
    /// How the data are scaled into model space: per-feature (each column by its own standard
    /// deviation: tabular data in mixed units), common (one scale, the largest standard
    /// deviation: keeps the geometry) or none. Default: per-feature for a CSV file, common
    /// for the built-in sets and the digits (the same units in every column). Stored in the
    /// model: samples and energies stay in data units.
    #[arg(long)]
    scale: Option<String>,
    /// Hold out this fraction of the rows (a seeded split) to measure the held-out negative
    /// log-likelihood at every evaluation. Default: 0.1 for a CSV file or the digits with at
    /// least 500 rows, 0 (off) otherwise and for the built-in synthetic sets; 0 disables.
    #[arg(long)]
    validation: Option<f64>,
    /// Stop after this many evaluations without a better validation NLL (default 10 with a
    /// validation set; 0: never). --iters and --time-budget remain caps.
    #[arg(long)]
    patience: Option<u64>,
    /// Which parameters to export: best (the evaluation with the lowest validation NLL; the
    /// default with a validation set) or last.
    #[arg(long)]
    keep: Option<String>,
    /// Store an anomaly threshold in the model: this quantile (in (0, 1), e.g. 0.99) of the
    /// energies of the validation rows (of the training rows without a validation set). The
    /// energies CSV of `emberflow energy` then flags the points above it, and so does the
    /// firmware's `energy` program.
    #[arg(long)]
    threshold_quantile: Option<f64>,
    /// Flow draws of the importance-sampled ln Z behind the held-out likelihood.
    #[arg(long, default_value_t = emberflow_train::monitor::DEFAULT_NLL_DRAWS)]
    nll_draws: usize,
    /// The energy network's hidden widths, input side first, e.g. 32,64,64,64 (1 to 6 layers
    /// of widths up to 1024). Default: 32,64,64,64 (the paper's) for d ≤ 64; above,
    /// w,64,64,64 with w = 8·ceil(d/16).
    #[arg(long)]
    energy_hidden: Option<String>,
    /// The energy's hidden activation: leaky-relu (default, slope 0.05), relu, silu or tanh.
    #[arg(long)]
    activation: Option<String>,
    /// Flow blocks (two affine couplings each, 1 to 16). Default: 4 for d ≤ 8, else 2.
    #[arg(long)]
    flow_blocks: Option<usize>,
    /// The flow conditioners' hidden widths (1 to 3 ReLU layers). Default: 16 at d = 2, 32
    /// for 3 ≤ d ≤ 31, 27 + floor(3d/8) from d = 32 (the paper's 39 at 32 and 51 at 64).
    #[arg(long)]
    flow_hidden: Option<String>,
    /// flowmc (default), ula, short-run or nf.
    #[arg(long, default_value = "flowmc")]
    method: String,
    /// Training iterations.
    #[arg(long, default_value_t = 1500)]
    iters: u64,
    /// Stop after this many seconds.
    #[arg(long)]
    time_budget: Option<f64>,
    /// Seed (data generation, initialisation, sampling).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Weight encoding of the written model: f32, int16 or int8.
    #[arg(long, default_value = "f32")]
    quantize: String,
    /// Batch size (data points and chains per iteration; at most the number of training rows).
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Persistent chains.
    #[arg(long, default_value_t = 8192)]
    bank: usize,
    /// i-SIR particles (0: independent MH instead).
    #[arg(long, default_value_t = 64)]
    particles: u16,
    /// MALA steps per round.
    #[arg(long, default_value_t = 15)]
    mala_steps: u16,
    /// Rounds per sweep.
    #[arg(long, default_value_t = 2)]
    rounds: u16,
    /// Learning rate of both models at the start.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Jitter the data points of every batch by N(0, S²) in model units (standard deviations
    /// of the scaled data): a kernel smoothing against overfitting a small data set. Default
    /// for a CSV file or the digits with n < 500 training rows: half of Silverman's bandwidth
    /// (4/(d+2))^(1/(d+4)) n^(-1/(d+4)), times 1 - n/500; otherwise 0.
    #[arg(long)]
    data_noise: Option<f64>,
    /// λ of the λ·(mean E(x⁺)² + mean E(x⁻)²) regulariser of the energy.
    #[arg(long)]
    energy_reg: Option<f64>,
    /// Decay of the exponential moving average of the parameters that is exported (0: export
    /// the last iterate).
    #[arg(long, default_value_t = 0.995)]
    ema: f64,
    /// Evaluate every this many iterations.
    #[arg(long, default_value_t = 50)]
    eval_every: u64,
    /// digits: the classes to keep, e.g. 0,1,7.
    #[arg(long)]
    classes: Option<String>,
    /// digits: the weight of each kept class, e.g. 0.2,0.3,0.5.
    #[arg(long)]
    class_weights: Option<String>,
    /// Where the gradient steps run: cpu, or cuda / cuda:N in a build with the `cuda` feature
    /// (the negatives are drawn on the CPU cores either way).
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Sampler threads (default: the number of cores).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress line.
    #[arg(long)]
    quiet: bool,
    /// Keep a checkpoint (`checkpoint.efck`) in this folder: every `--checkpoint-every`
    /// iterations and on Ctrl-C. Without it, Ctrl-C still saves one next to `--out`
    /// (`MODEL.efck`).
    #[arg(long)]
    checkpoint_dir: Option<PathBuf>,
    /// Checkpoint period in iterations.
    #[arg(long, default_value_t = 100)]
    checkpoint_every: u64,
    /// Continue the run saved in `--checkpoint-dir` (or, without it, in `MODEL.efck` next to
    /// `--out`); with the same options and seed the result is the same as an uninterrupted run.
    #[arg(long)]
    resume: bool,
    /// Also write these encodings of the same model next to `--out` (`MODEL_int8.efm`, …),
    /// e.g. `--also int8,int16`.
    #[arg(long, value_delimiter = ',')]
    also: Vec<String>,
    /// The model file to write.
    #[arg(long)]
    out: PathBuf,
}

fn quiet_flag(args: &Args) -> bool {
    args.quiet
}

fn parse_encoding(name: &str, flag: &str) -> Result<Encoding> {
    Ok(match name {
        "f32" => Encoding::F32,
        "int16" => Encoding::I16,
        "int8" => Encoding::I8,
        other => bail!("{flag}: unknown encoding `{other}` (expected f32, int16 or int8)"),
    })
}

struct Loaded {
    name: String,
    data: Dataset,
    truth: Option<BuiltIn>,
}

fn load(args: &Args) -> Result<Loaded> {
    if let Some(path) = &args.data {
        let data = load_csv(path).map_err(|e| anyhow!("{e}"))?;
        return Ok(Loaded {
            name: path.display().to_string(),
            data,
            truth: None,
        });
    }
    let name = args
        .dataset
        .as_deref()
        .context("--dataset or --data is required")?;
    if name == "digits" {
        let mut options = DigitsOptions::default();
        if let Some(c) = &args.classes {
            options.classes = parse_classes(c).map_err(|e| anyhow!("--classes: {e}"))?;
        }
        if let Some(w) = &args.class_weights {
            options.class_weights =
                Some(parse_class_weights(w).map_err(|e| anyhow!("--class-weights: {e}"))?);
        }
        options.seed = args.seed;
        let d = digits(&options).map_err(|e| anyhow!("digits: {e}"))?;
        return Ok(Loaded {
            name: "digits".into(),
            data: d.data,
            truth: None,
        });
    }
    let set: BuiltIn = name.parse().map_err(|e| anyhow!("--dataset: {e}"))?;
    Ok(Loaded {
        name: set.name().into(),
        data: set.sample(set.paper_len(), args.seed),
        truth: Some(set),
    })
}

/// Run `emberflow train`.
pub fn run(args: &Args) -> Result<()> {
    let method = Method::parse(&args.method)?;
    let encoding = parse_encoding(&args.quantize, "--quantize")?;
    for e in &args.also {
        parse_encoding(e, "--also")?;
    }
    if !(0.0..1.0).contains(&args.ema) {
        bail!("--ema must be in [0, 1)");
    }
    if args.batch == 0 || args.bank == 0 {
        bail!("--batch and --bank must be positive");
    }
    if args.particles == 1 {
        bail!("--particles: i-SIR needs at least 2 particles (0 selects independent MH)");
    }
    if let Some(t) = args.time_budget
        && !(t > 0.0 && t.is_finite())
    {
        bail!("--time-budget must be a positive number of seconds");
    }
    if let Some(f) = args.validation
        && !(0.0..1.0).contains(&f)
    {
        bail!("--validation must be a fraction in [0, 1), got {f}");
    }
    if let Some(q) = args.threshold_quantile
        && !(q > 0.0 && q < 1.0)
    {
        bail!("--threshold-quantile must be in (0, 1), got {q}");
    }
    if args.nll_draws < 2 {
        bail!("--nll-draws must be at least 2");
    }
    if let Some(other) = args
        .keep
        .as_deref()
        .filter(|k| !["best", "last"].contains(k))
    {
        bail!("--keep: `{other}` is neither best nor last");
    }
    let loaded = load(args)?;
    let scaling = match &args.scale {
        Some(s) => Scaling::parse(s).map_err(|e| anyhow!("{e}"))?,
        None if args.data.is_some() => Scaling::PerFeature,
        None => Scaling::Common,
    };
    let ratio = spread_ratio(&loaded.data);
    if args.scale.is_some() && scaling != Scaling::PerFeature && ratio > 100.0 {
        eprintln!(
            "warning: the columns' standard deviations differ by {ratio:.0}x; with --scale {} the \
             small-spread columns are nearly flat in model space (--scale per-feature scales each \
             column by its own)",
            scaling.name()
        );
    }
    let shape = model_shape(args, loaded.data.dim())?;
    let global = if args.particles == 0 {
        GlobalMove::Imh
    } else {
        GlobalMove::Isir {
            particles: args.particles,
        }
    };
    // Periodic checkpoints in --checkpoint-dir; without it, one next to the model on Ctrl-C.
    let (checkpoint, checkpoint_every) = match &args.checkpoint_dir {
        Some(d) => (d.join("checkpoint.efck"), args.checkpoint_every),
        None => (args.out.with_extension("efck"), 0),
    };
    let resume = if args.resume {
        Some(Box::new(
            emberflow_train::checkpoint::Checkpoint::load(&checkpoint)
                .with_context(|| format!("--resume: {}", checkpoint.display()))?,
        ))
    } else {
        None
    };
    let checkpoint = Some(checkpoint);
    // Ctrl-C: finish the current iteration, save a checkpoint, export what we have.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc::set_handler(move || stop.store(true, std::sync::atomic::Ordering::Relaxed));
    }
    let config = TrainConfig {
        method,
        checkpoint,
        checkpoint_every,
        resume,
        stop: Some(stop),
        iters: args.iters,
        time_budget: args.time_budget,
        batch: args.batch,
        bank: args.bank,
        lr_energy: args.lr,
        lr_flow: args.lr,
        ema: args.ema,
        sampler: FlowMcConfig {
            schedule: Schedule {
                global,
                mala_steps: args.mala_steps,
                rounds: args.rounds.max(1),
            },
            adaptation: Some(Adaptation::default()),
        },
        seed: args.seed,
        threads: args
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        eval_every: args.eval_every.max(1),
        device: emberflow_train::device::parse_device(&args.device).context("--device")?,
        shape: Some(shape),
        data_noise: args.data_noise.unwrap_or(0.0),
        energy_reg: args.energy_reg.unwrap_or(0.0),
        ..TrainConfig::default()
    };
    run_model(args, &loaded, scaling, &config, encoding)
}

/// The architecture: the default of the data's dimension, with the options' changes.
fn model_shape(args: &Args, dim: usize) -> Result<ModelShape> {
    let mut shape = ModelShape::default_for(dim);
    if let Some(w) = &args.energy_hidden {
        shape.energy_hidden = parse_widths(w, "--energy-hidden")?;
    }
    if let Some(a) = &args.activation {
        shape.activation = parse_activation(a).context("--activation")?;
    }
    if let Some(k) = args.flow_blocks {
        shape.flow_blocks = k;
    }
    if let Some(w) = &args.flow_hidden {
        shape.flow_hidden = parse_widths(w, "--flow-hidden")?;
    }
    shape
        .validate()
        .with_context(|| format!("the data have {dim} columns"))?;
    Ok(shape)
}

/// Below this many training rows, the default `--data-noise` smooths the data.
const SMALL_DATA: usize = 500;

/// The default jitter of the data points (model units) for `n` training rows in `d`
/// dimensions: half of Silverman's rule-of-thumb bandwidth `(4/(d+2))^{1/(d+4)} n^{−1/(d+4)}`,
/// faded linearly to 0 at [`SMALL_DATA`] rows (from there a validation set and early stopping
/// guard against overfitting). Measured with the unfaded half bandwidth on the real-data sets
/// of `cargo xtask bench-real` (seed 0, 750 iterations, 90 % of the training rows): held-out
/// NLL 17.2 → 14.8 on penguins (96 rows; 15.1 at noise 0.2), 165.9 → 103.2 on the digits (113
/// rows, d = 48), 28.5 → 28.8 on diabetes (249 rows; AUROC 0.62 → 0.66); the full bandwidth
/// over-smooths diabetes (NLL 29.9), on the 923 rows of the red wines 0.3 costs 0.17 nats, and
/// isotropic noise blurs strong correlations (the mixed-unit test of `train_cli`, 400 rows,
/// loses 0.03 AUROC at 0.26) — hence the fade.
fn default_data_noise(n: usize, d: usize) -> f64 {
    if n >= SMALL_DATA {
        return 0.0;
    }
    let fade = 1.0 - n as f64 / SMALL_DATA as f64;
    let (n, d) = (n as f64, d as f64);
    fade * 0.5 * (4.0 / (d + 2.0)).powf(1.0 / (d + 4.0)) * n.powf(-1.0 / (d + 4.0))
}

fn run_model(
    args: &Args,
    loaded: &Loaded,
    scaling: Scaling,
    config: &TrainConfig,
    encoding: Encoding,
) -> Result<()> {
    let fraction = args
        .validation
        .unwrap_or_else(|| default_validation_fraction(loaded.data.len(), loaded.truth.is_some()));
    let split = validation_split(&loaded.data, fraction, args.seed)
        .map_err(|e| anyhow!("--validation: {e}"))?;
    // The scaling is fitted on the training rows only.
    let std = Standardizer::for_scaling(&split.train, scaling).map_err(|e| anyhow!("{e}"))?;
    let model_data = std.apply(&split.train).map_err(|e| anyhow!("{e}"))?;
    if !args.quiet
        && let Some(shape) = &config.shape
    {
        eprintln!("model: {shape}");
    }
    let mut monitor = Monitor::new(loaded.truth, std.clone(), args.seed);
    if !split.validation.is_empty() {
        let val = std.apply(&split.validation).map_err(|e| anyhow!("{e}"))?;
        if !quiet_flag(args) {
            eprintln!(
                "validation: {} of {} rows held out (fraction {fraction})",
                val.len(),
                loaded.data.len()
            );
        }
        monitor = monitor.with_held_out(val, &model_data, args.nll_draws);
    }
    let mut log: Vec<LogRecord> = Vec::new();
    let quiet = args.quiet;
    let validating = !split.validation.is_empty();
    if !validating && (args.patience.is_some_and(|p| p > 0) || args.keep.as_deref() == Some("best"))
    {
        bail!("--patience and --keep best need a validation set (--validation FRACTION > 0)");
    }
    let config = &TrainConfig {
        patience: if validating {
            args.patience.unwrap_or(10)
        } else {
            0
        },
        keep_best: validating && args.keep.as_deref() != Some("last"),
        // a batch is at most the training rows (more would repeat rows within a step)
        batch: config.batch.min(model_data.len()),
        data_noise: match args.data_noise {
            Some(s) => s,
            None if loaded.truth.is_none() => {
                default_data_noise(model_data.len(), model_data.dim())
            }
            None => 0.0,
        },
        ..config.clone()
    };
    if args.data_noise.is_none() && config.data_noise > 0.0 && !quiet {
        eprintln!(
            "data noise: {:.3} (half Silverman's bandwidth for {} training rows in {} \
             dimensions, faded to 0 at {SMALL_DATA} rows: small data are smoothed against \
             overfitting; --data-noise 0 turns it off)",
            config.data_noise,
            model_data.len(),
            model_data.dim()
        );
    }
    if config.batch < args.batch && !quiet {
        eprintln!(
            "batch: {} (the number of training rows; --batch {} asked for more)",
            config.batch, args.batch
        );
    }
    let trained = train_scored(&model_data, 1.0, config, |p: &Progress<'_>| {
        let r = monitor.record(p, config);
        if !quiet {
            let mut line = format!(
                "\r[{:>6}/{}] {:>6.1}s  acc {:.2}/{:.2}  gap {:+.3}  flow {:.3}",
                r.iteration,
                config.iters,
                r.seconds,
                r.local_acceptance,
                r.global_acceptance,
                p.losses.0,
                p.losses.1
            );
            if let Some(m) = r.ebm_mse {
                line += &format!("  EBM MSE {m:.1e}");
            }
            if let Some(m) = r.neg_mse {
                line += &format!("  neg MSE {m:.1e}");
            }
            if let Some(m) = r.log_density_err {
                line += &format!("  ln p err {m:.3}");
            }
            if let Some(m) = r.rhat {
                line += &format!("  R^ {m:.3}");
            }
            if let (Some(t), Some(v)) = (r.train_nll, r.val_nll) {
                line += &format!("  NLL train/val {t:.3}/{v:.3}");
            }
            eprint!("{line}   ");
            std::io::stderr().flush().ok();
        }
        let score = r.val_nll.or(validating.then_some(f64::NAN));
        log.push(r);
        Verdict {
            keep_going: true,
            score,
        }
    })?;
    if !quiet {
        eprintln!();
    }
    if trained.interrupted {
        eprintln!(
            "interrupted at iteration {}{}",
            trained.iterations,
            config
                .checkpoint
                .as_ref()
                .map_or(String::new(), |p| format!(
                    "; checkpoint in {} (continue with --resume)",
                    p.display()
                ))
        );
    }
    if trained.rollbacks > 0 {
        eprintln!(
            "training diverged and was rolled back {} time(s) with halved learning rates",
            trained.rollbacks
        );
    }

    // Final evaluation on the exported (averaged) model.
    let mut model = trained.model()?;
    let views = model.views()?;
    let (energy, flow) = (&views.energy, &views.flow);
    let Finished {
        metrics,
        ebm_weights: final_ebm,
        neg_weights: fresh_weights,
    } = monitor.finish(energy, flow, config, trained.seconds);
    // The model choice first: the file keeps the first MAX_METRICS entries.
    let mut chosen: Vec<(String, f32)> = Vec::new();
    if let Some(l) = monitor.likelihood(energy, flow, config.threads) {
        chosen.push((
            "selected_iteration".into(),
            trained.exported_iteration as f32,
        ));
        chosen.push(("val_nll".into(), l.val_nll as f32));
        chosen.push(("ln_z".into(), l.log_z.ln_z as f32));
        chosen.push(("ln_z_se".into(), l.log_z.se as f32));
        if !quiet {
            eprintln!(
                "exported the parameters of iteration {} ({}): validation NLL {:.4}, ln Z {:.4} +/- {:.4}{}",
                trained.exported_iteration,
                if config.keep_best {
                    "best validation NLL"
                } else {
                    "last"
                },
                l.val_nll,
                l.log_z.ln_z,
                l.log_z.se,
                if trained.early_stopped {
                    "; stopped early (patience)"
                } else {
                    ""
                }
            );
        }
    }
    chosen.extend(metrics);
    let metrics = chosen;
    let true_weights = monitor.true_weights().map(<[f64]>::to_vec);

    let meta = ExportMeta {
        shift: std.shift.clone(),
        scale: std.scale.clone(),
        sampler: config.sampler,
        chains: config.bank as u32,
        dataset: loaded.name.clone(),
        seed: args.seed,
        metrics: metrics.clone(),
    };
    let probes: Vec<f32> = model_data
        .values()
        .iter()
        .take(2000 * model_data.dim())
        .copied()
        .collect();
    // The anomaly threshold's rows: the validation rows, else the training rows (data units).
    let held_out = if validating {
        &split.validation
    } else {
        &split.train
    };
    let export = |encoding: Encoding| -> Result<Vec<u8>> {
        let Some(q) = args.threshold_quantile else {
            return to_bytes(&trained, &meta, encoding, &probes);
        };
        let (bytes, t) =
            to_bytes_with_threshold(&trained, &meta, encoding, &probes, held_out.values(), q)
                .context("--threshold-quantile")?;
        if !quiet {
            eprintln!(
                "anomaly threshold ({encoding:?}): U > {t:.6} flags a point (the {q} quantile \
                 of the energies of the {} {} rows)",
                held_out.len(),
                if validating { "validation" } else { "training" }
            );
        }
        Ok(bytes)
    };
    let bytes = export(encoding)?;
    write_atomic(&args.out, &bytes)?;
    for name in &args.also {
        let extra = export(parse_encoding(name, "--also")?)?;
        let stem = args
            .out
            .file_stem()
            .map_or("model".into(), |s| s.to_string_lossy());
        let path = args.out.with_file_name(format!("{stem}_{name}.efm"));
        write_atomic(&path, &extra)?;
        println!("wrote {} ({} bytes)", path.display(), extra.len());
    }

    let report = report(
        args,
        loaded,
        &trained,
        &metrics,
        &final_ebm,
        &fresh_weights,
        &true_weights,
        &log,
    );
    let report_path = args.out.with_extension("json");
    report.write(&report_path)?;
    println!(
        "wrote {} ({} bytes, {:?}) and {} after {} iterations in {:.1} s",
        args.out.display(),
        bytes.len(),
        encoding,
        report_path.display(),
        trained.iterations,
        trained.seconds
    );
    for (k, v) in &metrics {
        println!("  {k}: {v:.4e}");
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn report(
    args: &Args,
    loaded: &Loaded,
    trained: &emberflow_train::Trained,
    metrics: &[(String, f32)],
    ebm: &Option<Vec<f64>>,
    fresh: &Option<Vec<f64>>,
    truth: &Option<Vec<f64>>,
    log: &[LogRecord],
) -> TrainReport {
    let finite = |v: f64| Some(v).filter(|x| x.is_finite());
    TrainReport {
        dataset: loaded.name.clone(),
        method: args.method.clone(),
        seed: args.seed,
        iterations: trained.iterations,
        train_seconds: trained.seconds,
        skipped_steps: [trained.skipped.0, trained.skipped.1],
        true_weights: truth.clone(),
        ebm_weights: ebm.clone(),
        neg_weights: fresh.clone(),
        metrics: metrics
            .iter()
            .map(|(k, v)| (k.clone(), finite(f64::from(*v))))
            .collect(),
        log: log.to_vec(),
    }
}

#[cfg(test)]
mod noise_tests {
    use super::default_data_noise;

    #[test]
    fn default_data_noise_is_half_silverman_faded_to_zero_at_500_rows() {
        // n = 100, d = 4: h = (4/6)^(1/8) · 100^(−1/8) = 0.5345; × 0.5 × (1 − 100/500)
        let h = (4.0f64 / 6.0).powf(0.125) * 100f64.powf(-0.125);
        assert!((default_data_noise(100, 4) - 0.5 * h * 0.8).abs() < 1e-12);
        assert_eq!(default_data_noise(500, 4), 0.0);
        assert_eq!(default_data_noise(60_000, 2), 0.0);
        let mut last = f64::INFINITY;
        for n in (10..500).step_by(10) {
            let s = default_data_noise(n, 10);
            assert!(s > 0.0 && s < last, "n = {n}: {s}");
            last = s;
        }
    }
}

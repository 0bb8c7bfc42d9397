//! `emberflow firmware …`: run the firmware programs under QEMU from the command line.

use super::settings::parse_global;
use super::{DIM, SampleSettings, sample_on_qemu, score_on_qemu};
use super::{write_energies_csv, write_samples_csv};
use anyhow::{Context, Result, anyhow, bail};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Usage of [`run_cli`].
pub const USAGE: &str = "\
usage: emberflow firmware run --n N [--chains C] [--seed S] --out FILE.csv [options]
       emberflow firmware energy --points FILE.csv --out FILE.csv [--model-seed M] [--timeout SECS]
       emberflow firmware decode --elf ELF [--input FILE]

Builds the firmware (firmware/, thumbv7em-none-eabihf) with the settings, runs it under
qemu-system-arm -machine mps2-an386 -icount shift=0, decodes its defmt output and writes CSV
(`-` for stdout). The model is the deterministic 2-D demo model of --model-seed until model
files can be compiled in.

run options:
  --n N              samples per chain (one per sweep)              [100]
  --chains C         number of chains                               [4]
  --seed S           sampling seed                                  [0]
  --warmup W         adapting warm-up sweeps per chain              [20]
  --model-seed M     demo model seed                                [1]
  --global G         none | imh | isir | isir:N                     [isir:64]
  --mala-steps K     MALA steps per round                           [15]
  --rounds R         rounds per sweep                               [2]
  --step-size E      initial MALA step size                         [0.1]
  --adapt A          off | on | optimal | target in (0,1)           [on]
  --timeout SECS     kill QEMU after this long                      [600]

decode: print the defmt frames in FILE (or stdin), as written by the firmware ELF (e.g.
captured from `qemu-system-arm … -kernel ELF > FILE`), then the run's summary.

energy: --points is a CSV of x0,x1 rows (a non-numeric first row is a header); the output
has columns index,x0,x1,energy with energy = U(x) = -ln pi(x) (unnormalised).";

/// Entry point of `emberflow firmware`: `args` are the words after `firmware`
/// (`["run", "--n", "100", "--out", "s.csv"]`).
pub fn run_cli(args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return Ok(());
    }
    match args.first().map(String::as_str) {
        Some("run") => cli_run(&args[1..]),
        Some("energy") => cli_energy(&args[1..]),
        Some("decode") => cli_decode(&args[1..]),
        None | Some("-h") | Some("--help") | Some("help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown `emberflow firmware` command `{other}`\n\n{USAGE}"),
    }
}

/// `--flag value` pairs, each flag at most once.
struct Flags<'a> {
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Flags<'a> {
    fn parse(args: &'a [String], known: &[&str]) -> Result<Self> {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            if !known.contains(&flag.as_str()) {
                bail!("unknown option `{flag}`\n\n{USAGE}");
            }
            let value = it.next().ok_or_else(|| anyhow!("`{flag}` needs a value"))?;
            if pairs.iter().any(|(f, _)| f == flag) {
                bail!("`{flag}` given twice");
            }
            pairs.push((flag, value));
        }
        Ok(Flags { pairs })
    }

    fn get(&self, flag: &str) -> Option<&'a str> {
        self.pairs.iter().find(|(f, _)| *f == flag).map(|(_, v)| *v)
    }

    fn parse_or<T: std::str::FromStr>(&self, flag: &str, default: T) -> Result<T>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(flag) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|e| anyhow!("`{flag} {v}`: {e}")),
        }
    }

    fn timeout(&self) -> Result<Duration> {
        Ok(Duration::from_secs_f64(self.parse_or("--timeout", 600.0)?))
    }
}

fn create(out: &str) -> Result<Box<dyn Write>> {
    Ok(if out == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::io::BufWriter::new(
            std::fs::File::create(out).with_context(|| format!("creating {out}"))?,
        ))
    })
}

fn cli_run(args: &[String]) -> Result<()> {
    let flags = Flags::parse(
        args,
        &[
            "--n",
            "--chains",
            "--seed",
            "--out",
            "--warmup",
            "--model-seed",
            "--global",
            "--mala-steps",
            "--rounds",
            "--step-size",
            "--adapt",
            "--timeout",
            "--model",
        ],
    )?;
    if let Some(m) = flags.get("--model") {
        bail!(
            "`--model {m}`: model files cannot be compiled into the firmware yet; the firmware \
             runs the deterministic demo model of `--model-seed`"
        );
    }
    let out = flags
        .get("--out")
        .ok_or_else(|| anyhow!("`--out FILE.csv` is required (`-` for stdout)"))?;
    let d = SampleSettings::default();
    let settings = SampleSettings {
        seed: flags.parse_or("--seed", d.seed)?,
        chains: flags.parse_or("--chains", d.chains)?,
        n: flags.parse_or("--n", d.n)?,
        warmup: flags.parse_or("--warmup", d.warmup)?,
        model_seed: flags.parse_or("--model-seed", d.model_seed)?,
        global: match flags.get("--global") {
            Some(g) => parse_global(g)?,
            None => d.global,
        },
        mala_steps: flags.parse_or("--mala-steps", d.mala_steps)?,
        rounds: flags.parse_or("--rounds", d.rounds)?,
        step_size: flags.parse_or("--step-size", d.step_size)?,
        adapt_target: match flags.get("--adapt") {
            None => d.adapt_target,
            Some("off") | Some("none") => None,
            Some("on") | Some("default") => d.adapt_target,
            Some("optimal") => Some(emberflow_core::Adaptation::optimal_mala().target),
            Some(t) => Some(
                t.parse()
                    .map_err(|_| anyhow!("`--adapt {t}`: expected off, on, optimal or a number"))?,
            ),
        },
    };
    settings.validate()?;
    let (run, report) = sample_on_qemu(&settings, flags.timeout()?)?;
    write_samples_csv(create(out)?, report.dim, &report.samples)?;
    eprintln!("{}", report.summary());
    eprintln!(
        "QEMU ran {} in {:.2} s; samples written to {out}",
        run.elf.display(),
        run.qemu.wall.as_secs_f64()
    );
    Ok(())
}

/// Read `x0,x1` rows (a non-numeric first row is a header).
pub fn read_points_csv(path: &Path) -> Result<Vec<[f32; DIM]>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut points = Vec::new();
    for (k, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let values: Result<Vec<f32>, _> = line.split(',').map(|v| v.trim().parse()).collect();
        match values {
            Ok(v) if v.len() == DIM => points.push([v[0], v[1]]),
            Ok(v) => bail!(
                "{}:{}: {} values, expected {DIM}",
                path.display(),
                k + 1,
                v.len()
            ),
            Err(_) if k == 0 => continue,
            Err(e) => bail!("{}:{}: {e}", path.display(), k + 1),
        }
    }
    Ok(points)
}

fn cli_energy(args: &[String]) -> Result<()> {
    let flags = Flags::parse(args, &["--points", "--out", "--model-seed", "--timeout"])?;
    let points_path = flags
        .get("--points")
        .ok_or_else(|| anyhow!("`--points FILE.csv` is required"))?;
    let out = flags
        .get("--out")
        .ok_or_else(|| anyhow!("`--out FILE.csv` is required (`-` for stdout)"))?;
    let points = read_points_csv(Path::new(points_path))?;
    let (run, report) = score_on_qemu(
        flags.parse_or("--model-seed", 1u64)?,
        &points,
        flags.timeout()?,
    )?;
    write_energies_csv(create(out)?, report.dim, &report.scores)?;
    eprintln!("{}", report.summary());
    eprintln!(
        "QEMU ran {} in {:.2} s; energies written to {out}",
        run.elf.display(),
        run.qemu.wall.as_secs_f64()
    );
    Ok(())
}

fn cli_decode(args: &[String]) -> Result<()> {
    let flags = Flags::parse(args, &["--elf", "--input"])?;
    let elf = flags
        .get("--elf")
        .ok_or_else(|| anyhow!("`--elf ELF` is required"))?;
    let elf = std::fs::read(elf).with_context(|| format!("reading {elf}"))?;
    let stream = match flags.get("--input") {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {path}"))?,
        None => {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut buf)?;
            buf
        }
    };
    let frames = super::decode_frames(&elf, &stream)?;
    for f in &frames {
        println!("{f}");
    }
    match super::Report::parse(&frames) {
        Ok(report) => eprintln!("{}", report.summary()),
        Err(e) => eprintln!("(no complete report: {e})"),
    }
    Ok(())
}

//! `emberflow firmware …`: run the firmware programs under QEMU from the command line.

use super::settings::{parse_adapt, parse_global};
use super::{
    ModelFile, SampleSettings, read_points_csv, sample_on_qemu, score_on_qemu, write_atomically,
    write_energies_csv, write_samples_csv,
};
use anyhow::{Context, Result, anyhow, bail};
use std::path::Path;
use std::time::Duration;

/// Usage of [`run_cli`].
pub const USAGE: &str = "\
usage: emberflow firmware run --model M.efm --n N [--chains C] [--seed S] --out FILE.csv [options]
       emberflow firmware energy --model M.efm --points FILE.csv --out FILE.csv [--timeout SECS]
       emberflow firmware decode --elf ELF [--input FILE]

Builds the firmware (firmware/, thumbv7em-none-eabihf) with the model file compiled in, runs it
under qemu-system-arm -machine mps2-an386 -icount shift=0, decodes its defmt output and writes
CSV (`-` for stdout). `run` writes the samples in data units, byte for byte what
`emberflow sample` writes for the same model and options.

run options (the schedule, step size and adaptation default to the model's sampler settings):
  --n N              samples per chain (one per sweep)              (required)
  --chains C         number of chains                               [4]
  --seed S           sampling seed                                  [0]
  --warmup W         adapting warm-up sweeps per chain              [20]
  --global G         none | imh | isir | isir:N                     [the model's]
  --mala-steps K     MALA steps per round                           [the model's]
  --rounds R         rounds per sweep                               [the model's]
  --step-size E      initial MALA step size                         [the model's]
  --adapt A          off | on | optimal | target in (0,1)           [the model's]
  --timeout SECS     kill QEMU after this long                      [600]

energy: --points is a CSV of points in data units (a non-numeric first row is a header; if
it names x0..x{d-1}, those columns are read); the output has columns index,x0..x{d-1},energy
with energy = U = -ln pi (unnormalised, model space), as `emberflow energy` writes it.

decode: print the defmt frames in FILE (or stdin), as written by the firmware ELF (e.g.
captured from `qemu-system-arm … -kernel ELF > FILE`), then the run's summary.";

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

    fn parse_some<T: std::str::FromStr>(&self, flag: &str) -> Result<Option<T>>
    where
        T::Err: std::fmt::Display,
    {
        self.get(flag)
            .map(|v| v.parse().map_err(|e| anyhow!("`{flag} {v}`: {e}")))
            .transpose()
    }

    fn timeout(&self) -> Result<Duration> {
        let secs: f64 = self.parse_or("--timeout", 600.0)?;
        if !(secs.is_finite() && secs > 0.0) {
            bail!("`--timeout {secs}`: expected a positive number of seconds");
        }
        Ok(Duration::from_secs_f64(secs))
    }
}

/// The sampling options shared by `emberflow firmware run` and `emberflow sample`.
pub const SAMPLE_FLAGS: [&str; 9] = [
    "--chains",
    "--seed",
    "--warmup",
    "--global",
    "--mala-steps",
    "--rounds",
    "--step-size",
    "--adapt",
    "--n",
];

fn settings(flags: &Flags<'_>) -> Result<SampleSettings> {
    let d = SampleSettings::default();
    Ok(SampleSettings {
        seed: flags.parse_or("--seed", d.seed)?,
        chains: flags.parse_or("--chains", d.chains)?,
        n: flags
            .get("--n")
            .ok_or_else(|| anyhow!("`--n N` (samples per chain) is required"))?
            .parse()
            .map_err(|e| anyhow!("`--n`: {e}"))?,
        warmup: flags.parse_or("--warmup", d.warmup)?,
        global: flags.get("--global").map(parse_global).transpose()?,
        mala_steps: flags.parse_some("--mala-steps")?,
        rounds: flags.parse_some("--rounds")?,
        step_size: flags.parse_some("--step-size")?,
        adapt: flags.get("--adapt").map(parse_adapt).transpose()?,
    })
}

fn required<'a>(flags: &Flags<'a>, flag: &str, what: &str) -> Result<&'a str> {
    flags
        .get(flag)
        .ok_or_else(|| anyhow!("`{flag} {what}` is required"))
}

fn cli_run(args: &[String]) -> Result<()> {
    let mut known = SAMPLE_FLAGS.to_vec();
    known.extend(["--model", "--out", "--timeout"]);
    let flags = Flags::parse(args, &known)?;
    let model = required(&flags, "--model", "M.efm")?;
    let out = required(&flags, "--out", "FILE.csv (`-` for stdout)")?;
    let settings = settings(&flags)?;
    let (run, report) = sample_on_qemu(Path::new(model), &settings, flags.timeout()?)?;
    write_atomically(out, |w| write_samples_csv(w, report.dim, &report.samples))?;
    eprintln!("{}", report.summary());
    eprintln!(
        "QEMU ran {} in {:.2} s; samples written to {out}",
        run.elf.display(),
        run.qemu.wall.as_secs_f64()
    );
    Ok(())
}

fn cli_energy(args: &[String]) -> Result<()> {
    let flags = Flags::parse(args, &["--model", "--points", "--out", "--timeout"])?;
    let model = required(&flags, "--model", "M.efm")?;
    let points_path = required(&flags, "--points", "FILE.csv")?;
    let out = required(&flags, "--out", "FILE.csv (`-` for stdout)")?;
    let file = ModelFile::read(Path::new(model))?;
    let points = read_points_csv(Path::new(points_path), file.dim)?;
    let (run, report) = score_on_qemu(Path::new(model), &points, flags.timeout()?)?;
    write_atomically(out, |w| write_energies_csv(w, report.dim, &report.scores))?;
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

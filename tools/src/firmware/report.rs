//! The `ef:*` frames of `firmware/src/frames.rs`, parsed into a [`Report`].
//!
//! A message is a tag and `key=value` fields separated by spaces; a value is a plain token or
//! a bracketed list (`x=[1065353216, 3212836864]`). Floats arrive as their IEEE-754 bits.

use super::decode::LogFrame;
use super::settings::SampleSettings;
use anyhow::{Context, Result, anyhow, bail};
use std::collections::BTreeMap;

/// One recorded state: chain `chain` after sweep `index`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Chain number.
    pub chain: u16,
    /// Sample (sweep) index within the chain.
    pub index: u32,
    /// The state.
    pub x: Vec<f32>,
}

/// One scored point.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    /// Point number.
    pub index: u32,
    /// The point.
    pub x: Vec<f32>,
    /// `U(x) = −ln π(x)` (unnormalised).
    pub energy: f32,
}

/// A chain's counts over its recorded sweeps.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ChainSummary {
    /// Chain number.
    pub chain: u16,
    /// MALA proposals.
    pub local_proposed: u64,
    /// MALA proposals accepted.
    pub local_accepted: u64,
    /// Global moves.
    pub global_proposed: u64,
    /// Global moves that changed the state.
    pub global_accepted: u64,
    /// Proposals rejected for a non-finite value.
    pub nonfinite: u64,
    /// The chain's final MALA step size.
    pub step_size: f32,
}

/// What the measured steps of one kind cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cost {
    /// `mala`, `global` or `energy`.
    pub kind: String,
    /// `insns` (QEMU, exact under icount) or `cycles` (a board's DWT).
    pub unit: String,
    /// Steps measured.
    pub count: u64,
    /// Units in total.
    pub total: u64,
    /// Cheapest step.
    pub min: u32,
    /// Dearest step.
    pub max: u32,
}

impl Cost {
    /// Mean units per step.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.total as f64 / self.count as f64
        }
    }
}

/// The stack measured by painting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    /// Stack high-water mark, bytes.
    pub stack: u32,
    /// Stack region size, bytes.
    pub stack_capacity: u32,
}

/// Everything a program reported.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// The `ef:begin` fields (raw).
    pub begin: BTreeMap<String, String>,
    /// Dimension of the states / points.
    pub dim: usize,
    /// Samples, in arrival order.
    pub samples: Vec<Sample>,
    /// Scores, in arrival order.
    pub scores: Vec<Score>,
    /// The anomaly threshold the `energy` program applied (its model's), if any.
    pub threshold: Option<f32>,
    /// The points the `energy` program flagged (`ef:alarm`), in arrival order.
    pub alarms: Vec<u32>,
    /// Per-chain counts.
    pub chains: Vec<ChainSummary>,
    /// Costs.
    pub costs: Vec<Cost>,
    /// Stack use.
    pub memory: Option<Memory>,
    /// Frames that are not `ef:*` records (log lines).
    pub log: Vec<LogFrame>,
}

/// A parsed `ef:*` message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    /// `ef:s`, `ef:chain`, …
    pub tag: &'a str,
    /// The fields in order.
    pub fields: Vec<(&'a str, &'a str)>,
}

impl<'a> Message<'a> {
    /// Parse `text`; `None` if it is not an `ef:` record.
    pub fn parse(text: &'a str) -> Option<Result<Message<'a>>> {
        if !text.starts_with("ef:") {
            return None;
        }
        let (tag, mut rest) = text.split_once(' ').unwrap_or((text, ""));
        let mut fields = Vec::new();
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            let Some((key, after)) = rest.split_once('=') else {
                return Some(Err(anyhow!("field without `=` in `{text}`")));
            };
            let end = if after.starts_with('[') {
                match after.find(']') {
                    Some(i) => i + 1,
                    None => return Some(Err(anyhow!("unclosed list in `{text}`"))),
                }
            } else {
                after.find(' ').unwrap_or(after.len())
            };
            fields.push((key, &after[..end]));
            rest = &after[end..];
        }
        Some(Ok(Message { tag, fields }))
    }

    /// The raw value of `key`.
    pub fn get(&self, key: &str) -> Result<&'a str> {
        self.fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .ok_or_else(|| anyhow!("`{}` frame without `{key}`", self.tag))
    }

    /// `key` as an integer.
    pub fn int<T: std::str::FromStr>(&self, key: &str) -> Result<T> {
        let v = self.get(key)?;
        v.parse()
            .map_err(|_| anyhow!("`{}`: `{key}={v}` is not a valid integer", self.tag))
    }

    /// `key` as f32 bits.
    pub fn float(&self, key: &str) -> Result<f32> {
        Ok(f32::from_bits(self.int::<u32>(key)?))
    }

    /// `key` as a list of f32 bits.
    pub fn floats(&self, key: &str) -> Result<Vec<f32>> {
        let v = self.get(key)?;
        let inner = v
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .ok_or_else(|| anyhow!("`{}`: `{key}` is not a list", self.tag))?;
        inner
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<u32>()
                    .map(f32::from_bits)
                    .map_err(|_| anyhow!("`{}`: bad element `{s}` in `{key}`", self.tag))
            })
            .collect()
    }
}

impl Report {
    /// Parse a program's frames. Fails on an error frame, on a malformed record and when the
    /// run did not reach `ef:end` (or the record count there disagrees).
    pub fn parse(frames: &[LogFrame]) -> Result<Report> {
        let mut r = Report::default();
        let mut ended = None;
        for frame in frames {
            if frame.level == Some("error") {
                bail!("the firmware reported an error: {}", frame.message);
            }
            let Some(msg) = Message::parse(&frame.message) else {
                r.log.push(frame.clone());
                continue;
            };
            let msg = msg?;
            (|| -> Result<()> {
                match msg.tag {
                    "ef:begin" => {
                        r.begin = msg
                            .fields
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect();
                        r.dim = msg.int("d")?;
                        if msg.fields.iter().any(|(k, _)| *k == "threshold") {
                            r.threshold = Some(msg.float("threshold")?);
                        }
                    }
                    "ef:alarm" => r.alarms.push(msg.int("i")?),
                    "ef:s" => r.samples.push(Sample {
                        chain: msg.int("c")?,
                        index: msg.int("i")?,
                        x: msg.floats("x")?,
                    }),
                    "ef:e" => r.scores.push(Score {
                        index: msg.int("i")?,
                        x: msg.floats("x")?,
                        energy: msg.float("u")?,
                    }),
                    "ef:chain" => r.chains.push(ChainSummary {
                        chain: msg.int("c")?,
                        local_proposed: msg.int("local_proposed")?,
                        local_accepted: msg.int("local_accepted")?,
                        global_proposed: msg.int("global_proposed")?,
                        global_accepted: msg.int("global_accepted")?,
                        nonfinite: msg.int("nonfinite")?,
                        step_size: msg.float("step_size")?,
                    }),
                    "ef:cost" => r.costs.push(Cost {
                        kind: msg.get("kind")?.to_string(),
                        unit: msg.get("unit")?.to_string(),
                        count: msg.int("count")?,
                        total: msg.int("total")?,
                        min: msg.int("min")?,
                        max: msg.int("max")?,
                    }),
                    "ef:memory" => {
                        r.memory = Some(Memory {
                            stack: msg.int("stack")?,
                            stack_capacity: msg.int("stack_capacity")?,
                        })
                    }
                    "ef:end" => ended = Some(msg.int::<u64>("records")?),
                    _ => r.log.push(frame.clone()),
                }
                Ok(())
            })()
            .with_context(|| format!("in frame `{}`", frame.message))?;
        }
        if r.begin.is_empty() {
            bail!("the firmware sent no `ef:begin` frame");
        }
        let Some(records) = ended else {
            bail!("the firmware stopped before `ef:end`");
        };
        let got = (r.samples.len() + r.scores.len()) as u64;
        if records != got {
            bail!("the firmware sent {records} records by its count, {got} arrived");
        }
        for x in r
            .samples
            .iter()
            .map(|s| &s.x)
            .chain(r.scores.iter().map(|s| &s.x))
        {
            if x.len() != r.dim {
                bail!("a record has {} coordinates, d = {}", x.len(), r.dim);
            }
        }
        Ok(r)
    }

    /// Check the samples are the `chains × n` grid `settings` asks for, chain by chain.
    pub fn check_sample_shape(&self, settings: &SampleSettings) -> Result<()> {
        let want = usize::from(settings.chains) * settings.n as usize;
        if self.samples.len() != want || self.chains.len() != usize::from(settings.chains) {
            bail!(
                "expected {} chains × {} samples, got {} samples and {} chain summaries",
                settings.chains,
                settings.n,
                self.samples.len(),
                self.chains.len()
            );
        }
        for (k, s) in self.samples.iter().enumerate() {
            let (c, i) = (k / settings.n as usize, k % settings.n as usize);
            if usize::from(s.chain) != c || s.index as usize != i {
                bail!(
                    "sample {k} is chain {} index {}, expected {c}/{i}",
                    s.chain,
                    s.index
                );
            }
        }
        Ok(())
    }

    /// The cost record of `kind`.
    pub fn cost(&self, kind: &str) -> Option<&Cost> {
        self.costs.iter().find(|c| c.kind == kind)
    }

    /// Summed chain counts (the `chain` field is meaningless).
    pub fn totals(&self) -> ChainSummary {
        let mut t = ChainSummary::default();
        for c in &self.chains {
            t.local_proposed += c.local_proposed;
            t.local_accepted += c.local_accepted;
            t.global_proposed += c.global_proposed;
            t.global_accepted += c.global_accepted;
            t.nonfinite += c.nonfinite;
        }
        t
    }

    /// Fraction of MALA proposals accepted, over all chains.
    pub fn local_acceptance(&self) -> f64 {
        let t = self.totals();
        ratio(t.local_accepted, t.local_proposed)
    }

    /// Fraction of global moves that changed the state, over all chains.
    pub fn global_acceptance(&self) -> f64 {
        let t = self.totals();
        ratio(t.global_accepted, t.global_proposed)
    }

    /// Mean final step size over the chains.
    pub fn mean_step_size(&self) -> f64 {
        if self.chains.is_empty() {
            return 0.0;
        }
        self.chains
            .iter()
            .map(|c| f64::from(c.step_size))
            .sum::<f64>()
            / self.chains.len() as f64
    }

    /// A one-paragraph human summary.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let t = self.totals();
        if !self.samples.is_empty() {
            s.push_str(&format!(
                "{} samples from {} chains (d = {}); MALA acceptance {:.3} ({}/{}), global \
                 acceptance {:.3} ({}/{}), non-finite rejections {}, mean step size {:.4}",
                self.samples.len(),
                self.chains.len(),
                self.dim,
                self.local_acceptance(),
                t.local_accepted,
                t.local_proposed,
                self.global_acceptance(),
                t.global_accepted,
                t.global_proposed,
                t.nonfinite,
                self.mean_step_size()
            ));
        }
        if !self.scores.is_empty() {
            s.push_str(&format!(
                "{} points scored (d = {})",
                self.scores.len(),
                self.dim
            ));
            if let Some(t) = self.threshold {
                s.push_str(&format!(
                    "; {} flagged as anomalies (U > {t})",
                    self.alarms.len()
                ));
            }
        }
        for c in &self.costs {
            s.push_str(&format!(
                "\n{}: {:.0} {} per step (min {}, max {}, {} steps)",
                c.kind,
                c.mean(),
                c.unit,
                c.min,
                c.max,
                c.count
            ));
        }
        if let Some(m) = self.memory {
            s.push_str(&format!(
                "\nstack high-water mark {} B of {} B",
                m.stack, m.stack_capacity
            ));
        }
        s
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

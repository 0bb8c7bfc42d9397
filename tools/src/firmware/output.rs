//! Writing results as CSV.
//!
//! Floats are written in Rust's shortest round-trip form, so reading a file back gives the
//! exact f32 values the firmware computed.

use super::protocol::{Sample, Score};
use anyhow::Result;
use std::io::Write;

/// `chain,index,x0,…,x{d−1}`, one sample a row.
pub fn write_samples_csv<W: Write>(mut w: W, dim: usize, samples: &[Sample]) -> Result<()> {
    write!(w, "chain,index")?;
    for j in 0..dim {
        write!(w, ",x{j}")?;
    }
    writeln!(w)?;
    for s in samples {
        write!(w, "{},{}", s.chain, s.index)?;
        for v in &s.x {
            write!(w, ",{v}")?;
        }
        writeln!(w)?;
    }
    w.flush()?;
    Ok(())
}

/// `index,x0,…,x{d−1},energy`, one point a row (`energy` = `U(x) = −ln π(x)`, unnormalised).
pub fn write_energies_csv<W: Write>(mut w: W, dim: usize, scores: &[Score]) -> Result<()> {
    write!(w, "index")?;
    for j in 0..dim {
        write!(w, ",x{j}")?;
    }
    writeln!(w, ",energy")?;
    for s in scores {
        write!(w, "{}", s.index)?;
        for v in &s.x {
            write!(w, ",{v}")?;
        }
        writeln!(w, ",{}", s.energy)?;
    }
    w.flush()?;
    Ok(())
}

/// Replace the section of `doc` under the level-2 `heading` (up to the next `## ` heading)
/// with `body` (which starts with the heading), or append `body` when there is no such
/// section; everything else is kept.
pub fn replace_markdown_section(doc: &str, heading: &str, body: &str) -> String {
    let body = body.trim_end();
    let lines: Vec<&str> = doc.lines().collect();
    let start = lines.iter().position(|l| l.trim_end() == heading);
    let mut out = String::new();
    match start {
        Some(s) => {
            let end = lines[s + 1..]
                .iter()
                .position(|l| l.starts_with("## "))
                .map_or(lines.len(), |k| s + 1 + k);
            for l in &lines[..s] {
                out.push_str(l);
                out.push('\n');
            }
            out.push_str(body);
            out.push('\n');
            if end < lines.len() {
                out.push('\n');
                for l in &lines[end..] {
                    out.push_str(l);
                    out.push('\n');
                }
            }
        }
        None => {
            out.push_str(doc.trim_end());
            out.push_str("\n\n");
            out.push_str(body);
            out.push('\n');
        }
    }
    out
}

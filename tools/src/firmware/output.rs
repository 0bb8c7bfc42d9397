//! Results as CSV, and points read from CSV.
//!
//! Floats are written in Rust's shortest round-trip form, so reading a file back gives the
//! exact f32 values the firmware computed. Files are written atomically ([`write_atomically`]).

use super::report::{Sample, Score};
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::Path;

/// Write `out` with `write`: `-` is stdout; a file is written to a temporary file next to it
/// and renamed over it only when complete, so a failed run never leaves a partial file.
pub fn write_atomically(out: &str, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    if out == "-" {
        let mut stdout = std::io::stdout().lock();
        return write(&mut stdout);
    }
    let path = Path::new(out);
    let name = path
        .file_name()
        .with_context(|| format!("`{out}` is not a file name"))?;
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> Result<()> {
        let file = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut w = std::io::BufWriter::new(file);
        write(&mut w)?;
        let file = w
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        file.sync_all()
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot rename {} to {out}", tmp.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Points of `dim` coordinates from a CSV file: one point a row, numbers separated by commas;
/// blank lines are skipped. A first row that is not all numbers is a header; when it names
/// the columns `x0` … `x{dim−1}` (as `emberflow sample` writes them), those columns are read
/// and the others ignored, otherwise every row must have exactly `dim` values. A value that is
/// not a finite number is an error naming its line and column.
pub fn read_points_csv(path: &Path, dim: usize) -> Result<Vec<Vec<f32>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut header_seen = false;
    // the columns of x0 … x{dim−1} when a header names them
    let mut named: Option<Vec<usize>> = None;
    let mut points = Vec::new();
    for (k, line) in text.lines().enumerate() {
        let (line_no, line) = (k + 1, line.trim());
        if line.is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if !header_seen && points.is_empty() && cells.iter().any(|c| c.parse::<f32>().is_err()) {
            header_seen = true;
            named = (0..dim)
                .map(|j| cells.iter().position(|c| *c == format!("x{j}")))
                .collect();
            continue;
        }
        let columns: Vec<usize> = match &named {
            Some(columns) => columns.clone(),
            None if cells.len() == dim => (0..dim).collect(),
            None => bail!(
                "{}:{line_no}: {} values, expected {dim} (the model's dimension)",
                path.display(),
                cells.len()
            ),
        };
        let mut point = Vec::with_capacity(dim);
        for j in columns {
            let cell = cells.get(j).copied().unwrap_or("");
            match cell.parse::<f32>() {
                Ok(v) if v.is_finite() => point.push(v),
                _ => bail!(
                    "{}:{line_no}, column {}: `{cell}` is not a finite number",
                    path.display(),
                    j + 1
                ),
            }
        }
        points.push(point);
    }
    Ok(points)
}

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

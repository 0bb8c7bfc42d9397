//! Results as CSV, and points read from CSV.
//!
//! Floats are written in Rust's shortest round-trip form, so reading a file back gives the
//! exact f32 values the firmware computed. The commands write these files atomically
//! ([`emberflow_train::fs::write_atomically_to`]); points are read with emberflow-train's CSV
//! reader ([`read_points_csv`]).

use super::report::{Sample, Score};
use anyhow::{Context, Result, anyhow, bail};
use emberflow_core::model::is_anomaly;
use emberflow_train::data::{CsvError, CsvErrorKind, parse_csv};
use std::io::Write;
use std::path::Path;

/// Points of `dim` coordinates from a CSV file, one point a row, by the rules of
/// [`emberflow_train::data::load_csv`] (a first row without any number is a header; blank lines
/// and `#` comments are skipped). When the header names the columns `x0` … `x{dim−1}` (as
/// `emberflow sample` writes them), those columns are read and the others ignored; otherwise
/// every row must have exactly `dim` values. An empty file gives no points. A value that is not
/// a finite number is an error naming its line and column.
pub fn read_points_csv(path: &Path, dim: usize) -> Result<Vec<Vec<f32>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let source = path.display().to_string();
    let table = match parse_csv(&text, &source) {
        Ok(table) => table,
        Err(CsvError {
            kind: CsvErrorKind::NoData,
            ..
        }) => return Ok(Vec::new()),
        Err(e) => return Err(points_error(e)),
    };
    let (header, first_row) = header_and_first_row(&text);
    let named: Option<Vec<usize>> = header.and_then(|h| {
        (0..dim)
            .map(|j| h.iter().position(|c| *c == format!("x{j}")))
            .collect()
    });
    let columns = match named {
        Some(columns) => columns,
        None if table.dim() == dim => (0..dim).collect(),
        None => bail!(
            "{source}:{first_row}: {} values, expected {dim} (the model's dimension)",
            table.dim()
        ),
    };
    Ok(table
        .rows()
        .map(|row| columns.iter().map(|&j| row[j]).collect())
        .collect())
}

/// A CSV error in the words of [`read_points_csv`]: `FILE:LINE, column C: …`.
fn points_error(e: CsvError) -> anyhow::Error {
    let at = format!("{}:{}", e.source, e.line.unwrap_or(0));
    let column = e.column.unwrap_or(0);
    match &e.kind {
        CsvErrorKind::NotANumber { text } | CsvErrorKind::NonFinite { text } => {
            anyhow!("{at}, column {column}: `{text}` is not a finite number")
        }
        // A short row: its first missing value is empty.
        CsvErrorKind::ColumnCount { expected, found } if found < expected => {
            anyhow!("{at}, column {column}: `` is not a finite number")
        }
        CsvErrorKind::ColumnCount { expected, found } => {
            anyhow!("{at}: {found} values, expected {expected} (the columns of the first row)")
        }
        _ => anyhow!("{e}"),
    }
}

/// The header's fields (the first row, when none of its fields is a number) and the 1-based
/// line of the first data row, by the rules of [`parse_csv`].
fn header_and_first_row(text: &str) -> (Option<Vec<&str>>, usize) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = text
        .split('\n')
        .enumerate()
        .map(|(k, line)| (k + 1, line.strip_suffix('\r').unwrap_or(line)))
        .filter(|(_, line)| !(line.trim().is_empty() || line.trim().starts_with('#')));
    let Some((first_line, first)) = rows.next() else {
        return (None, 1);
    };
    let fields: Vec<&str> = first.split(',').map(clean_field).collect();
    if fields.iter().any(|f| f.parse::<f32>().is_ok()) {
        return (None, first_line);
    }
    (Some(fields), rows.next().map_or(first_line + 1, |(k, _)| k))
}

/// A field without surrounding blanks and one pair of surrounding double quotes (as
/// [`parse_csv`] reads it).
fn clean_field(field: &str) -> &str {
    let f = field.trim();
    f.strip_prefix('"')
        .and_then(|g| g.strip_suffix('"'))
        .map_or(f, str::trim)
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

/// `index,x0,…,x{d−1},energy`, one point a row (`energy` = `U(x) = −ln π(x)`, unnormalised),
/// and with a `threshold` an `anomaly` column: 1 where [`is_anomaly`] flags the point, else 0.
pub fn write_energies_csv<W: Write>(
    mut w: W,
    dim: usize,
    scores: &[Score],
    threshold: Option<f32>,
) -> Result<()> {
    write!(w, "index")?;
    for j in 0..dim {
        write!(w, ",x{j}")?;
    }
    write!(w, ",energy")?;
    if threshold.is_some() {
        write!(w, ",anomaly")?;
    }
    writeln!(w)?;
    for s in scores {
        write!(w, "{}", s.index)?;
        for v in &s.x {
            write!(w, ",{v}")?;
        }
        write!(w, ",{}", s.energy)?;
        if let Some(t) = threshold {
            write!(w, ",{}", u8::from(is_anomaly(s.energy, t)))?;
        }
        writeln!(w)?;
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

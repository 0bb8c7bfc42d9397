//! User data from CSV: numeric columns, comma-separated, an optional header line (rules on
//! [`load_csv`]).

use super::dataset::Dataset;
use std::fmt;
use std::path::Path;

/// Why a CSV file could not be read, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvError {
    /// The file (or the source name given to [`parse_csv`]).
    pub source: String,
    /// 1-based line, when the problem is on a line.
    pub line: Option<usize>,
    /// 1-based column (field index), when the problem is in a field.
    pub column: Option<usize>,
    /// What went wrong.
    pub kind: CsvErrorKind,
}

/// The kind of a [`CsvError`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsvErrorKind {
    /// The file could not be read (the I/O error's message).
    Io(String),
    /// The bytes are not UTF-8.
    InvalidUtf8,
    /// A field is not a number.
    NotANumber {
        /// The field as written (trimmed).
        text: String,
    },
    /// A field is NaN, infinite, or beyond the f32 range.
    NonFinite {
        /// The field as written (trimmed).
        text: String,
    },
    /// A row has the wrong number of fields; the column is the first missing or extra one.
    ColumnCount {
        /// Fields in the first row.
        expected: usize,
        /// Fields in this row.
        found: usize,
    },
    /// No data rows (an empty file, or only a header, blank lines and comments).
    NoData,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(column) = self.column {
            write!(f, ", column {column}")?;
        }
        write!(f, ": ")?;
        match &self.kind {
            CsvErrorKind::Io(msg) => write!(f, "cannot read the file: {msg}"),
            CsvErrorKind::InvalidUtf8 => write!(f, "the text is not valid UTF-8"),
            CsvErrorKind::NotANumber { text } => write!(f, "`{text}` is not a number"),
            CsvErrorKind::NonFinite { text } => {
                write!(f, "`{text}` is not a finite f32 value")
            }
            CsvErrorKind::ColumnCount { expected, found } => write!(
                f,
                "expected {expected} column{}, found {found}",
                if *expected == 1 { "" } else { "s" }
            ),
            CsvErrorKind::NoData => write!(f, "no data rows"),
        }
    }
}

impl std::error::Error for CsvError {}

/// Read a numeric CSV file into a [`Dataset`].
///
/// Rules, in order:
/// * the text must be UTF-8 (a leading byte-order mark is ignored); `\n` or `\r\n` line ends;
/// * blank lines and lines whose first non-blank character is `#` are skipped;
/// * the first remaining line is a **header** when *none* of its fields parses as a number
///   (so `x,y` is a header, but `1.5,abc` is a data row with a bad cell);
/// * every data row has the same number of fields as the first row (header or data): the
///   dimension `d ≥ 1`;
/// * a field is a decimal or scientific number, optionally padded with spaces and optionally in
///   double quotes; it must be finite in f32 (`nan`, `inf` and values beyond ±3.4e38 are
///   rejected);
/// * at least one data row.
///
/// Every failure is a [`CsvError`] that names the file, the 1-based line and, where there is
/// one, the 1-based column. Nothing panics on bad input.
pub fn load_csv(path: impl AsRef<Path>) -> Result<Dataset, CsvError> {
    let path = path.as_ref();
    let source = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| CsvError {
        source: source.clone(),
        line: None,
        column: None,
        kind: CsvErrorKind::Io(e.to_string()),
    })?;
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            let before = &bytes[..e.valid_up_to()];
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            return Err(CsvError {
                source,
                line: Some(before.iter().filter(|&&b| b == b'\n').count() + 1),
                column: Some(before[line_start..].iter().filter(|&&b| b == b',').count() + 1),
                kind: CsvErrorKind::InvalidUtf8,
            });
        }
    };
    parse_csv(text, &source)
}

/// Parse CSV text into a [`Dataset`] by the rules of [`load_csv`]; `source` names the input in
/// error messages.
pub fn parse_csv(text: &str, source: &str) -> Result<Dataset, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let err = |line: usize, column: Option<usize>, kind| CsvError {
        source: source.to_owned(),
        line: Some(line),
        column,
        kind,
    };
    let mut dim: Option<usize> = None;
    let mut values = Vec::new();
    let mut first = true;
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = index + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(clean_field).collect();
        if first {
            first = false;
            dim = Some(fields.len());
            if fields.iter().all(|f| f.parse::<f32>().is_err()) {
                continue; // header
            }
        }
        let expected = dim.unwrap_or(fields.len());
        if fields.len() != expected {
            let column = expected.min(fields.len()) + 1;
            return Err(err(
                line_no,
                Some(column),
                CsvErrorKind::ColumnCount {
                    expected,
                    found: fields.len(),
                },
            ));
        }
        for (c, field) in fields.iter().enumerate() {
            match field.parse::<f32>() {
                Ok(v) if v.is_finite() => values.push(v),
                Ok(_) => {
                    return Err(err(
                        line_no,
                        Some(c + 1),
                        CsvErrorKind::NonFinite {
                            text: (*field).to_owned(),
                        },
                    ));
                }
                Err(_) => {
                    return Err(err(
                        line_no,
                        Some(c + 1),
                        CsvErrorKind::NotANumber {
                            text: (*field).to_owned(),
                        },
                    ));
                }
            }
        }
    }
    match dim {
        Some(d) if !values.is_empty() => Ok(Dataset::from_trusted(d, values)),
        _ => Err(CsvError {
            source: source.to_owned(),
            line: None,
            column: None,
            kind: CsvErrorKind::NoData,
        }),
    }
}

/// A field without surrounding blanks and without one pair of surrounding double quotes.
fn clean_field(field: &str) -> &str {
    let f = field.trim();
    f.strip_prefix('"')
        .and_then(|g| g.strip_suffix('"'))
        .map_or(f, str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Dataset, CsvError> {
        parse_csv(text, "t.csv")
    }

    #[test]
    fn plain_header_quotes_comments_and_crlf() {
        let d = parse("1,2\n3,4\n").unwrap();
        assert_eq!((d.dim(), d.values()), (2, &[1.0, 2.0, 3.0, 4.0][..]));
        let d = parse("\u{feff}\"x\", y\r\n# a comment\r\n\r\n 1.5 , \"-2e-1\"\r\n3,4").unwrap();
        assert_eq!(d.values(), &[1.5, -0.2, 3.0, 4.0]);
        let d = parse("v\n1\n2\n3\n").unwrap();
        assert_eq!((d.dim(), d.len()), (1, 3));
    }

    #[test]
    fn bad_cell_names_line_and_column() {
        let e = parse("x,y,z\n1,2,3\n4,abc,6\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(3), Some(2)));
        assert_eq!(e.kind, CsvErrorKind::NotANumber { text: "abc".into() });
        assert_eq!(
            e.to_string(),
            "t.csv, line 3, column 2: `abc` is not a number"
        );
        // A bad cell in the first row is a bad row, not a header.
        let e = parse("1.0,abc\n2,3\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(1), Some(2)));
        // An empty cell.
        let e = parse("1,2\n3,\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(2)));
    }

    #[test]
    fn non_finite_and_out_of_range() {
        for bad in ["nan", "inf", "-Infinity", "1e39"] {
            let e = parse(&format!("a,b\n1,2\n\n3,{bad}\n")).unwrap_err();
            assert_eq!((e.line, e.column), (Some(4), Some(2)), "{bad}");
            assert!(matches!(e.kind, CsvErrorKind::NonFinite { .. }), "{bad}");
        }
    }

    #[test]
    fn wrong_column_counts() {
        let e = parse("1,2,3\n4,5\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(3)));
        assert_eq!(
            e.kind,
            CsvErrorKind::ColumnCount {
                expected: 3,
                found: 2
            }
        );
        let e = parse("a,b\n1,2,3\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(3)));
        assert!(e.to_string().contains("expected 2 columns, found 3"));
    }

    #[test]
    fn empty_inputs() {
        for text in ["", "\n\n", "x,y\n", "# only\n"] {
            assert_eq!(
                parse(text).unwrap_err().kind,
                CsvErrorKind::NoData,
                "{text:?}"
            );
        }
    }

    #[test]
    fn files_and_io_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, "x\n1\n2\n").unwrap();
        assert_eq!(load_csv(&path).unwrap().values(), &[1.0, 2.0]);
        std::fs::write(&path, b"1,2\n3,\xff\n").unwrap();
        let e = load_csv(&path).unwrap_err();
        assert_eq!(
            (e.line, e.column, &e.kind),
            (Some(2), Some(2), &CsvErrorKind::InvalidUtf8)
        );
        assert!(e.to_string().starts_with(&path.display().to_string()));
        let e = load_csv(dir.path().join("missing.csv")).unwrap_err();
        assert!(matches!(e.kind, CsvErrorKind::Io(_)));
        assert!(e.to_string().contains("missing.csv"));
    }
}

//! Reading the operator's files row by row (the directory, price lists, the meter map): one error type naming the
//! line and column of every problem, and one CSV reader and one JSON reader, so every importer reports the same way
//! and all problems of a file come back at once (at most 100).
use serde::{Deserialize, Serialize};

/// Problems reported of one file at most; the rest would not be read.
pub const MAX_ERRORS: usize = 100;

/// A problem in a file, by place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// CSV line (the header is line 1) or JSON array index + 1; 0 for the file as a whole.
    pub line: usize,
    /// The column (as the header names it) or `file`/`row`.
    pub column: String,
    /// What is wrong, with the value.
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, {}: {}", self.line, self.column, self.message)
    }
}

/// A problem at `line`, `column`.
pub fn err(line: usize, column: &str, message: impl Into<String>) -> RowError {
    RowError { line, column: column.into(), message: message.into() }
}

/// A GUID cell; a refusal names the value (its first 40 characters).
pub fn guid(line: usize, column: &str, v: &str, errors: &mut Vec<RowError>) -> Option<uuid::Uuid> {
    uuid::Uuid::parse_str(v)
        .map_err(|_| errors.push(err(line, column, format!("“{}” is not a GUID", crate::domain::text::echo(v)))))
        .ok()
}

/// A number cell, with a dot before the decimals (an exponent is read too); a refusal names the value.
pub fn number(line: usize, column: &str, v: &str, errors: &mut Vec<RowError>) -> Option<rust_decimal::Decimal> {
    use std::str::FromStr;
    rust_decimal::Decimal::from_str(v)
        .or_else(|_| rust_decimal::Decimal::from_scientific(v))
        .map_err(|_| {
            let shown = crate::domain::text::echo(v);
            errors.push(err(line, column, format!("“{shown}” is not a number (a dot before the decimals)")))
        })
        .ok()
}

/// "`what` refused; nothing was stored:" and the problems, one per line (`prefix` before each), at most 100.
pub fn refusal(what: &str, prefix: &str, errors: &[RowError]) -> String {
    let lines: Vec<String> = errors.iter().take(MAX_ERRORS).map(|e| format!("{prefix}{e}")).collect();
    format!("{what} refused; nothing was stored:\n{}", lines.join("\n"))
}

/// A header as compared: letters and digits only, lower case (`Meter ID`, `meterId`, `METER_ID` are one).
pub fn normalise(h: &str) -> String {
    h.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase()
}

/// Column positions by accepted spellings; errors name the first spelling.
fn columns<const N: usize>(header: &csv::StringRecord, wanted: [&[&str]; N]) -> Result<[usize; N], Vec<RowError>> {
    let mut index = [0; N];
    let mut errors = Vec::new();
    for (i, names) in wanted.iter().enumerate() {
        match header.iter().position(|h| names.iter().any(|n| normalise(h) == normalise(n))) {
            Some(p) => index[i] = p,
            None => errors.push(err(1, names[0], format!("the header has no “{}” column", names[0]))),
        }
    }
    if errors.is_empty() {
        Ok(index)
    } else {
        Err(errors)
    }
}

/// Reads a CSV (a byte-order mark is ignored, Windows line ends too, cells trimmed, columns found by header in any order and spelling)
/// with `row`, which gives the row, `None` for a row to skip, or its problems. The rows and the number skipped, or
/// every problem.
pub fn read_csv<T, const N: usize>(
    text: &str,
    wanted: [&[&str]; N],
    mut row: impl FnMut(usize, [&str; N]) -> Result<Option<T>, Vec<RowError>>,
) -> Result<(Vec<T>, usize), Vec<RowError>> {
    // Line ends as Windows writes them (Partner Center's and Excel's exports) become `\n`: with `\r\n` the reader
    // starts each record at the `\n` it left behind, one line early, so every problem was named a line too high.
    let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| vec![err(1, "header", e.to_string())])?.clone();
    let index = columns(&header, wanted)?;
    let (mut rows, mut errors, mut skipped) = (Vec::new(), Vec::new(), 0);
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(err(e.position().map_or(0, |p| p.line() as usize), "row", e.to_string()));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        match row(line, index.map(|i| record.get(i).unwrap_or(""))) {
            Ok(Some(r)) => rows.push(r),
            Ok(None) => skipped += 1,
            Err(mut e) => errors.append(&mut e),
        }
        if errors.len() >= MAX_ERRORS {
            break;
        }
    }
    if errors.is_empty() {
        Ok((rows, skipped))
    } else {
        Err(errors)
    }
}

/// Reads a JSON array of objects whose keys are the columns (any spelling [`normalise`] equates; string values)
/// with `row`, numbering rows by index + 1.
pub fn read_json<T, const N: usize>(
    text: &str,
    names: [&str; N],
    mut row: impl FnMut(usize, [&str; N]) -> Result<T, Vec<RowError>>,
) -> Result<Vec<T>, Vec<RowError>> {
    let items: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(text)
        .map_err(|e| vec![err(e.line(), "file", format!("not a JSON array of objects: {e}"))])?;
    let (mut rows, mut errors) = (Vec::new(), Vec::new());
    for (i, item) in items.iter().enumerate() {
        let get = |name: &str| {
            item.iter().find(|(k, _)| normalise(k) == normalise(name)).and_then(|(_, v)| v.as_str()).unwrap_or("")
        };
        match row(i + 1, names.map(get)) {
            Ok(r) => rows.push(r),
            Err(mut e) => errors.append(&mut e),
        }
        if errors.len() >= MAX_ERRORS {
            break;
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_named_by_their_line_with_windows_line_ends_too() {
        for end in ["\n", "\r\n"] {
            let text = ["\u{feff}A,B", "1,x", "y,2"].join(end) + end;
            let errors = read_csv(&text, [&["A"], &["B"]], |line, [a, b]| {
                let bad: Vec<RowError> = [("A", a), ("B", b)]
                    .into_iter()
                    .filter(|(_, v)| v.parse::<i32>().is_err())
                    .map(|(c, v)| err(line, c, format!("{v} is not a number")))
                    .collect();
                if bad.is_empty() {
                    Ok(Some(()))
                } else {
                    Err(bad)
                }
            })
            .unwrap_err();
            let places: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
            assert_eq!(places, [(2, "B"), (3, "A")], "line ends {end:?}");
        }
    }
}

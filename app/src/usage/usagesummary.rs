//! Reading the CSV that AzureStack-Tools' `Usagesummary.ps1` writes (DOMAIN §6) into the same [`UsageRecord`]s as a
//! usage API page, one data row at a time so an upload never holds the whole file.
//!
//! What the reader accepts, and why:
//! - **Layout.** `Export-Csv -NoTypeInformation`: a header row, then one row per usage aggregate. Columns are found by
//!   header name (trimmed, any case), so reordered or extra columns are fine. `UsageStartTime`, `UsageEndTime`,
//!   `Quantity`, `MeterId`, `subscription` and `resourceUri` must be present; `location`, `tags` and `additionalInfo`
//!   are read when present; the rest (`MeterName`, `subowner`, …) are derived by the script and ignored.
//! - **Encoding.** UTF-8, with or without the BOM Windows PowerShell writes. A UTF-16 file (`-Encoding Unicode`) is
//!   refused with a hint rather than read as garbage. A `#TYPE …` line (an export without `-NoTypeInformation`) is
//!   skipped, which is safe because every exported field starts with a quote. If the header row has more `;` than
//!   `,` the file is read with `;` between fields, as `Export-Csv -UseCulture` writes in de-DE or fr-FR.
//! - **Dates.** PowerShell prints a `DateTime` in the exporting machine's culture, so these are read:
//!   RFC 3339 / ISO 8601 with `Z` or an offset; ISO without an offset (`2017-09-06T00:00:00`, `2017-09-06 00:00:00`,
//!   fractions allowed); en-US `9/6/2017 12:00:00 AM` (month first whenever AM/PM is present, 12-hour clock);
//!   `6/9/2017 00:00:00` day first whenever there is no AM/PM (en-GB, fr-FR, …); de-DE `06.09.2017 00:00:00`; and
//!   year-first `2017/09/06 0:00:00` (ja-JP, zh-CN), which cannot be misread. Seconds may be left out (a spreadsheet
//!   re-save drops them). Any Unicode space separates the parts, since .NET on ICU puts U+202F before `AM`.
//!   A value without an offset is UTC: the script passes on the usage API's UTC times untouched. Everything is
//!   returned in UTC. A slash date with no AM/PM is never taken as month-first: en-US PowerShell always prints AM/PM.
//! - **Quantity.** Exact decimal text as in a JSON page (scientific notation too); a single `,` and no `.` is a
//!   decimal comma (de-DE prints `0,5`; .NET never groups thousands when printing a double). Negative is refused.
//! - **Empty values.** IDs, dates and quantity must not be empty; `resourceUri` and `location` may be, as in a page.
//!   `tags` and `additionalInfo` are PowerShell's rendering of an object (`@{a=b}`), not JSON, so a non-empty one is kept
//!   as a JSON string and an empty one as `None`.
//! - **Errors.** One item per data row: `index` is the 0-based data row, `line` the 1-based line where it starts,
//!   `field` the header name as written in the file, and the message quotes the value. A column that is read must be
//!   UTF-8; the others may hold anything.
use std::io::{self, Chain, Cursor, Read};

use csv::{ByteRecord, ReaderBuilder};

use super::culture_dates::date_time;
use super::parse::{decimal_quantity, guid, window, RecordError, UsageRecord};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How much is read looking for the header row before giving up on choosing a delimiter (a real header is ~200 bytes).
const HEADER_SEARCH: usize = 64 * 1024;

/// Whether an upload is a usage API page rather than a CSV: its first non-space byte, after an optional UTF-8 BOM,
/// is `{` or `[` (a subscription list may be a bare array). A CSV header starts with a quote or a letter.
pub fn looks_like_json(first_bytes: &[u8]) -> bool {
    let bytes = first_bytes.strip_prefix(BOM).unwrap_or(first_bytes);
    matches!(bytes.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'['))
}

/// Reads a `Usagesummary.ps1` CSV row by row.
pub struct UsageSummaryReader<R: Read> {
    csv: csv::Reader<Newlines<Chain<Cursor<Vec<u8>>, R>>>,
    columns: Columns,
    row: ByteRecord,
    index: usize,
    done: bool,
}

impl<R: Read> UsageSummaryReader<R> {
    /// Reads and checks the header; Err names the missing required columns (index None, line = the header's, which is 1
    /// unless a `#TYPE` line comes first, field = the columns), a read column given twice, or an unreadable file.
    pub fn new(mut reader: R) -> Result<Self, RecordError> {
        let file_error = |line: u64, field: &str, message: String| RecordError {
            index: None,
            line: Some(line),
            field: field.into(),
            message,
        };
        // The head is read by hand so the BOM and the delimiter are settled before the csv crate sees a byte; it is
        // then put back in front of the rest of the stream.
        let mut head = read_head(&mut reader).map_err(|e| file_error(1, "file", format!("could not be read: {e}")))?;
        if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
            return Err(file_error(
                1,
                "file",
                "is UTF-16; export it as UTF-8 (Export-Csv -Encoding UTF8) and upload it again".into(),
            ));
        }
        if head.starts_with(BOM) {
            head.drain(..BOM.len());
        }
        let delimiter = delimiter(&head);
        let mut csv = ReaderBuilder::new()
            .has_headers(false)
            .delimiter(delimiter)
            .comment(Some(b'#'))
            .from_reader(Newlines::new(Cursor::new(head).chain(reader)));
        let mut header = ByteRecord::new();
        if let Err(e) = csv.read_byte_record(&mut header) {
            return Err(file_error(1, "file", format!("the header row could not be read: {e}")));
        }
        let line = start_line(&csv, &header);
        let columns = Columns::from_header(&header).map_err(|(field, message)| file_error(line, &field, message))?;
        Ok(Self { csv, columns, row: ByteRecord::new(), index: 0, done: false })
    }
}

impl<R: Read> Iterator for UsageSummaryReader<R> {
    type Item = Result<UsageRecord, Vec<RecordError>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let index = self.index;
        match self.csv.read_byte_record(&mut self.row) {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                self.index += 1;
                Some(self.columns.record(&self.row, index, start_line(&self.csv, &self.row)))
            }
            Err(e) => {
                if let csv::ErrorKind::UnequalLengths { expected_len, len, .. } = e.kind() {
                    // The row was consumed, so the next one can still be read and reported on.
                    self.index += 1;
                    return Some(Err(vec![RecordError {
                        index: Some(index),
                        line: Some(start_line(&self.csv, &self.row)),
                        field: "row".into(),
                        message: format!("has {len} fields; the header has {expected_len}"),
                    }]));
                }
                // A failing stream may fail forever; one report is enough.
                self.done = true;
                Some(Err(vec![RecordError {
                    index: None,
                    line: Some(self.csv.position().line()),
                    field: "file".into(),
                    message: format!("could not be read: {e}"),
                }]))
            }
        }
    }
}

/// The line a record just read starts on. The csv crate's own record positions are wrong whenever it skipped
/// something first (the LF of a CRLF, a blank or `#` line), but its count of newlines consumed is right; behind
/// [`Newlines`] every record ends in exactly one, so counting back over it and over those inside quoted fields works.
fn start_line<R: Read>(csv: &csv::Reader<R>, record: &ByteRecord) -> u64 {
    let inside = record.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
    csv.position().line().saturating_sub(1 + inside).max(1)
}

/// Turns CRLF and lone CR into LF and ends the last line with one, so every record ends in exactly one `\n`.
struct Newlines<R> {
    inner: R,
    /// The last byte was a CR, already given out as LF, so an LF right after it is dropped.
    after_cr: bool,
    last: Option<u8>,
    ended: bool,
}

impl<R> Newlines<R> {
    fn new(inner: R) -> Self {
        Self { inner, after_cr: false, last: None, ended: false }
    }
}

impl<R: Read> Read for Newlines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while !self.ended && !buf.is_empty() {
            let n = self.inner.read(buf)?;
            if n == 0 {
                self.ended = true;
                if self.last.is_some_and(|b| b != b'\n') {
                    buf[0] = b'\n';
                    return Ok(1);
                }
                break;
            }
            // Rewritten in place: no byte is ever added, so the output never overtakes the input.
            let mut out = 0;
            for i in 0..n {
                let b = buf[i];
                if std::mem::take(&mut self.after_cr) && b == b'\n' {
                    continue;
                }
                self.after_cr = b == b'\r';
                buf[out] = if self.after_cr { b'\n' } else { b };
                out += 1;
            }
            if out > 0 {
                self.last = Some(buf[out - 1]);
                return Ok(out);
            }
        }
        Ok(0)
    }
}

/// Reads until the header row (the first line that is neither blank nor a `#` comment) is complete, the stream ends,
/// or [`HEADER_SEARCH`] bytes have been read.
fn read_head(reader: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 8192];
    while head.len() < HEADER_SEARCH && header_line(&head, false).is_none() {
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(head)
}

/// The header row within `head`; an unterminated last line counts only when `at_end`.
fn header_line(head: &[u8], at_end: bool) -> Option<&[u8]> {
    let head = head.strip_prefix(BOM).unwrap_or(head);
    let mut lines = head.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let complete = lines.peek().is_some();
        if !complete && !at_end {
            return None;
        }
        let text = line.strip_suffix(b"\r").unwrap_or(line);
        if !text.is_empty() && !text.starts_with(b"#") {
            return Some(text);
        }
    }
    None
}

/// Header names hold neither `,` nor `;`, so whichever separates more of them is the delimiter.
fn delimiter(head: &[u8]) -> u8 {
    let line = header_line(head, true).unwrap_or_default();
    let count = |d: u8| line.iter().filter(|&&b| b == d).count();
    if count(b';') > count(b',') {
        b';'
    } else {
        b','
    }
}

/// Where each column we read sits in a row, and every header name as written (errors quote it).
struct Columns {
    names: Vec<String>,
    start: usize,
    end: usize,
    quantity: usize,
    meter: usize,
    subscription: usize,
    resource_uri: usize,
    location: Option<usize>,
    tags: Option<usize>,
    additional_info: Option<usize>,
}

const REQUIRED: [&str; 6] = ["UsageStartTime", "UsageEndTime", "Quantity", "MeterId", "subscription", "resourceUri"];
const OPTIONAL: [&str; 3] = ["location", "tags", "additionalInfo"];

impl Columns {
    /// `Err((field, message))` for missing required columns or a read column given twice.
    fn from_header(header: &ByteRecord) -> Result<Self, (String, String)> {
        let names: Vec<String> = header.iter().map(|h| String::from_utf8_lossy(h).trim().to_string()).collect();
        let find = |wanted: &str| -> Result<Option<usize>, (String, String)> {
            let mut at = names.iter().enumerate().filter(|(_, n)| n.eq_ignore_ascii_case(wanted)).map(|(i, _)| i);
            let first = at.next();
            match (first, at.next()) {
                // Two columns of one name leave no honest way to choose between them.
                (Some(i), Some(_)) => Err((names[i].clone(), "appears twice in the header row".into())),
                _ => Ok(first),
            }
        };
        let mut required = [0; REQUIRED.len()];
        let mut missing = Vec::new();
        for (slot, name) in required.iter_mut().zip(REQUIRED) {
            match find(name)? {
                Some(i) => *slot = i,
                None => missing.push(name),
            }
        }
        if !missing.is_empty() {
            return Err((
                missing.join(", "),
                format!(
                    "missing required column(s) {}; a Usagesummary.ps1 export has {}",
                    missing.join(", "),
                    REQUIRED.join(", ")
                ),
            ));
        }
        let [location, tags, additional_info] = OPTIONAL;
        let [start, end, quantity, meter, subscription, resource_uri] = required;
        Ok(Self {
            start,
            end,
            quantity,
            meter,
            subscription,
            resource_uri,
            location: find(location)?,
            tags: find(tags)?,
            additional_info: find(additional_info)?,
            names,
        })
    }

    fn record(&self, row: &ByteRecord, index: usize, line: u64) -> Result<UsageRecord, Vec<RecordError>> {
        let mut r = Row { columns: self, row, index, line: Some(line), errors: Vec::new() };
        let start = r.required(self.start, date_time);
        let end = r.required(self.end, date_time);
        if let (Some(s), Some(e)) = (start, end) {
            if let Err(m) = window(s, e, &self.names[self.start]) {
                r.fail(self.end, m);
            }
        }
        let quantity = r.required(self.quantity, quantity);
        let meter = r.required(self.meter, guid);
        let subscription = r.required(self.subscription, guid);
        let resource_uri = r.text(Some(self.resource_uri)).map(str::to_string);
        let location = r.text(self.location).map(str::to_string);
        let object = |t: &str| (!t.is_empty()).then(|| serde_json::Value::String(t.to_string()));
        let tags = r.text(self.tags).map(object);
        let additional_info = r.text(self.additional_info).map(object);
        match (start, end, quantity, meter, subscription, resource_uri, location, tags, additional_info) {
            (
                Some(start),
                Some(end),
                Some(quantity),
                Some(meter_id),
                Some(local_subscription_id),
                Some(resource_uri),
                Some(location),
                Some(tags),
                Some(additional_info),
            ) if r.errors.is_empty() => Ok(UsageRecord {
                local_subscription_id,
                meter_id,
                start,
                end,
                quantity,
                resource_uri,
                location,
                tags,
                additional_info,
            }),
            _ => Err(r.errors),
        }
    }
}

/// One data row being read; collects every problem so the user fixes a row once.
struct Row<'a> {
    columns: &'a Columns,
    row: &'a ByteRecord,
    index: usize,
    line: Option<u64>,
    errors: Vec<RecordError>,
}

impl<'a> Row<'a> {
    fn fail(&mut self, column: usize, message: String) {
        self.errors.push(RecordError {
            index: Some(self.index),
            line: self.line,
            field: self.columns.names[column].clone(),
            message,
        });
    }

    /// The trimmed text of a column; `Some("")` for an absent column, `None` (with an error) when it is not UTF-8.
    fn text(&mut self, column: Option<usize>) -> Option<&'a str> {
        let Some(column) = column else { return Some("") };
        let row: &'a ByteRecord = self.row;
        match std::str::from_utf8(row.get(column).unwrap_or_default()) {
            Ok(text) => Some(text.trim()),
            Err(_) => {
                self.fail(column, "is not UTF-8 text; export the file with Export-Csv -Encoding UTF8".into());
                None
            }
        }
    }

    fn required<T>(&mut self, column: usize, read: impl Fn(&str) -> Result<T, String>) -> Option<T> {
        let text = self.text(Some(column))?;
        let value = if text.is_empty() { Err("missing (empty)".into()) } else { read(text) };
        value.map_err(|m| self.fail(column, m)).ok()
    }
}

fn quantity(text: &str) -> Result<rust_decimal::Decimal, String> {
    let decimal_comma = !text.contains('.') && text.matches(',').count() == 1;
    let normal = if decimal_comma { text.replace(',', ".") } else { text.to_string() };
    decimal_quantity(&normal, &format!("“{text}”"))
}

#[cfg(test)]
#[path = "usagesummary_tests.rs"]
mod tests;

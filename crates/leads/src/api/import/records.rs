//! Splitting an import's byte stream into records however its chunks fall, holding no more
//! than one record (up to a limit) at a time: CSV records (RFC 4180: a quoted field may hold
//! commas, doubled quotes and line breaks). NDJSON lines are `platform::import::Lines`.

/// Why a record could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("the line is longer than {0} bytes")]
    TooLong(usize),
    #[error("the line is not valid UTF-8")]
    NotUtf8,
    #[error("a quoted field is not closed before the end of the body")]
    Unclosed,
}

impl From<platform::import::LineError> for RecordError {
    fn from(e: platform::import::LineError) -> Self {
        match e {
            platform::import::LineError::TooLong(max) => RecordError::TooLong(max),
        }
    }
}

/// CSV records, each numbered by the line it starts on (from 1). A record of more bytes
/// than the limit is reported once, at its end.
pub struct CsvRecords {
    field: Vec<u8>,
    fields: Vec<Vec<u8>>,
    size: usize,
    max: usize,
    overlong: bool,
    quoted: bool,
    /// A quote just closed a quoted field: another quote right after is an escaped one.
    closed: bool,
    line: u64,
    start: u64,
}

impl CsvRecords {
    pub fn new(max: usize) -> Self {
        CsvRecords {
            field: Vec::new(),
            fields: Vec::new(),
            size: 0,
            max,
            overlong: false,
            quoted: false,
            closed: false,
            line: 1,
            start: 1,
        }
    }

    pub fn push(&mut self, data: &[u8], f: &mut impl FnMut(u64, Result<Vec<String>, RecordError>)) {
        for &b in data {
            self.size += 1;
            if self.size > self.max {
                self.overlong = true;
            }
            if self.quoted {
                if b == b'"' {
                    self.quoted = false;
                    self.closed = true;
                } else {
                    if b == b'\n' {
                        self.line += 1;
                    }
                    self.keep(b);
                }
                continue;
            }
            match b {
                b'"' if self.closed => {
                    self.keep(b'"');
                    self.quoted = true;
                    self.closed = false;
                }
                b'"' if self.field.is_empty() => self.quoted = true,
                b',' => {
                    self.end_field();
                }
                b'\n' => {
                    self.end_field();
                    self.end_record(f);
                    self.line += 1;
                    self.start = self.line;
                }
                b'\r' => {}
                _ => {
                    self.closed = false;
                    self.keep(b);
                }
            }
        }
    }

    /// The last record, when the body does not end with a newline.
    pub fn finish(&mut self, f: &mut impl FnMut(u64, Result<Vec<String>, RecordError>)) {
        if self.quoted {
            f(self.start, Err(RecordError::Unclosed));
        } else if self.size > 0 {
            self.end_field();
            self.end_record(f);
        }
        self.fields.clear();
        self.field.clear();
        self.size = 0;
    }

    fn keep(&mut self, b: u8) {
        if !self.overlong {
            self.field.push(b);
        }
    }

    fn end_field(&mut self) {
        self.closed = false;
        let field = std::mem::take(&mut self.field);
        if !self.overlong {
            self.fields.push(field);
        }
    }

    fn end_record(&mut self, f: &mut impl FnMut(u64, Result<Vec<String>, RecordError>)) {
        let fields = std::mem::take(&mut self.fields);
        let result: Result<Vec<String>, RecordError> = if self.overlong {
            Err(RecordError::TooLong(self.max))
        } else {
            fields
                .into_iter()
                .map(|v| String::from_utf8(v).map_err(|_| RecordError::NotUtf8))
                .collect()
        };
        self.size = 0;
        self.overlong = false;
        // A blank line is no record.
        if !matches!(&result, Ok(fields) if fields.len() == 1 && fields[0].is_empty()) {
            f(self.start, result);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(parts: &[&[u8]], max: usize) -> Vec<(u64, Result<Vec<String>, RecordError>)> {
        let mut out = Vec::new();
        let mut records = CsvRecords::new(max);
        let mut f = |n: u64, r: Result<Vec<String>, RecordError>| out.push((n, r));
        for p in parts {
            records.push(p, &mut f);
        }
        records.finish(&mut f);
        out
    }

    fn row(fields: &[&str]) -> Result<Vec<String>, RecordError> {
        Ok(fields.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn csv_records_take_quotes_commas_and_line_breaks_across_chunks() {
        let got = csv(
            &[
                b"email,first_",
                b"name\r\na@x.dev,\"Ada, \"\"the\"\"\nCountess\"\n\n",
                b"b@x.dev,",
            ],
            100,
        );
        assert_eq!(
            got,
            vec![
                (1, row(&["email", "first_name"])),
                (2, row(&["a@x.dev", "Ada, \"the\"\nCountess"])),
                (5, row(&["b@x.dev", ""])),
            ]
        );
    }

    #[test]
    fn csv_reports_an_overlong_record_bad_utf8_and_an_unclosed_quote() {
        let got = csv(&[b"a,b\n0123456789,x\n\xff,y\nok,\"open"], 8);
        assert_eq!(
            got,
            vec![
                (1, row(&["a", "b"])),
                (2, Err(RecordError::TooLong(8))),
                (3, Err(RecordError::NotUtf8)),
                (4, Err(RecordError::Unclosed)),
            ]
        );
    }
}

//! Splitting an NDJSON byte stream into lines, however its chunks fall, without holding more
//! than one line (up to a limit) at a time.

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("the line is longer than {0} bytes")]
    TooLong(usize),
}

/// Splits a byte stream into lines without ever holding more than one line (up to the limit).
/// A longer line is reported once and its bytes are dropped as they come.
pub struct Lines {
    carry: Vec<u8>,
    number: u64,
    overlong: bool,
    max: usize,
}

impl Lines {
    pub fn new(max: usize) -> Self {
        Lines {
            carry: Vec::new(),
            number: 0,
            overlong: false,
            max,
        }
    }

    pub fn push(&mut self, mut data: &[u8], f: &mut impl FnMut(u64, Result<&[u8], LineError>)) {
        while let Some(pos) = data.iter().position(|b| *b == b'\n') {
            let piece = &data[..pos];
            data = &data[pos + 1..];
            self.number += 1;
            if self.overlong || self.carry.len() + piece.len() > self.max {
                f(self.number, Err(LineError::TooLong(self.max)));
            } else if self.carry.is_empty() {
                f(self.number, Ok(trim_cr(piece)));
            } else {
                self.carry.extend_from_slice(piece);
                f(self.number, Ok(trim_cr(&self.carry)));
            }
            self.carry.clear();
            self.overlong = false;
        }
        if !self.overlong {
            if self.carry.len() + data.len() > self.max {
                self.overlong = true;
                self.carry = Vec::new();
            } else {
                self.carry.extend_from_slice(data);
            }
        }
    }

    /// The last line, when the body does not end with a newline.
    pub fn finish(&mut self, f: &mut impl FnMut(u64, Result<&[u8], LineError>)) {
        if self.overlong {
            self.number += 1;
            f(self.number, Err(LineError::TooLong(self.max)));
        } else if !self.carry.is_empty() {
            self.number += 1;
            f(self.number, Ok(trim_cr(&self.carry)));
        }
        self.carry.clear();
        self.overlong = false;
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(parts: &[&[u8]], max: usize) -> Vec<(u64, Result<Vec<u8>, LineError>)> {
        let mut out = Vec::new();
        let mut lines = Lines::new(max);
        let mut f = |n: u64, l: Result<&[u8], LineError>| out.push((n, l.map(<[u8]>::to_vec)));
        for p in parts {
            lines.push(p, &mut f);
        }
        lines.finish(&mut f);
        out
    }

    #[test]
    fn lines_split_across_chunks_and_crlf() {
        let got = split(&[b"ab", b"c\r\nde", b"f\n\ng"], 10);
        assert_eq!(
            got,
            vec![
                (1, Ok(b"abc".to_vec())),
                (2, Ok(b"def".to_vec())),
                (3, Ok(b"".to_vec())),
                (4, Ok(b"g".to_vec())),
            ]
        );
    }

    #[test]
    fn an_overlong_line_is_reported_once_and_the_next_line_survives() {
        let got = split(&[b"0123456", b"789abc", b"def\nok\n", b"0123456789ab"], 8);
        assert_eq!(
            got,
            vec![
                (1, Err(LineError::TooLong(8))),
                (2, Ok(b"ok".to_vec())),
                (3, Err(LineError::TooLong(8))),
            ]
        );
    }
}

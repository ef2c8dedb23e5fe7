use super::{MAX_EVENT_BYTES, SseError};

/// Splits a byte stream into newline-delimited records (Ollama's streaming format). Splitting
/// on `\n` bytes never cuts a UTF-8 sequence, so records are whole whatever the chunking.
/// Each byte is scanned once; a line past the limit is an error, then nothing more is read.
#[derive(Debug)]
pub struct NdjsonDecoder {
    pending: Vec<u8>,
    max: usize,
    failed: bool,
}

impl Default for NdjsonDecoder {
    fn default() -> Self {
        Self::with_limit(MAX_EVENT_BYTES)
    }
}

impl NdjsonDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_limit(max: usize) -> Self {
        NdjsonDecoder {
            pending: Vec::new(),
            max,
            failed: false,
        }
    }

    /// Push `chunk`; return each complete non-blank line (without its newline).
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<Vec<Vec<u8>>, SseError> {
        let mut lines = Vec::new();
        if self.failed {
            return Ok(lines);
        }
        while let Some(pos) = chunk.iter().position(|&b| b == b'\n') {
            if self.pending.is_empty() {
                push_non_blank(&mut lines, &chunk[..pos]);
            } else {
                self.pending.extend_from_slice(&chunk[..pos]);
                push_non_blank(&mut lines, &self.pending);
                self.pending.clear();
            }
            chunk = &chunk[pos + 1..];
        }
        if self.pending.len() + chunk.len() > self.max {
            self.failed = true;
            self.pending = Vec::new();
            return Err(SseError::TooLarge(self.max));
        }
        self.pending.extend_from_slice(chunk);
        Ok(lines)
    }

    /// The stream ended: a last line without a trailing newline still counts.
    pub fn finish(&mut self) -> Vec<Vec<u8>> {
        let rest = std::mem::take(&mut self.pending);
        let mut lines = Vec::new();
        push_non_blank(&mut lines, &rest);
        lines
    }
}

fn push_non_blank(lines: &mut Vec<Vec<u8>>, line: &[u8]) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if !line.iter().all(u8::is_ascii_whitespace) {
        lines.push(line.to_vec());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_across_chunks() {
        let mut decoder = NdjsonDecoder::new();
        assert!(decoder.feed(b"{\"a\":").unwrap().is_empty());
        assert_eq!(
            decoder.feed(b"1}\n\n{\"b\"").unwrap(),
            vec![b"{\"a\":1}".to_vec()]
        );
        assert_eq!(
            decoder.feed(b":2}\r\n").unwrap(),
            vec![b"{\"b\":2}".to_vec()]
        );
        assert!(decoder.feed(b"{\"c\":3}").unwrap().is_empty());
        assert_eq!(decoder.finish(), vec![b"{\"c\":3}".to_vec()]);
    }

    #[test]
    fn a_line_that_never_ends_is_refused_past_the_limit() {
        let mut decoder = NdjsonDecoder::with_limit(1024);
        let mut refused = false;
        for _ in 0..100 {
            if decoder.feed(&[b'x'; 100]).is_err() {
                refused = true;
                break;
            }
        }
        assert!(refused, "a 10 KB line passed a 1 KB limit");
        assert!(decoder.feed(b"\n{}\n").unwrap().is_empty());
        assert!(decoder.finish().is_empty());
        // Long but complete lines within the limit still pass.
        let mut decoder = NdjsonDecoder::with_limit(1024);
        let line = [b'y'; 1000];
        assert_eq!(decoder.feed(&line).unwrap(), Vec::<Vec<u8>>::new());
        assert_eq!(decoder.feed(b"\n").unwrap(), vec![line.to_vec()]);
    }
}

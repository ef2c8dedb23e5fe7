use super::{MAX_EVENT_BYTES, SseError};

/// Splits a byte stream into newline-delimited records (Ollama's streaming format). Splitting
/// on `\n` bytes never cuts a UTF-8 sequence, so records are whole whatever the chunking.
/// Each byte is scanned once; a line past the limit is an error, then nothing more is read.
/// As with [`super::SseDecoder`], the chunking changes nothing: a line is measured whole or
/// not whole the same way, and the lines a chunk completed before an error are returned, the
/// error on the next call.
#[derive(Debug)]
pub struct NdjsonDecoder {
    pending: Vec<u8>,
    max: usize,
    failed: bool,
    deferred: Option<SseError>,
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
            deferred: None,
        }
    }

    /// Bytes held for the line being read: after `feed` returns, never more than the limit.
    /// The fuzz tests check it; nothing else needs it.
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }

    /// Push `chunk`; return each complete non-blank line (without its newline).
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<Vec<Vec<u8>>, SseError> {
        if let Some(err) = self.deferred.take() {
            return Err(err);
        }
        let mut lines = Vec::new();
        if self.failed {
            return Ok(lines);
        }
        while let Some(pos) = chunk.iter().position(|&b| b == b'\n') {
            // A line that ends in this chunk is held to the limit as one still open is.
            if self.pending.len() + pos > self.max {
                return self.fail(lines);
            }
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
            return self.fail(lines);
        }
        self.pending.extend_from_slice(chunk);
        Ok(lines)
    }

    /// Stop reading for good; the lines completed before the error are returned first.
    fn fail(&mut self, lines: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>, SseError> {
        self.failed = true;
        self.pending = Vec::new();
        let err = SseError::TooLarge(self.max);
        if lines.is_empty() {
            Err(err)
        } else {
            self.deferred = Some(err);
            Ok(lines)
        }
    }

    /// The stream ended: a last line without a trailing newline still counts. An error held
    /// back by the last `feed` comes out here.
    pub fn finish(&mut self) -> Result<Vec<Vec<u8>>, SseError> {
        if let Some(err) = self.deferred.take() {
            return Err(err);
        }
        let rest = std::mem::take(&mut self.pending);
        let mut lines = Vec::new();
        push_non_blank(&mut lines, &rest);
        Ok(lines)
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
        assert_eq!(decoder.finish().unwrap(), vec![b"{\"c\":3}".to_vec()]);
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
        assert!(decoder.finish().unwrap().is_empty());
        // A line over the limit is refused when it ends inside one chunk too (it used to pass
        // unless split), and the lines before it in that chunk are still returned.
        let mut decoder = NdjsonDecoder::with_limit(8);
        assert_eq!(
            decoder.feed(b"{}\n0123456789\n{}\n").unwrap(),
            vec![b"{}".to_vec()]
        );
        assert!(decoder.finish().is_err());
        // Long but complete lines within the limit still pass.
        let mut decoder = NdjsonDecoder::with_limit(1024);
        let line = [b'y'; 1000];
        assert_eq!(decoder.feed(&line).unwrap(), Vec::<Vec<u8>>::new());
        assert_eq!(decoder.feed(b"\n").unwrap(), vec![line.to_vec()]);
    }
}

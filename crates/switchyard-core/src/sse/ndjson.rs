/// Splits a byte stream into newline-delimited records (Ollama's streaming format). Splitting
/// on `\n` bytes never cuts a UTF-8 sequence, so records are whole whatever the chunking.
#[derive(Debug, Default)]
pub struct NdjsonDecoder {
    pending: Vec<u8>,
}

impl NdjsonDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Push `chunk`; return each complete non-blank line (without its newline).
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<Vec<u8>> {
        self.pending.extend_from_slice(chunk);
        let mut lines = Vec::new();
        while let Some(pos) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=pos).collect();
            push_non_blank(&mut lines, &line[..line.len() - 1]);
        }
        lines
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
        assert!(decoder.feed(b"{\"a\":").is_empty());
        assert_eq!(decoder.feed(b"1}\n\n{\"b\""), vec![b"{\"a\":1}".to_vec()]);
        assert_eq!(decoder.feed(b":2}\r\n"), vec![b"{\"b\":2}".to_vec()]);
        assert!(decoder.feed(b"{\"c\":3}").is_empty());
        assert_eq!(decoder.finish(), vec![b"{\"c\":3}".to_vec()]);
    }
}

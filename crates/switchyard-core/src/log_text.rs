//! Text from outside (a client's model name, an upstream's error message) as it may appear in
//! a log line: escaped (no newline or terminal escape sequence can forge or hide lines) and
//! short (an upstream's error can quote a whole prompt).

/// Characters of such text a log line keeps.
const MAX_CHARS: usize = 200;

/// `text` escaped and cut to [`MAX_CHARS`] characters, quoted like a Rust string.
pub fn clip(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(MAX_CHARS).collect();
    let cut = if chars.next().is_some() { "…" } else { "" };
    format!("{head:?}{cut}")
}

/// What a test's code logged (every level), for asserting what may not appear in logs.
#[cfg(test)]
pub(crate) fn captured(f: impl FnOnce()) -> String {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = sink.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlines_and_escapes_cannot_forge_log_lines() {
        let forged = "claude\n2026-12-05T00:00:00Z  INFO fake line\u{1b}[2K";
        let clipped = clip(forged);
        assert!(
            !clipped.contains('\n') && !clipped.contains('\u{1b}'),
            "{clipped}"
        );
        assert!(
            clipped.contains("\\n") && clipped.contains("\\u{1b}"),
            "{clipped}"
        );
    }

    #[test]
    fn long_text_is_cut() {
        let prompt = "secret prompt text ".repeat(100);
        let clipped = clip(&prompt);
        assert!(clipped.chars().count() < MAX_CHARS + 5, "{clipped}");
        assert!(clipped.ends_with('…'));
        assert_eq!(clip("short"), "\"short\"");
    }
}

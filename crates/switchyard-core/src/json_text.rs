//! JSON handled as text: telling string contents from structure, without parsing.

use std::borrow::Cow;

/// Walks JSON text a character at a time and knows whether it is inside a string.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct StringTracker {
    /// Inside a string (after its opening quote, before its closing one).
    pub in_string: bool,
    /// The previous character was a backslash inside a string.
    pub escaped: bool,
}

impl StringTracker {
    /// Advance over `c`; true when `c` is structure (outside every string, not a quote).
    pub fn structural(&mut self, c: char) -> bool {
        if self.in_string {
            match (self.escaped, c) {
                (true, _) => self.escaped = false,
                (false, '\\') => self.escaped = true,
                (false, '"') => self.in_string = false,
                _ => {}
            }
            return false;
        }
        if c == '"' {
            self.in_string = true;
            return false;
        }
        true
    }
}

/// `text` (JSON) without the whitespace between tokens; borrowed when there is none.
pub(crate) fn compact(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut strings = StringTracker::default();
    let mut copied = 0;
    for (i, c) in text.char_indices() {
        if strings.structural(c) && c.is_ascii_whitespace() {
            out.push_str(&text[copied..i]);
            copied = i + 1;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_inside_strings_stays() {
        let pretty = "{\n  \"type\": \"object\",\n  \"description\": \"a b\\\" c\"\n}";
        assert_eq!(
            compact(pretty),
            r#"{"type":"object","description":"a b\" c"}"#
        );
        assert!(matches!(compact(r#"{"a":" x "}"#), Cow::Borrowed(_)));
        let mut strings = StringTracker::default();
        let structure: String =
            r#"{"k\"}":[1]}"#.chars().filter(|&c| strings.structural(c)).collect();
        assert_eq!(structure, "{:[1]}");
    }
}

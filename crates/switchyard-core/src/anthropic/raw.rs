//! JSON kept as the client's text.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// A JSON value kept as text: parsing only checks its syntax, and serializing writes the text
/// back unchanged. Only `serde_json`'s own deserializer can produce one (not `from_value`).
#[derive(Clone)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// The JSON text, exactly as received.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// `value` encoded as JSON text.
    pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(RawJson)
    }

    /// `{"type":"object","properties":{}}`: the schema of a tool that declared none.
    pub fn empty_object_schema() -> Self {
        Self::from_literal(r#"{"type":"object","properties":{}}"#)
    }

    #[expect(
        clippy::expect_used,
        reason = "only called with literals that are valid JSON"
    )]
    fn from_literal(text: &'static str) -> Self {
        RawJson(RawValue::from_string(text.to_owned()).expect("valid JSON literal"))
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(RawJson)
    }
}

/// A JSON string kept in its escaped form: long texts a translator forwards unchanged (tool
/// descriptions) are neither unescaped on the way in nor escaped again on the way out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct JsonString(RawJson);

impl JsonString {
    /// The string's JSON literal, quotes included.
    pub fn raw(&self) -> &str {
        self.0.get()
    }

    /// The decoded text (borrowed when the literal has no escapes).
    pub fn text(&self) -> Cow<'_, str> {
        let inner = self.inner();
        if !inner.contains('\\') {
            return Cow::Borrowed(inner);
        }
        // Checked to be a JSON string when it was parsed, so decoding cannot fail.
        Cow::Owned(serde_json::from_str::<String>(self.raw()).unwrap_or_default())
    }

    /// The literal without its quotes (still escaped).
    fn inner(&self) -> &str {
        let literal = self.raw();
        literal
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(literal)
    }

    /// Up to `n` characters of the text after its leading whitespace, decoding only those:
    /// enough to tell a blank text or one that starts with a marker without decoding it all.
    pub fn trimmed_prefix(&self, n: usize) -> String {
        let mut out = String::new();
        let mut chars = self.inner().chars();
        while out.chars().count() < n {
            let c = match chars.next() {
                None => break,
                Some('\\') => match chars.next() {
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('r') => '\r',
                    Some('b') => '\u{8}',
                    Some('f') => '\u{c}',
                    Some('u') => {
                        let hex: String = chars.by_ref().take(4).collect();
                        u32::from_str_radix(&hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            // A surrogate pair's half: not whitespace, good enough to compare.
                            .unwrap_or(char::REPLACEMENT_CHARACTER)
                    }
                    Some(other) => other,
                    None => break,
                },
                Some(c) => c,
            };
            if out.is_empty() && c.is_whitespace() {
                continue;
            }
            out.push(c);
        }
        out
    }

    /// The texts joined by `separator`, still as a literal: the escaped parts are put side by
    /// side, nothing is decoded.
    pub fn join(parts: &[&JsonString], separator: &str) -> JsonString {
        match parts {
            [] => JsonString::from(""),
            [one] => (*one).clone(),
            _ => {
                let separator = serde_json::to_string(separator).unwrap_or_default();
                let separator = separator.trim_matches('"');
                let mut literal = String::with_capacity(
                    parts.iter().map(|p| p.raw().len() + separator.len()).sum(),
                );
                literal.push('"');
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        literal.push_str(separator);
                    }
                    literal.push_str(part.inner());
                }
                literal.push('"');
                match RawValue::from_string(literal) {
                    Ok(raw) => JsonString(RawJson(raw)),
                    // Cannot happen (valid parts make a valid literal); decode and re-escape.
                    Err(_) => {
                        let texts: Vec<String> =
                            parts.iter().map(|p| p.text().into_owned()).collect();
                        JsonString::from(texts.join(separator).as_str())
                    }
                }
            }
        }
    }
}

impl From<&str> for JsonString {
    fn from(text: &str) -> Self {
        // Serializing a `str` gives a valid JSON string literal.
        let literal = serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned());
        match RawValue::from_string(literal) {
            Ok(raw) => JsonString(RawJson(raw)),
            Err(_) => JsonString(RawJson::from_literal("\"\"")),
        }
    }
}

impl<'de> Deserialize<'de> for JsonString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawJson::deserialize(deserializer)?;
        if !raw.get().starts_with('"') {
            return Err(serde::de::Error::invalid_type(
                serde::de::Unexpected::Other("a non-string value"),
                &"a string",
            ));
        }
        Ok(JsonString(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(literal: &str) -> JsonString {
        serde_json::from_str(literal).unwrap()
    }

    #[test]
    fn a_string_stays_as_received_and_decodes_on_demand() {
        let s = string(r#""caf\u00e9 \"x\"\n""#);
        assert_eq!(s.raw(), r#""caf\u00e9 \"x\"\n""#);
        assert_eq!(s.text(), "café \"x\"\n");
        assert!(matches!(
            string(r#""plain""#).text(),
            Cow::Borrowed("plain")
        ));
        assert_eq!(serde_json::to_string(&s).unwrap(), s.raw());
        assert!(serde_json::from_str::<JsonString>("{}").is_err());
        assert_eq!(JsonString::from("a\"b").text(), "a\"b");
    }

    #[test]
    fn the_prefix_after_whitespace_is_decoded_without_the_rest() {
        let s = string(r#"" \n\t\u0020x-anthropic\u002dbilling-header: cc=1\n…""#);
        assert_eq!(s.trimmed_prefix(11), "x-anthropic");
        assert_eq!(s.trimmed_prefix(26), "x-anthropic-billing-header");
        assert_eq!(string(r#"" \n\r\t ""#).trimmed_prefix(5), "");
        assert_eq!(string(r#""ab""#).trimmed_prefix(5), "ab");
    }

    #[test]
    fn joined_literals_decode_to_the_joined_texts() {
        let strings = [string(r#""a\"\n""#), string(r#""\u00e9""#), string(r#""""#)];
        let parts: Vec<&JsonString> = strings.iter().collect();
        let joined = JsonString::join(&parts, "\n\n");
        assert_eq!(joined.text(), "a\"\n\n\né\n\n");
        assert_eq!(JsonString::join(&parts[..1], "-").raw(), parts[0].raw());
        assert_eq!(JsonString::join(&[], "-").text(), "");
    }
}

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

    /// Parse as a tree (for the rare caller that needs to look inside).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.get()).unwrap_or(serde_json::Value::Null)
    }

    /// `{"type":"object","properties":{}}`: the schema of a tool that declared none.
    pub fn empty_object_schema() -> Self {
        Self::from_literal(r#"{"type":"object","properties":{}}"#)
    }

    /// `{}`.
    pub fn empty_object() -> Self {
        Self::from_literal("{}")
    }

    #[expect(
        clippy::expect_used,
        reason = "only called with literals that are valid JSON"
    )]
    fn from_literal(text: &'static str) -> Self {
        RawJson(RawValue::from_string(text.to_owned()).expect("valid JSON literal"))
    }

    /// Whether the value is a JSON object.
    pub fn is_object(&self) -> bool {
        self.get().trim_start().starts_with('{')
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
#[derive(Clone, PartialEq)]
pub struct JsonString(RawJson);

impl JsonString {
    /// The string's JSON literal, quotes included.
    pub fn raw(&self) -> &str {
        self.0.get()
    }

    /// The decoded text (borrowed when the literal has no escapes).
    pub fn text(&self) -> Cow<'_, str> {
        let literal = self.raw();
        let inner = literal
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(literal);
        if !inner.contains('\\') {
            return Cow::Borrowed(inner);
        }
        // Checked to be a JSON string when it was parsed, so decoding cannot fail.
        Cow::Owned(serde_json::from_str::<String>(literal).unwrap_or_default())
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

impl fmt::Debug for JsonString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw())
    }
}

impl Serialize for JsonString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
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

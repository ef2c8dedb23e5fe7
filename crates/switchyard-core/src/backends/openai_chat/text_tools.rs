//! Optional recovery of tool calls a model printed as text, Hermes/Qwen style:
//! `<tool_call>{"name": "Bash", "arguments": {...}}</tool_call>`, and Qwen3-Coder's XML body
//! `<tool_call><function=Bash><parameter=command>ls</parameter></function></tool_call>`
//! (§6.6). Text that might be the start of such a call is held back until it is ruled in or
//! out.

use serde::Deserialize;
use serde_json::Value;

const OPEN: &str = "<tool_call>";
const CLOSE: &str = "</tool_call>";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    ToolCall { name: String, arguments: String },
}

#[derive(Deserialize)]
struct TextCall {
    name: String,
    #[serde(default, alias = "parameters")]
    arguments: Option<Value>,
}

#[derive(Debug, Default)]
pub struct TextToolScanner {
    buffer: String,
}

impl TextToolScanner {
    /// Push text; get what can be released (plain text, recovered calls).
    pub fn push(&mut self, text: &str) -> Vec<Piece> {
        self.buffer.push_str(text);
        let mut out = Vec::new();
        loop {
            if let Some(start) = self.buffer.find(OPEN) {
                if start > 0 {
                    out.push(Piece::Text(self.buffer[..start].to_owned()));
                    self.buffer.drain(..start);
                }
                let Some(end) = self.buffer.find(CLOSE) else {
                    break;
                };
                let inner = self.buffer[OPEN.len()..end].to_owned();
                let whole = self.buffer[..end + CLOSE.len()].to_owned();
                self.buffer.drain(..end + CLOSE.len());
                out.push(parse_call(&inner).unwrap_or(Piece::Text(whole)));
                continue;
            }
            // Keep a tail that could still grow into `<tool_call>`.
            let keep = (1..OPEN.len())
                .rev()
                .find(|&n| self.buffer.ends_with(&OPEN[..n]))
                .unwrap_or(0);
            let release = self.buffer.len() - keep;
            if release > 0 {
                out.push(Piece::Text(self.buffer[..release].to_owned()));
                self.buffer.drain(..release);
            }
            break;
        }
        out
    }

    /// The text ended: whatever is held back is plain text after all.
    pub fn finish(&mut self) -> Vec<Piece> {
        let rest = std::mem::take(&mut self.buffer);
        if rest.is_empty() {
            Vec::new()
        } else {
            vec![Piece::Text(rest)]
        }
    }
}

fn parse_call(inner: &str) -> Option<Piece> {
    let inner = inner.trim();
    if inner.starts_with("<function=") {
        return parse_xml_call(inner);
    }
    let call: TextCall = serde_json::from_str(inner).ok()?;
    let arguments = match call.arguments {
        None => "{}".to_owned(),
        Some(Value::String(text)) => text,
        Some(value) => value.to_string(),
    };
    Some(Piece::ToolCall {
        name: call.name,
        arguments,
    })
}

/// `<function=NAME><parameter=KEY>VALUE</parameter>...</function>`. Values are JSON when
/// they parse as JSON (numbers, booleans, arrays, objects), else strings.
fn parse_xml_call(inner: &str) -> Option<Piece> {
    let rest = inner.strip_prefix("<function=")?;
    let (name, mut rest) = rest.split_once('>')?;
    let mut arguments = serde_json::Map::new();
    while let Some(start) = rest.find("<parameter=") {
        let after = &rest[start + "<parameter=".len()..];
        let (key, after) = after.split_once('>')?;
        let end = after.find("</parameter>")?;
        let raw = &after[..end];
        let raw = raw.strip_prefix('\n').unwrap_or(raw);
        let raw = raw.strip_suffix('\n').unwrap_or(raw);
        let value = match serde_json::from_str::<Value>(raw) {
            Ok(value) if !value.is_string() => value,
            _ => Value::String(raw.to_owned()),
        };
        arguments.insert(key.trim().to_owned(), value);
        rest = &after[end + "</parameter>".len()..];
    }
    if !rest
        .trim()
        .trim_end_matches("</function>")
        .trim()
        .is_empty()
    {
        return None;
    }
    Some(Piece::ToolCall {
        name: name.trim().to_owned(),
        arguments: Value::Object(arguments).to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(pieces: &[&str]) -> Vec<Piece> {
        let mut scanner = TextToolScanner::default();
        let mut out: Vec<Piece> = pieces.iter().flat_map(|p| scanner.push(p)).collect();
        out.extend(scanner.finish());
        out
    }

    #[test]
    fn recovers_a_call_split_across_pieces() {
        let out = scan(&[
            "I'll look.\n<tool",
            "_call>\n{\"name\": \"Bash\", \"argu",
            "ments\": {\"command\": \"ls\"}}\n</tool_call>",
        ]);
        assert_eq!(
            out,
            vec![
                Piece::Text("I'll look.\n".into()),
                Piece::ToolCall {
                    name: "Bash".into(),
                    arguments: "{\"command\":\"ls\"}".into()
                }
            ]
        );
    }

    #[test]
    fn recovers_qwen3_coder_xml_calls() {
        let out = scan(&[
            "<tool_call>\n<function=Bash>\n<parameter=command>\necho \"a<b\"\n</parameter>\n<parameter=timeout>\n5000\n</parameter>\n</function>\n</tool_call>",
        ]);
        assert_eq!(
            out,
            vec![Piece::ToolCall {
                name: "Bash".into(),
                arguments: "{\"command\":\"echo \\\"a<b\\\"\",\"timeout\":5000}".into()
            }]
        );
    }

    #[test]
    fn ordinary_text_and_broken_calls_stay_text() {
        assert_eq!(
            scan(&["a < b", "c"]),
            vec![Piece::Text("a < b".into()), Piece::Text("c".into())]
        );
        assert_eq!(
            scan(&["<tool_call>nope</tool_call>"]),
            vec![Piece::Text("<tool_call>nope</tool_call>".into())]
        );
        assert_eq!(
            scan(&["x <tool_call>{"]),
            vec![Piece::Text("x ".into()), Piece::Text("<tool_call>{".into())]
        );
    }
}

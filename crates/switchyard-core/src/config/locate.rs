//! Finding the line of a field in the TOML text, so validation errors can point at it.

use toml_edit::{Document, Item, Table};

/// A step in a field path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// The 1-based line where `path` is written in `text`, or where its nearest written parent is.
pub fn line_of(text: &str, path: &[Step]) -> Option<usize> {
    let doc = Document::parse(text).ok()?;
    let offset = offset_in_table(doc.as_table(), path)?;
    Some(line_at(text, offset))
}

pub fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn offset_in_table(table: &Table, path: &[Step]) -> Option<usize> {
    let Some((Step::Key(key), rest)) = path.split_first() else {
        return table.span().map(|s| s.start);
    };
    let Some((k, item)) = table.get_key_value(key) else {
        return table.span().map(|s| s.start);
    };
    let here = k
        .span()
        .map(|s| s.start)
        .or_else(|| item.span().map(|s| s.start));
    offset_in_item(item, rest).or(here)
}

fn offset_in_item(item: &Item, path: &[Step]) -> Option<usize> {
    match (item, path.split_first()) {
        (_, None) => item.span().map(|s| s.start),
        (Item::Table(table), Some(_)) => offset_in_table(table, path),
        (Item::ArrayOfTables(array), Some((Step::Index(i), rest))) => {
            let table = array.get(*i)?;
            offset_in_table(table, rest).or_else(|| table.span().map(|s| s.start))
        }
        (Item::Value(value), Some((step, rest))) => match (value, step) {
            (toml_edit::Value::InlineTable(t), Step::Key(key)) => {
                let (k, v) = t.get_key_value(key)?;
                let here = k.span().or_else(|| v.span()).map(|s| s.start);
                if rest.is_empty() {
                    here
                } else {
                    offset_in_item(v, rest).or(here)
                }
            }
            (toml_edit::Value::Array(a), Step::Index(i)) => {
                let v = a.get(*i)?;
                let here = v.span().map(|s| s.start);
                if rest.is_empty() {
                    here
                } else {
                    offset_in_item(&Item::Value(v.clone()), rest).or(here)
                }
            }
            _ => None,
        },
        _ => None,
    }
}

/// Render a path as `backends[1].kind`.
pub fn render(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Step {
        Step::Key(s.to_owned())
    }

    const TEXT: &str = "listen = \"127.0.0.1:1\"\nactive_profile = \"x\"\n\n[[backends]]\nid = \"a\"\nkind = \"ollama\"\n\n[[backends]]\nid = \"b\"\nkind = \"anthropic\"\n\n[profiles.local]\ndefault = { backend = \"zz\" }\n\n[[profiles.local.rules]]\nmatch = \"*\"\ntargets = [{ backend = \"a\" }, { backend = \"q\" }]\n";

    #[test]
    fn finds_lines_of_nested_fields() {
        assert_eq!(line_of(TEXT, &[k("active_profile")]), Some(2));
        assert_eq!(
            line_of(TEXT, &[k("backends"), Step::Index(1), k("kind")]),
            Some(10)
        );
        assert_eq!(
            line_of(
                TEXT,
                &[k("profiles"), k("local"), k("default"), k("backend")]
            ),
            Some(13)
        );
        assert_eq!(
            line_of(
                TEXT,
                &[
                    k("profiles"),
                    k("local"),
                    k("rules"),
                    Step::Index(0),
                    k("targets"),
                    Step::Index(1),
                    k("backend")
                ]
            ),
            Some(17)
        );
        assert_eq!(
            render(&[k("backends"), Step::Index(1), k("kind")]),
            "backends[1].kind"
        );
    }
}

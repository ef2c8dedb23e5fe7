//! Saving a changed config into the user's own file. A three-way merge: the file's layout
//! (`toml_edit`), what the file meant (the old config, as a value tree) and the new config
//! (the same kind of tree). Only what differs between the two trees is written, so comments,
//! order, spacing and the defaults the file left out survive every save from the app.

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, TableLike, Value};

use super::Config;
use super::locate::Step;

/// Why a merge could not be made (the caller then writes the whole config instead).
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("the file is not valid TOML: {0}")]
    Syntax(#[from] toml_edit::TomlError),
    #[error("the config cannot be written as TOML: {0}")]
    Serialize(#[from] toml::ser::Error),
}

/// `text` (a file that parses to `old`) changed so that it means `new`, touching nothing
/// else. The result is not checked here: `save` parses it back before writing.
pub fn merge(text: &str, old: &Config, new: &Config) -> Result<String, EditError> {
    let mut doc: DocumentMut = text.parse()?;
    let old_tree = toml::Table::try_from(old)?;
    let new_tree = toml::Table::try_from(new)?;
    attach_trailing_comments(&mut doc);
    let merger = Merger {
        new,
        new_tree: &new_tree,
    };
    merger.table(
        doc.as_table_mut(),
        &old_tree,
        &new_tree,
        &mut Vec::new(),
        false,
    );
    Ok(doc.to_string())
}

struct Merger<'a> {
    new: &'a Config,
    new_tree: &'a toml::Table,
}

impl Merger<'_> {
    /// Bring `doc` (meaning `old`) to `new`: removed keys go, changed ones are merged, new ones
    /// are added. Keys whose value did not change are not looked at, so a default the file left
    /// out stays out.
    fn table(
        &self,
        doc: &mut dyn TableLike,
        old: &toml::Table,
        new: &toml::Table,
        path: &mut Vec<Step>,
        inline: bool,
    ) {
        for key in old.keys().filter(|key| !new.contains_key(*key)) {
            remove_key(doc, key);
        }
        for (key, new_value) in new {
            let old_value = old.get(key);
            if old_value == Some(new_value) {
                continue;
            }
            path.push(Step::Key(key.clone()));
            match doc.get_mut(key).filter(|item| !item.is_none()) {
                Some(item) => self.item(item, old_value, new_value, path),
                None => {
                    let item = if inline {
                        Item::Value(self.value(new_value, path))
                    } else {
                        self.fresh_item(new_value, path)
                    };
                    doc.insert(key, item);
                }
            }
            path.pop();
        }
    }

    fn item(
        &self,
        item: &mut Item,
        old: Option<&toml::Value>,
        new: &toml::Value,
        path: &mut Vec<Step>,
    ) {
        let no_table = toml::Table::new();
        let old_table = match old {
            Some(toml::Value::Table(table)) => table,
            _ => &no_table,
        };
        let old_array: &[toml::Value] = match old {
            Some(toml::Value::Array(array)) => array,
            _ => &[],
        };
        match (item, new) {
            (Item::Table(table), toml::Value::Table(new)) => {
                self.table(table, old_table, new, path, false);
            }
            (Item::Value(Value::InlineTable(table)), toml::Value::Table(new)) => {
                self.table(table, old_table, new, path, true);
            }
            (Item::ArrayOfTables(tables), toml::Value::Array(new))
                if tables.len() == old_array.len() && new.iter().all(toml::Value::is_table) =>
            {
                self.array_of_tables(tables, old_array, new, path);
            }
            (Item::Value(Value::Array(array)), toml::Value::Array(new))
                if array.len() == old_array.len() =>
            {
                self.array(array, old_array, new, path);
            }
            (Item::Value(value), new) => {
                // The comments around a key live in its decor: keep them for the new value.
                let decor = value.decor().clone();
                *value = self.value(new, path);
                *value.decor_mut() = decor;
            }
            (item, new) => *item = self.fresh_item(new, path),
        }
    }

    /// `[[backends]]`, `[[profiles.x.rules]]`: elements are matched by what names them, so a
    /// rename, an insertion or a deletion leaves the others (and their comments) as they were.
    fn array_of_tables(
        &self,
        tables: &mut ArrayOfTables,
        old: &[toml::Value],
        new: &[toml::Value],
        path: &mut Vec<Step>,
    ) {
        let pairs = align(old, new);
        let mut kept: Vec<Option<Table>> = tables.iter().cloned().map(Some).collect();
        // The file's spacing between elements, for the new ones.
        let spacing = tables.iter().last().map(|last| {
            if prefix_of(last).starts_with('\n') {
                "\n"
            } else {
                ""
            }
        });
        // Comments above the first element usually introduce the whole array (as in the
        // default file): when that element goes, they stay above the next one.
        let mut intro = match (kept.first(), pairs.contains(&Some(0))) {
            (Some(Some(first)), false) => prefix_of(first).to_owned(),
            _ => String::new(),
        };
        let mut out = ArrayOfTables::new();
        let mut last_position = None;
        for (j, new_value) in new.iter().enumerate() {
            let Some(new_table) = new_value.as_table() else {
                continue;
            };
            path.push(Step::Index(j));
            let mut table = match pairs[j].and_then(|i| Some((i, kept[i].take()?))) {
                Some((i, mut table)) => {
                    if old[i] != *new_value {
                        let no_table = toml::Table::new();
                        let old_table = old[i].as_table().unwrap_or(&no_table);
                        self.table(&mut table, old_table, new_table, path, false);
                    }
                    table
                }
                None => {
                    let mut table = self.fresh_table(new_table, path);
                    if let Some(spacing) = spacing {
                        table.decor_mut().set_prefix(spacing);
                    }
                    table
                }
            };
            path.pop();
            if !intro.is_empty() {
                let own = prefix_of(&table).trim_start_matches('\n').to_owned();
                table.decor_mut().set_prefix(format!("{intro}{own}"));
                intro.clear();
            }
            // Tables are written in the order of their positions in the file: an element moved
            // before an earlier one takes that one's position (ties keep the array's order).
            match (table.position(), last_position) {
                (Some(position), Some(last)) if position < last => {
                    table.set_position(Some(last));
                }
                (Some(position), _) => last_position = Some(position),
                (None, _) => {}
            }
            out.push(table);
        }
        *tables = out;
    }

    /// An inline array (`targets = [...]`): elements matched like tables; each kept element
    /// keeps its formatting.
    fn array(
        &self,
        array: &mut toml_edit::Array,
        old: &[toml::Value],
        new: &[toml::Value],
        path: &mut Vec<Step>,
    ) {
        let pairs = align(old, new);
        let before: Vec<Value> = array.iter().cloned().collect();
        let multiline = before.iter().any(|v| {
            v.decor()
                .prefix()
                .and_then(|p| p.as_str())
                .is_some_and(|p| p.contains('\n'))
        });
        let decor_at = |j: usize| {
            before
                .get(j.min(1))
                .or(before.last())
                .map(|v| v.decor().clone())
        };
        array.clear();
        for (j, new_value) in new.iter().enumerate() {
            path.push(Step::Index(j));
            let mut value = match pairs[j] {
                Some(i) => {
                    let mut item = Item::Value(before[i].clone());
                    if old[i] != *new_value {
                        self.item(&mut item, Some(&old[i]), new_value, path);
                    }
                    let same_place = (i == 0) == (j == 0);
                    match item.into_value() {
                        Ok(value) if same_place => value,
                        Ok(mut value) => {
                            restyle(&mut value, multiline, decor_at(j));
                            value
                        }
                        Err(_) => self.value(new_value, path),
                    }
                }
                None => {
                    let mut value = self.value(new_value, path);
                    restyle(&mut value, multiline, decor_at(j));
                    value
                }
            };
            path.pop();
            // A value moved from the inside of a one-line array needs no decor of its own.
            if !multiline && j == 0 {
                value.decor_mut().clear();
            }
            array.push_formatted(value);
        }
    }

    /// A new value written inline, without the keys that only repeat a default.
    fn value(&self, value: &toml::Value, path: &mut Vec<Step>) -> Value {
        match value {
            toml::Value::String(s) => Value::from(s.as_str()),
            toml::Value::Integer(i) => Value::from(*i),
            toml::Value::Float(f) => Value::from(*f),
            toml::Value::Boolean(b) => Value::from(*b),
            toml::Value::Datetime(d) => Value::from(d.to_string()),
            toml::Value::Array(values) => {
                let mut array = toml_edit::Array::new();
                for (i, v) in values.iter().enumerate() {
                    path.push(Step::Index(i));
                    array.push(self.value(v, path));
                    path.pop();
                }
                Value::Array(array)
            }
            toml::Value::Table(entries) => {
                let mut table = toml_edit::InlineTable::new();
                for (key, v) in entries {
                    path.push(Step::Key(key.clone()));
                    if !self.implicit(path) {
                        table.insert(key, self.value(v, path));
                    }
                    path.pop();
                }
                Value::InlineTable(table)
            }
        }
    }

    /// A new item under a `[table]`, in the file's usual shape: sections (`[usage]`,
    /// `[profiles.x]`) and arrays of tables (`[[backends]]`, `[[profiles.x.rules]]`) as
    /// headers, everything inside them inline.
    fn fresh_item(&self, value: &toml::Value, path: &mut Vec<Step>) -> Item {
        let keys: Vec<&str> = path
            .iter()
            .filter_map(|step| match step {
                Step::Key(key) => Some(key.as_str()),
                Step::Index(_) => None,
            })
            .collect();
        let is_section = matches!(keys.as_slice(), [_] | ["pricing" | "profiles", _]);
        let is_array_of_tables = matches!(keys.as_slice(), [_] | ["profiles", _, "rules"]);
        match value {
            toml::Value::Table(table) if is_section => Item::Table(self.fresh_table(table, path)),
            toml::Value::Array(values)
                if is_array_of_tables && values.iter().all(toml::Value::is_table) =>
            {
                let mut tables = ArrayOfTables::new();
                for (i, v) in values.iter().enumerate() {
                    if let toml::Value::Table(table) = v {
                        path.push(Step::Index(i));
                        tables.push(self.fresh_table(table, path));
                        path.pop();
                    }
                }
                Item::ArrayOfTables(tables)
            }
            _ => Item::Value(self.value(value, path)),
        }
    }

    fn fresh_table(&self, entries: &toml::Table, path: &mut Vec<Step>) -> Table {
        let mut table = Table::new();
        for (key, v) in entries {
            path.push(Step::Key(key.clone()));
            if !self.implicit(path) {
                table.insert(key, self.fresh_item(v, path));
            }
            path.pop();
        }
        // A table holding only tables (`[profiles]`) needs no header of its own.
        if table.iter().next().is_some() && table.iter().all(|(_, item)| !item.is_value()) {
            table.set_implicit(true);
        }
        table
    }

    /// Whether the key at `path` of the new config can be left out because its absence means
    /// the same (a default such as `timeout_connect_s = 10`): the schema decides, not a list.
    fn implicit(&self, path: &[Step]) -> bool {
        let mut tree = self.new_tree.clone();
        if !remove_at(&mut tree, path) {
            return false;
        }
        toml::Value::Table(tree)
            .try_into::<Config>()
            .is_ok_and(|config| config == *self.new)
    }
}

fn remove_at(tree: &mut toml::Table, path: &[Step]) -> bool {
    let Some((Step::Key(last), parents)) = path.split_last() else {
        return false;
    };
    let mut table = tree;
    let mut steps = parents.iter().peekable();
    while let Some(step) = steps.next() {
        let Step::Key(key) = step else {
            return false;
        };
        let Some(mut value) = table.get_mut(key) else {
            return false;
        };
        while let Some(Step::Index(i)) = steps.peek() {
            let Some(element) = value.as_array_mut().and_then(|a| a.get_mut(*i)) else {
                return false;
            };
            value = element;
            steps.next();
        }
        let Some(inner) = value.as_table_mut() else {
            return false;
        };
        table = inner;
    }
    table.remove(last).is_some()
}

/// For each new element, the old element it is (if any): first by what names it (`id`,
/// `match`, `name`), then unnamed and unchanged, then edited in place (the old element at the
/// same index, when nothing else claimed it: a rename).
fn align(old: &[toml::Value], new: &[toml::Value]) -> Vec<Option<usize>> {
    fn identity(value: &toml::Value) -> Option<&str> {
        let table = value.as_table()?;
        ["id", "match", "name"]
            .iter()
            .find_map(|key| table.get(*key)?.as_str())
    }
    let mut used = vec![false; old.len()];
    let mut pairs = vec![None; new.len()];
    let mut pass = |same: &dyn Fn(usize, usize) -> bool| {
        for (j, pair) in pairs.iter_mut().enumerate() {
            if pair.is_some() {
                continue;
            }
            if let Some(i) = (0..old.len()).find(|&i| !used[i] && same(i, j)) {
                used[i] = true;
                *pair = Some(i);
            }
        }
    };
    pass(&|i, j| identity(&new[j]).is_some() && identity(&old[i]) == identity(&new[j]));
    pass(&|i, j| old[i] == new[j]);
    pass(&|i, j| i == j);
    pairs
}

fn restyle(value: &mut Value, multiline: bool, like: Option<toml_edit::Decor>) {
    match like {
        Some(decor) if multiline => *value.decor_mut() = decor,
        _ => value.decor_mut().clear(),
    }
}

fn prefix_of(table: &Table) -> &str {
    table
        .decor()
        .prefix()
        .and_then(|p| p.as_str())
        .unwrap_or("")
}

/// Removes `key`, keeping the comments that trail it (those of the table's end, see
/// `attach_trailing_comments`) on the value that is now last.
fn remove_key(doc: &mut dyn TableLike, key: &str) {
    let Some(Item::Value(removed)) = doc.remove(key) else {
        return;
    };
    let suffix = removed
        .decor()
        .suffix()
        .and_then(|s| s.as_str())
        .unwrap_or("");
    if let Some(start) = suffix.find('\n')
        && let Some(last) = last_value_mut(doc)
    {
        append_suffix(last, &suffix[start..]);
    }
}

fn last_value_mut(table: &mut dyn TableLike) -> Option<&mut Value> {
    table
        .iter_mut()
        .filter_map(|(_, item)| item.as_value_mut())
        .last()
}

fn append_suffix(value: &mut Value, more: &str) {
    let suffix = value
        .decor()
        .suffix()
        .and_then(|s| s.as_str())
        .unwrap_or("")
        .to_owned();
    value.decor_mut().set_suffix(format!("{suffix}{more}"));
}

/// `toml_edit` keeps the comments written after a table's last key in the prefix of the next
/// table's header, so deleting or appending a table would take or split its neighbour's
/// comments. Move them to the end of the table they follow: everything in a header's prefix
/// up to its last blank line trails the previous table; the rest sits above the header. The
/// text written is unchanged.
fn attach_trailing_comments(doc: &mut DocumentMut) {
    let mut tables = Vec::new();
    collect_tables(doc.as_table(), &mut Vec::new(), &mut 0, &mut tables);
    tables.sort_by_key(|(position, path)| (!path.is_empty(), *position));
    for pair in tables.windows(2) {
        let [(_, prev), (_, next)] = pair else {
            continue;
        };
        let Some(next_table) = table_at_mut(doc.as_table_mut(), next) else {
            continue;
        };
        let prefix = prefix_of(next_table).to_owned();
        let (trailing, header) = split_at_last_blank_line(&prefix);
        if !trailing.contains('#') {
            continue;
        }
        let Some(last) = table_at_mut(doc.as_table_mut(), prev).and_then(|t| last_value_mut(t))
        else {
            continue;
        };
        append_suffix(last, &format!("\n{}", trailing.trim_end_matches('\n')));
        if let Some(next_table) = table_at_mut(doc.as_table_mut(), next) {
            next_table.decor_mut().set_prefix(header);
        }
    }
}

/// A table's place: keys from the root, with the element index inside arrays of tables.
type TablePath = Vec<(String, Option<usize>)>;

/// The tables that are written with a header (and the root), with the position `toml_edit`
/// sorts them by when writing (a table without one follows the table visited before it).
fn collect_tables(
    table: &Table,
    path: &mut TablePath,
    last_position: &mut isize,
    out: &mut Vec<(isize, TablePath)>,
) {
    if let Some(position) = table.position() {
        *last_position = position;
    }
    let written = path.is_empty() || !(table.is_implicit() && table.get_values().is_empty());
    if written && !table.is_dotted() {
        out.push((*last_position, path.clone()));
    }
    for (key, item) in table.iter() {
        match item {
            Item::Table(inner) => {
                path.push((key.to_owned(), None));
                collect_tables(inner, path, last_position, out);
                path.pop();
            }
            Item::ArrayOfTables(array) => {
                for (i, inner) in array.iter().enumerate() {
                    path.push((key.to_owned(), Some(i)));
                    collect_tables(inner, path, last_position, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
}

fn table_at_mut<'t>(
    root: &'t mut Table,
    path: &[(String, Option<usize>)],
) -> Option<&'t mut Table> {
    let mut table = root;
    for (key, index) in path {
        table = match (table.get_mut(key)?, index) {
            (Item::Table(inner), None) => inner,
            (Item::ArrayOfTables(array), Some(i)) => array.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(table)
}

fn split_at_last_blank_line(prefix: &str) -> (&str, &str) {
    let mut at = 0;
    let mut offset = 0;
    for line in prefix.split_inclusive('\n') {
        if line.trim().is_empty() && line.ends_with('\n') {
            at = offset;
        }
        offset += line.len();
    }
    prefix.split_at(at)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use proptest::prelude::*;

    use crate::config::{
        BackendConfig, BackendKind, DEFAULT_CONFIG, Profile, RouteSpec, Rule, Strategy, TargetSpec,
        load, parse, save,
    };

    use super::*;

    /// The commented default plus what a user adds by hand: a comment on a backend, a backend
    /// of their own with comments, a comment on a rule.
    fn file() -> String {
        let text = DEFAULT_CONFIG
            .replacen(
                "base_url = \"http://127.0.0.1:11434\"\n",
                "base_url = \"http://127.0.0.1:11434\"  # the desktop's GPU\n",
                1,
            )
            .replacen(
                "\n[[backends]]\nid = \"anthropic\"",
                "\n# My LM Studio box, for the bigger models.\n[[backends]]\nid = \"lmstudio\"\nkind = \"openai_chat\"\nbase_url = \"http://192.168.1.20:1234/v1\"\nmax_in_flight = 1               # one at a time: it is slow\n\n[[backends]]\nid = \"anthropic\"",
                1,
            )
            .replacen(
                "match = \"*haiku*\"\n",
                "# Quick tasks stay on the small local model.\nmatch = \"*haiku*\"\n",
                1,
            );
        assert_eq!(text.matches("# the desktop's GPU").count(), 1);
        assert_eq!(text.matches("id = \"lmstudio\"").count(), 1);
        assert_eq!(text.matches("# Quick tasks").count(), 1);
        text
    }

    /// `file()` with `from` (which must be there once) replaced by `to`: the expected result.
    fn file_with(changes: &[(&str, &str)]) -> String {
        let mut text = file();
        for (from, to) in changes {
            assert_eq!(text.matches(from).count(), 1, "{from:?}");
            text = text.replacen(from, to, 1);
        }
        text
    }

    /// Saves `file()` changed by `change` through `config::save`; returns the text written,
    /// having checked it loads back to the changed config.
    fn saved(change: impl FnOnce(&mut Config)) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path: PathBuf = dir.path().join("config.toml");
        std::fs::write(&path, file()).unwrap();
        let mut config = load(&path).unwrap();
        change(&mut config);
        save(&path, &config).unwrap();
        assert_eq!(load(&path).unwrap(), config);
        std::fs::read_to_string(&path).unwrap()
    }

    fn target(backend: &str, model: Option<&str>) -> TargetSpec {
        TargetSpec {
            backend: backend.into(),
            model: model.map(Into::into),
            weight: None,
            vision: None,
        }
    }

    fn backend(config: &mut Config, id: &str) -> usize {
        config.backends.iter().position(|b| b.id == id).unwrap()
    }

    #[test]
    fn changing_a_url_keeps_the_comment_beside_it() {
        let text = saved(|c| {
            let i = backend(c, "ollama");
            c.backends[i].base_url = "http://10.0.0.7:11434".into();
        });
        assert_eq!(
            text,
            file_with(&[(
                "base_url = \"http://127.0.0.1:11434\"  # the desktop's GPU",
                "base_url = \"http://10.0.0.7:11434\"  # the desktop's GPU"
            )])
        );
    }

    /// The new backend goes after the last one (after that one's own comments), with only the
    /// fields that differ from a default.
    #[test]
    fn an_added_backend_is_appended_without_defaults() {
        let text = saved(|c| {
            let mut new: BackendConfig = toml::from_str(
                "id = \"openrouter\"\nkind = \"openai_chat\"\nbase_url = \"https://openrouter.ai/api/v1\"\n",
            )
            .unwrap();
            new.api_key_env = Some("OPENROUTER_API_KEY".into());
            c.backends.push(new);
        });
        assert_eq!(
            text,
            file_with(&[(
                "# api_key_env = [\"ANTHROPIC_KEY_A\", \"ANTHROPIC_KEY_B\"]   # or from the environment\n",
                "# api_key_env = [\"ANTHROPIC_KEY_A\", \"ANTHROPIC_KEY_B\"]   # or from the environment\n\n[[backends]]\nid = \"openrouter\"\nkind = \"openai_chat\"\nbase_url = \"https://openrouter.ai/api/v1\"\napi_key_env = \"OPENROUTER_API_KEY\"\n"
            )])
        );
    }

    #[test]
    fn a_deleted_backend_takes_only_its_own_lines() {
        let text = saved(|c| {
            let i = backend(c, "lmstudio");
            c.backends.remove(i);
        });
        assert_eq!(
            text,
            file_with(&[(
                "# My LM Studio box, for the bigger models.\n[[backends]]\nid = \"lmstudio\"\nkind = \"openai_chat\"\nbase_url = \"http://192.168.1.20:1234/v1\"\nmax_in_flight = 1               # one at a time: it is slow\n\n",
                ""
            )])
        );
    }

    /// The last backend's comments sit, for `toml_edit`, above the next table: deleting it must
    /// not take the next table's introduction, nor leave its own comments behind.
    #[test]
    fn deleting_the_last_backend_keeps_the_comments_around_it() {
        let text = saved(|c| {
            let i = backend(c, "anthropic");
            c.backends.remove(i);
            c.profiles.remove("cloud");
            c.profiles.get_mut("local").unwrap().rules[0]
                .fallbacks
                .clear();
        });
        assert_eq!(
            text,
            file_with(&[
                (
                    "\n[[backends]]\nid = \"anthropic\"\nkind = \"anthropic\"\nbase_url = \"https://api.anthropic.com\"\n# The key lives in the OS keychain under this backend's id: `switchyard key set anthropic`.\n# On a headless machine, read it from an environment variable instead:\n# api_key_env = \"ANTHROPIC_API_KEY\"\n# Several keys make a pool the requests rotate over; a key the provider refuses (401/403) is\n# set aside until you set it anew, a throttled one (429) until its retry-after:\n# keys = [\"default\", \"personal\"]  # `switchyard key set anthropic --name personal` adds one\n# api_key_env = [\"ANTHROPIC_KEY_A\", \"ANTHROPIC_KEY_B\"]   # or from the environment\n",
                    ""
                ),
                (
                    "fallbacks = [{ backend = \"anthropic\", model = \"claude-haiku-4-5\" }]\n",
                    ""
                ),
                (
                    "\n[profiles.cloud]\ndefault = { backend = \"anthropic\" }\n",
                    ""
                ),
            ])
        );
    }

    #[test]
    fn a_renamed_backend_keeps_its_place_and_comments_and_its_targets_follow() {
        let text = saved(|c| {
            let i = backend(c, "ollama");
            c.backends[i].id = "gpu".into();
            let local = c.profiles.get_mut("local").unwrap();
            local.default = Some(RouteSpec::Target(target("gpu", Some("qwen2.5-coder:7b"))));
            local.rules[0].targets[0].backend = "gpu".into();
        });
        assert_eq!(
            text,
            file_with(&[
                ("id = \"ollama\"", "id = \"gpu\""),
                (
                    "default = { backend = \"ollama\", model = \"qwen2.5-coder:7b\" }",
                    "default = { backend = \"gpu\", model = \"qwen2.5-coder:7b\" }"
                ),
                (
                    "targets = [{ backend = \"ollama\", model = \"qwen2.5-coder:1.5b\" }]",
                    "targets = [{ backend = \"gpu\", model = \"qwen2.5-coder:1.5b\" }]"
                ),
            ])
        );
    }

    #[test]
    fn an_added_rule_follows_the_profiles_other_rules() {
        let text = saved(|c| {
            c.profiles.get_mut("local").unwrap().rules.push(Rule {
                when: None,
                pattern: "*opus*".into(),
                targets: vec![target("anthropic", None), target("lmstudio", None)],
                fallbacks: Vec::new(),
                strategy: Some(Strategy::Weighted),
            });
        });
        assert_eq!(
            text,
            file_with(&[(
                "fallbacks = [{ backend = \"anthropic\", model = \"claude-haiku-4-5\" }]\n",
                "fallbacks = [{ backend = \"anthropic\", model = \"claude-haiku-4-5\" }]\n\n[[profiles.local.rules]]\nmatch = \"*opus*\"\ntargets = [{ backend = \"anthropic\" }, { backend = \"lmstudio\" }]\nstrategy = \"weighted\"\n"
            )])
        );
    }

    #[test]
    fn a_changed_target_model_changes_that_value_only() {
        let text = saved(|c| {
            let rule = &mut c.profiles.get_mut("local").unwrap().rules[0];
            rule.targets[0].model = Some("qwen2.5-coder:3b".into());
            rule.targets.push(target("lmstudio", None));
        });
        assert_eq!(
            text,
            file_with(&[(
                "targets = [{ backend = \"ollama\", model = \"qwen2.5-coder:1.5b\" }]",
                "targets = [{ backend = \"ollama\", model = \"qwen2.5-coder:3b\" }, { backend = \"lmstudio\" }]"
            )])
        );
    }

    #[test]
    fn an_added_profile_goes_after_the_existing_ones() {
        let text = saved(|c| {
            c.profiles.insert(
                "work".into(),
                Profile {
                    strategy: None,
                    default: Some(RouteSpec::Target(target(
                        "lmstudio",
                        Some("qwen3-coder-30b"),
                    ))),
                    rules: vec![Rule {
                        when: None,
                        pattern: "*haiku*".into(),
                        targets: vec![target("ollama", None)],
                        fallbacks: Vec::new(),
                        strategy: None,
                    }],
                    cache: false,
                    capture: false,
                },
            );
        });
        assert_eq!(
            text,
            file_with(&[(
                "default = { backend = \"anthropic\" }\n",
                "default = { backend = \"anthropic\" }\n\n[profiles.work]\ndefault = { backend = \"lmstudio\", model = \"qwen3-coder-30b\" }\n\n[[profiles.work.rules]]\nmatch = \"*haiku*\"\ntargets = [{ backend = \"ollama\" }]\n"
            )])
        );
    }

    #[test]
    fn retention_and_port_changes_touch_their_lines_only() {
        let text = saved(|c| {
            c.usage.retention_days = Some(30);
            c.listen.set_port(4848);
        });
        assert_eq!(
            text,
            file_with(&[
                ("listen = \"127.0.0.1:4747\"", "listen = \"127.0.0.1:4848\""),
                (
                    "default = { backend = \"anthropic\" }\n",
                    "default = { backend = \"anthropic\" }\n\n[usage]\nretention_days = 30\n"
                ),
            ])
        );
        // And back: the section goes with its last key, and the file is as it was.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, &text).unwrap();
        let mut config = load(&path).unwrap();
        config.usage.retention_days = None;
        config.listen.set_port(4747);
        save(&path, &config).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), file());
    }

    /// Moving a backend before another keeps each one's comments with it.
    #[test]
    fn reordered_backends_are_written_in_the_new_order() {
        let text = saved(|c| c.backends.swap(1, 2));
        let lmstudio = text.find("id = \"lmstudio\"").unwrap();
        let anthropic = text.find("id = \"anthropic\"").unwrap();
        assert!(anthropic < lmstudio, "{text}");
        assert!(text.contains("# the desktop's GPU"));
        assert!(text.contains("# one at a time: it is slow"));
    }

    #[test]
    fn a_file_that_does_not_load_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let broken = file().replacen("kind = \"ollama\"", "kind = \"smoke\"", 1);
        std::fs::write(&path, &broken).unwrap();
        let config = parse(&file(), Path::new("c.toml")).unwrap();
        assert!(matches!(
            save(&path, &config),
            Err(crate::config::ConfigError::Syntax { .. })
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
    }

    fn valid(config: &Config) -> bool {
        toml::to_string_pretty(config)
            .ok()
            .is_some_and(|text| parse(&text, Path::new("c.toml")).is_ok())
    }

    /// One random edit of the kind the app makes; `n` picks what it applies to.
    fn edit(config: &mut Config, op: u8, n: usize, word: &str) {
        let backends = config.backends.len().max(1);
        let local = config.profiles.entry("local".into()).or_default();
        let rules = local.rules.len().max(1);
        match op % 12 {
            0 => {
                if let Some(b) = config.backends.get_mut(n % backends) {
                    b.base_url = format!("http://{word}.example:{}", 1000 + n);
                }
            }
            1 => config.backends.push(BackendConfig {
                id: format!("{word}{n}"),
                kind: BackendKind::OpenaiChat,
                base_url: format!("https://{word}.example/v1"),
                region: None,
                project: None,
                api_key_env: None,
                keys: Vec::new(),
                context_length: n.is_multiple_of(2).then_some(4096),
                max_output_tokens: None,
                timeout_connect_s: 10 + (n % 3) as u64,
                timeout_first_byte_s: 300,
                timeout_idle_s: 600,
                retries: (n % 2) as u32,
                max_in_flight: 0,
                rpm: None,
                tpm: None,
                allowed_fails: 0,
                cooldown_s: None,
                headers: Default::default(),
                recover_text_tool_calls: false,
                local: n.is_multiple_of(3).then_some(false),
            }),
            2 => {
                let i = n % backends;
                if i < config.backends.len() {
                    config.backends.remove(i);
                }
            }
            3 => {
                if let Some(b) = config.backends.get_mut(n % backends) {
                    let old = std::mem::replace(&mut b.id, format!("{word}-{n}"));
                    let new = b.id.clone();
                    for profile in config.profiles.values_mut() {
                        for rule in &mut profile.rules {
                            for t in rule.targets.iter_mut().chain(&mut rule.fallbacks) {
                                if t.backend == old {
                                    t.backend.clone_from(&new);
                                }
                            }
                        }
                        if let Some(RouteSpec::Target(t)) = &mut profile.default
                            && t.backend == old
                        {
                            t.backend.clone_from(&new);
                        }
                    }
                }
            }
            4 => local.rules.insert(
                n % (local.rules.len() + 1),
                Rule {
                    when: None,
                    pattern: format!("*{word}*"),
                    targets: vec![target("ollama", Some(word))],
                    fallbacks: Vec::new(),
                    strategy: n.is_multiple_of(2).then_some(Strategy::Ordered),
                },
            ),
            5 => {
                if n % rules < local.rules.len() {
                    local.rules.remove(n % rules);
                }
            }
            6 => {
                if let Some(rule) = local.rules.get_mut(n % rules) {
                    rule.targets[0].model = Some(word.into());
                }
            }
            7 => config.usage.retention_days = (!n.is_multiple_of(3)).then_some(n as u32 % 400 + 1),
            8 => {
                let len = config.backends.len();
                if len > 1 {
                    config.backends.swap(n % len, (n + 1) % len);
                }
            }
            9 => {
                config.profiles.insert(
                    word.into(),
                    Profile {
                        strategy: Some(Strategy::Weighted),
                        default: Some(RouteSpec::Route {
                            targets: vec![TargetSpec {
                                weight: Some(n as u32 % 5 + 1),
                                vision: None,
                                ..target("ollama", None)
                            }],
                            fallbacks: vec![target("anthropic", None)],
                            strategy: None,
                        }),
                        rules: Vec::new(),
                        cache: n.is_multiple_of(2),
                        capture: n.is_multiple_of(3),
                    },
                );
            }
            10 => {
                let names: Vec<String> = config.profiles.keys().cloned().collect();
                if let Some(name) = names.get(n % names.len().max(1))
                    && *name != config.active_profile
                {
                    config.profiles.remove(name);
                }
            }
            _ => {
                config.listen.set_port(1024 + n as u16 % 60000);
                config.max_body_mib = if n.is_multiple_of(2) { 32 } else { 64 };
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever the app changes, the merged file means exactly the new config.
        #[test]
        fn merged_files_mean_the_new_config(
            edits in prop::collection::vec((any::<u8>(), any::<usize>(), "[a-z]{1,6}"), 1..6),
        ) {
            let text = file();
            let old = parse(&text, Path::new("c.toml")).unwrap();
            let mut new = old.clone();
            for (op, n, word) in &edits {
                edit(&mut new, *op, *n, word);
            }
            prop_assume!(valid(&new));
            let merged = merge(&text, &old, &new).unwrap();
            let meant = parse(&merged, Path::new("c.toml"));
            prop_assert!(matches!(&meant, Ok(c) if *c == new), "{merged}\n{meant:?}");
            prop_assert!(merged.contains("# Switchyard configuration."));
        }
    }
}

//! LiteLLM's proxy config (`config.yaml`) as our own structs: the `model_list` entries and the
//! three settings sections, each value kept as a YAML node with its line. Only the shape is
//! checked here; what each key means is `map.rs`'s and `settings.rs`'s business.

use super::yaml::{self, Node, YamlError};

/// A LiteLLM config as read.
#[derive(Debug, Clone, Default)]
pub struct LiteLlmConfig {
    pub models: Vec<ModelEntry>,
    /// `router_settings`, `litellm_settings`, `general_settings` and any other top-level key,
    /// in file order.
    pub settings: Vec<Setting>,
    /// Parts whose shape is wrong (`model_list` that is not a list, ...), with the line.
    pub malformed: Vec<Malformed>,
}

/// One `model_list` entry (a LiteLLM "deployment").
#[derive(Debug, Clone)]
pub struct ModelEntry {
    /// Its place in `model_list`, from 0.
    pub index: usize,
    pub line: u32,
    pub model_name: Option<String>,
    /// `litellm_params`, in file order; keys written at the top level as
    /// `model_list[N].litellm_params.KEY` come last, marked `dotted`.
    pub params: Vec<Param>,
    /// Keys of the entry besides `model_name` and `litellm_params` (`model_info`, ...).
    pub other: Vec<(String, Node)>,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub key: String,
    pub node: Node,
    /// Written as a top-level `model_list[N].litellm_params.KEY` (which LiteLLM itself does
    /// not read; setup guides write it that way).
    pub dotted: bool,
}

/// A setting: `section` is `router_settings`, `litellm_settings`, `general_settings`, or
/// empty for a top-level key.
#[derive(Debug, Clone)]
pub struct Setting {
    pub section: &'static str,
    pub key: String,
    pub node: Node,
}

impl Setting {
    /// `router_settings.fallbacks`, or the top-level key.
    pub fn path(&self) -> String {
        if self.section.is_empty() {
            self.key.clone()
        } else {
            format!("{}.{}", self.section, self.key)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub line: u32,
    pub item: String,
    pub why: String,
}

const SECTIONS: [&str; 3] = ["router_settings", "litellm_settings", "general_settings"];

impl ModelEntry {
    pub fn param(&self, key: &str) -> Option<&Node> {
        self.params
            .iter()
            .find(|p| p.key == key && !p.dotted)
            .map(|p| &p.node)
    }

    /// `model_list[2] gpt-4o`.
    pub fn label(&self) -> String {
        match &self.model_name {
            Some(name) => format!("model_list[{}] {name}", self.index),
            None => format!("model_list[{}]", self.index),
        }
    }
}

/// Read a LiteLLM config from its text.
pub fn parse(text: &str) -> Result<LiteLlmConfig, YamlError> {
    let tree = yaml::parse(text)?;
    let mut config = LiteLlmConfig::default();
    let no_keys = Vec::new();
    let root: &[(String, Node)] = match &tree.value {
        yaml::Value::Map(entries) => entries,
        yaml::Value::Null => &no_keys,
        _ => {
            config.malformed.push(Malformed {
                line: tree.line,
                item: "the file".to_owned(),
                why: "a LiteLLM config is a mapping with model_list, router_settings, ...; this file is not".to_owned(),
            });
            &no_keys
        }
    };
    let mut dotted = Vec::new();
    for (key, node) in root {
        let section = SECTIONS.iter().copied().find(|s| s == key);
        match (key.as_str(), section) {
            ("model_list", _) => read_model_list(node, &mut config),
            (_, Some(section)) => read_section(section, node, &mut config),
            _ => match dotted_param(key) {
                Some((index, param)) => dotted.push((index, param, node.clone())),
                None => config.settings.push(Setting {
                    section: "",
                    key: key.clone(),
                    node: node.clone(),
                }),
            },
        }
    }
    for (index, key, node) in dotted {
        match config.models.get_mut(index) {
            Some(entry) => entry.params.push(Param {
                key,
                node,
                dotted: true,
            }),
            None => config.malformed.push(Malformed {
                line: node.line,
                item: format!("model_list[{index}].litellm_params.{key}"),
                why: format!("model_list has no entry {index}"),
            }),
        }
    }
    Ok(config)
}

fn read_model_list(node: &Node, config: &mut LiteLlmConfig) {
    let Some(items) = node.as_list() else {
        if node.value != yaml::Value::Null {
            config.malformed.push(Malformed {
                line: node.line,
                item: "model_list".to_owned(),
                why: "is not a list of models".to_owned(),
            });
        }
        return;
    };
    for (index, item) in items.iter().enumerate() {
        let Some(fields) = item.as_map() else {
            config.malformed.push(Malformed {
                line: item.line,
                item: format!("model_list[{index}]"),
                why: "is not a mapping with model_name and litellm_params".to_owned(),
            });
            continue;
        };
        let mut entry = ModelEntry {
            index,
            line: item.line,
            model_name: None,
            params: Vec::new(),
            other: Vec::new(),
        };
        for (key, value) in fields {
            match key.as_str() {
                "model_name" => entry.model_name = value.scalar_text(),
                "litellm_params" => match value.as_map() {
                    Some(params) => entry.params.extend(params.iter().map(|(k, v)| Param {
                        key: k.clone(),
                        node: v.clone(),
                        dotted: false,
                    })),
                    None => config.malformed.push(Malformed {
                        line: value.line,
                        item: format!("model_list[{index}].litellm_params"),
                        why: "is not a mapping".to_owned(),
                    }),
                },
                _ => entry.other.push((key.clone(), value.clone())),
            }
        }
        config.models.push(entry);
    }
}

fn read_section(section: &'static str, node: &Node, config: &mut LiteLlmConfig) {
    match node.as_map() {
        Some(entries) => config
            .settings
            .extend(entries.iter().map(|(key, node)| Setting {
                section,
                key: key.clone(),
                node: node.clone(),
            })),
        None if node.value == yaml::Value::Null => {}
        None => config.malformed.push(Malformed {
            line: node.line,
            item: section.to_owned(),
            why: "is not a mapping of settings".to_owned(),
        }),
    }
}

/// `model_list[0].litellm_params.rpm` → (0, "rpm").
fn dotted_param(key: &str) -> Option<(usize, String)> {
    let rest = key.strip_prefix("model_list[")?;
    let (index, rest) = rest.split_once(']')?;
    let param = rest.strip_prefix(".litellm_params.")?;
    let valid = !param.is_empty() && param.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return None;
    }
    Some((index.trim().parse().ok()?, param.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_keys_are_read_as_the_entrys_params() {
        let config = parse(
            "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\nmodel_list[0].litellm_params.rpm: 10\nmodel_list[3].litellm_params.tpm: 5\n",
        )
        .unwrap();
        let entry = &config.models[0];
        assert_eq!(entry.params.len(), 2);
        assert!(entry.params[1].dotted);
        assert_eq!(entry.params[1].key, "rpm");
        assert_eq!(entry.param("rpm"), None);
        assert_eq!(config.malformed.len(), 1);
        assert_eq!(config.malformed[0].line, 6);
        assert_eq!(dotted_param("model_list[x].litellm_params.rpm"), None);
    }

    #[test]
    fn sections_keep_their_order_and_shape_problems_are_kept() {
        let config = parse(
            "router_settings:\n  num_retries: 2\n  timeout: 30\nmodel_list: 3\ngeneral_settings: [1]\nenvironment_variables: {}\n",
        )
        .unwrap();
        let paths: Vec<String> = config.settings.iter().map(Setting::path).collect();
        assert_eq!(
            paths,
            [
                "router_settings.num_retries",
                "router_settings.timeout",
                "environment_variables"
            ]
        );
        let items: Vec<&str> = config.malformed.iter().map(|m| m.item.as_str()).collect();
        assert_eq!(items, ["model_list", "general_settings"]);
    }
}

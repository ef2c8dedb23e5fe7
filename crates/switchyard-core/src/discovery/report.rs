use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::endpoints::EndpointSource;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    Ollama,
    Vllm,
    LlamaCpp,
    LmStudio,
    Sglang,
    /// Answers an OpenAI model list but did not say which engine it is.
    OpenaiCompatible,
}

impl EngineKind {
    pub fn label(self) -> &'static str {
        match self {
            EngineKind::Ollama => "Ollama",
            EngineKind::Vllm => "vLLM",
            EngineKind::LlamaCpp => "llama.cpp",
            EngineKind::LmStudio => "LM Studio",
            EngineKind::Sglang => "SGLang",
            EngineKind::OpenaiCompatible => "OpenAI-compatible",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointStatus {
    /// Answered with a model list.
    Up,
    /// Refused, timed out, or unreachable.
    Down,
    /// Answered, but not like any engine we know.
    Garbage,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiscoveredModel {
    pub id: String,
    /// The window the engine serves the model with, when it says (vLLM `max_model_len`,
    /// llama.cpp `n_ctx`, LM Studio loaded length), else the model's maximum.
    pub context_length: Option<u32>,
    /// The model's trained maximum (Ollama `<arch>.context_length`, LM Studio
    /// `max_context_length`, llama.cpp `n_ctx_train`).
    pub max_context_length: Option<u32>,
    /// Ollama: `PARAMETER num_ctx` from the Modelfile.
    pub num_ctx: Option<u32>,
    /// Ollama capabilities (`tools`, `thinking`, `vision`, ...), when reported.
    pub capabilities: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointReport {
    pub name: String,
    pub base_url: String,
    pub source: EndpointSource,
    pub status: EndpointStatus,
    /// Why it is down or garbage, or what part of an up endpoint's probe failed.
    pub reason: Option<String>,
    pub engine: Option<EngineKind>,
    pub version: Option<String>,
    pub models: Vec<DiscoveredModel>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiscoveryReport {
    pub endpoints: Vec<EndpointReport>,
}

impl DiscoveryReport {
    pub fn up(&self) -> impl Iterator<Item = &EndpointReport> {
        self.endpoints
            .iter()
            .filter(|e| e.status == EndpointStatus::Up)
    }

    /// The report for `base_url` (root or `/v1` form).
    pub fn endpoint(&self, base_url: &str) -> Option<&EndpointReport> {
        let root = super::endpoints::root_url(base_url);
        self.endpoints
            .iter()
            .find(|e| super::endpoints::root_url(&e.base_url) == root)
    }
}

/// A plain-text table for `switchyard discover` / `switchyard check`: one line per endpoint,
/// then its models indented with their windows.
pub fn render_report(report: &DiscoveryReport) -> String {
    let mut out = String::new();
    let width = report
        .endpoints
        .iter()
        .map(|e| e.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    let url_width = report
        .endpoints
        .iter()
        .map(|e| e.base_url.len())
        .max()
        .unwrap_or(0);
    for e in &report.endpoints {
        let status = match e.status {
            EndpointStatus::Up => "up",
            EndpointStatus::Down => "down",
            EndpointStatus::Garbage => "??",
        };
        let mut detail = match (e.engine, &e.version) {
            (Some(kind), Some(v)) => format!("{} {v}", kind.label()),
            (Some(kind), None) => kind.label().to_owned(),
            (None, _) => String::new(),
        };
        if e.status == EndpointStatus::Up {
            let n = e.models.len();
            let _ = write!(detail, ", {n} model{}", if n == 1 { "" } else { "s" });
        }
        if let Some(reason) = &e.reason {
            if !detail.is_empty() {
                detail.push_str(": ");
            }
            detail.push_str(reason);
        }
        let _ = writeln!(
            out,
            "{status:<4}  {:<width$}  {:<url_width$}  {detail}",
            e.name, e.base_url
        );
        for m in &e.models {
            let ctx = match (m.context_length, m.max_context_length) {
                (Some(c), Some(max)) if c != max => format!("ctx {c} (max {max})"),
                (Some(c), _) | (None, Some(c)) => format!("ctx {c}"),
                (None, None) => "ctx ?".to_owned(),
            };
            let num_ctx = m
                .num_ctx
                .map(|n| format!(", num_ctx {n}"))
                .unwrap_or_default();
            let caps = if m.capabilities.is_empty() {
                String::new()
            } else {
                format!(", {}", m.capabilities.join(" "))
            };
            let _ = writeln!(out, "      - {}  {ctx}{num_ctx}{caps}", m.id);
        }
    }
    if report.endpoints.is_empty() {
        out.push_str("no endpoints probed\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(name: &str, status: EndpointStatus) -> EndpointReport {
        EndpointReport {
            name: name.to_owned(),
            base_url: "http://127.0.0.1:11434".to_owned(),
            source: EndpointSource::Default,
            status,
            reason: None,
            engine: None,
            version: None,
            models: Vec::new(),
            elapsed_ms: 3,
        }
    }

    #[test]
    fn table_lists_endpoints_and_models() {
        let mut ollama = endpoint("Ollama", EndpointStatus::Up);
        ollama.engine = Some(EngineKind::Ollama);
        ollama.version = Some("0.33.0".into());
        ollama.models.push(DiscoveredModel {
            id: "qwen3-coder:30b".into(),
            context_length: Some(131_072),
            max_context_length: Some(262_144),
            num_ctx: None,
            capabilities: vec!["completion".into(), "tools".into()],
        });
        let mut down = endpoint("vLLM", EndpointStatus::Down);
        down.base_url = "http://127.0.0.1:8000".into();
        down.reason = Some("connection refused".into());
        let text = render_report(&DiscoveryReport {
            endpoints: vec![ollama, down],
        });
        assert_eq!(
            text,
            "up    Ollama    http://127.0.0.1:11434  Ollama 0.33.0, 1 model\n\
             \x20     - qwen3-coder:30b  ctx 131072 (max 262144), completion tools\n\
             down  vLLM      http://127.0.0.1:8000   connection refused\n"
        );
    }
}

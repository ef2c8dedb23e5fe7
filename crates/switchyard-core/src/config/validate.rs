use std::collections::HashSet;
use std::net::IpAddr;

use super::locate::{Step, line_of, render};
use super::{CacheConfig, Config, Issue, RouteSpec, Strategy, TargetSpec};

fn key(s: &str) -> Step {
    Step::Key(s.to_owned())
}

struct Checker<'a> {
    text: &'a str,
    issues: Vec<Issue>,
}

impl Checker<'_> {
    fn issue(&mut self, path: &[Step], message: impl Into<String>) {
        self.issues.push(Issue {
            field: render(path),
            line: line_of(self.text, path),
            message: message.into(),
        });
    }
}

/// A backend's keys: valid variable and key names, none twice, and one source.
fn check_keys(c: &mut Checker<'_>, backend: &super::BackendConfig, at: &dyn Fn(&str) -> Vec<Step>) {
    if let Some(env) = &backend.api_key_env {
        if env.names().is_empty() {
            c.issue(&at("api_key_env"), "name at least one environment variable");
        }
        let mut seen = HashSet::new();
        for var in env.names() {
            if var.is_empty() || var.contains('=') || var.contains('\0') {
                c.issue(
                    &at("api_key_env"),
                    format!("{var:?} is not an environment variable name"),
                );
            } else if !seen.insert(var) {
                c.issue(&at("api_key_env"), format!("{var:?} is listed twice"));
            }
        }
        if !backend.keys.is_empty() {
            c.issue(
                &at("keys"),
                "a backend reads its keys from the keychain (keys) or from the environment (api_key_env), not both: remove one",
            );
        }
    }
    let mut seen = HashSet::new();
    for name in &backend.keys {
        if !super::is_valid_key_name(name) {
            c.issue(
                &at("keys"),
                format!("{name:?} is not a valid key name: use up to 64 letters, digits, '-', '_' or '.'"),
            );
        } else if !seen.insert(name) {
            c.issue(&at("keys"), format!("the key {name:?} is listed twice"));
        }
    }
}

/// Where a backend is reached: a URL for most kinds; for Bedrock a region unless a URL is
/// given, for Vertex a project and a region (the region is also part of Vertex's paths).
fn check_endpoint(
    c: &mut Checker<'_>,
    backend: &super::BackendConfig,
    at: &dyn Fn(&str) -> Vec<Step>,
) {
    use super::BackendKind;
    let kind = backend.kind;
    match (backend.base_url_override(), kind.has_default_endpoint()) {
        (Some(url), _) => match reqwest::Url::parse(url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
            Ok(_) => c.issue(
                &at("base_url"),
                format!("{:?} must be an http:// or https:// URL", backend.base_url),
            ),
            Err(err) => c.issue(
                &at("base_url"),
                format!("{:?} is not a URL: {err}", backend.base_url),
            ),
        },
        (None, true) => {}
        (None, false) if backend.base_url.is_empty() => c.issue(
            &at("base_url"),
            format!(
                "a backend of kind {:?} needs the URL of its API (for example http://127.0.0.1:11434)",
                kind.as_str()
            ),
        ),
        (None, false) => c.issue(
            &at("base_url"),
            format!("{:?} must be an http:// or https:// URL", backend.base_url),
        ),
    }
    match (kind, backend.region()) {
        (BackendKind::Bedrock, None) if backend.base_url_override().is_none() => c.issue(
            &at("region"),
            "a bedrock backend needs its AWS region (region = \"us-east-1\"), or a base_url",
        ),
        (BackendKind::Vertex, None) => c.issue(
            &at("region"),
            "a vertex backend needs its Google Cloud region (region = \"us-east5\", or \"global\")",
        ),
        (BackendKind::Bedrock | BackendKind::Vertex, Some(region))
            if !crate::backends::bedrock::request::is_region_name(region) =>
        {
            c.issue(
                &at("region"),
                format!(
                    "{region:?} is not a region name: lowercase letters, digits and dashes, such as us-east-1"
                ),
            );
        }
        (BackendKind::Bedrock | BackendKind::Vertex, _) => {}
        (_, _) if backend.region.is_some() => c.issue(
            &at("region"),
            format!(
                "only bedrock and vertex backends have a region; remove it from this {} backend",
                kind.as_str()
            ),
        ),
        _ => {}
    }
    match (kind, backend.project()) {
        (BackendKind::Vertex, None) => c.issue(
            &at("project"),
            "a vertex backend needs the Google Cloud project its Claude models are enabled in (project = \"my-project\")",
        ),
        (BackendKind::Vertex, Some(_)) => {}
        (_, _) if backend.project.is_some() => c.issue(
            &at("project"),
            format!(
                "only vertex backends have a project; remove it from this {} backend",
                kind.as_str()
            ),
        ),
        _ => {}
    }
}

/// Every problem in `config` (`text` is the file it came from, used to find lines).
pub fn validate(config: &Config, text: &str) -> Vec<Issue> {
    let mut c = Checker {
        text,
        issues: Vec::new(),
    };

    if !config.listen.ip().is_loopback() {
        c.issue(
            &[key("listen")],
            format!(
                "{} is not a loopback address; the gateway only listens on 127.0.0.1 or [::1] (a headless machine can override this with `switchyard serve --listen ADDR --allow-non-loopback`)",
                config.listen
            ),
        );
    }
    if config.max_body_mib == 0 {
        c.issue(&[key("max_body_mib")], "must be at least 1");
    }

    let mut ids = HashSet::new();
    for (i, backend) in config.backends.iter().enumerate() {
        let at = |field: &str| vec![key("backends"), Step::Index(i), key(field)];
        if backend.id.is_empty()
            || !backend
                .id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
        {
            c.issue(
                &at("id"),
                format!(
                    "{:?} is not a valid backend id: use letters, digits, '-', '_' or '.'",
                    backend.id
                ),
            );
        } else if !ids.insert(backend.id.as_str()) {
            c.issue(
                &at("id"),
                format!("backend id {:?} is used twice", backend.id),
            );
        }
        check_endpoint(&mut c, backend, &at);
        check_keys(&mut c, backend, &at);
        for (field, value) in [
            ("timeout_connect_s", backend.timeout_connect_s),
            ("timeout_first_byte_s", backend.timeout_first_byte_s),
            ("timeout_idle_s", backend.timeout_idle_s),
        ] {
            if value == 0 {
                c.issue(&at(field), "must be at least 1 second");
            }
        }
        if backend.context_length == Some(0) {
            c.issue(&at("context_length"), "must be a positive number of tokens");
        }
        if backend.max_output_tokens == Some(0) {
            c.issue(
                &at("max_output_tokens"),
                "must be a positive number of tokens",
            );
        }
        for (name, value) in &backend.headers {
            let mut path = at("headers");
            path.push(key(name));
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                c.issue(&path, format!("{name:?} is not a valid HTTP header name"));
            } else if http::HeaderValue::from_str(value).is_err() {
                c.issue(&path, "the value is not a valid HTTP header value");
            }
        }
    }

    if !config.profiles.contains_key(&config.active_profile) {
        let known: Vec<_> = config.profiles.keys().map(String::as_str).collect();
        c.issue(
            &[key("active_profile")],
            format!(
                "there is no profile {:?} (profiles: {})",
                config.active_profile,
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        );
    }

    for (name, profile) in &config.profiles {
        let base = vec![key("profiles"), key(name)];
        if let Some(default) = &profile.default {
            let mut path = base.clone();
            path.push(key("default"));
            let unweighted = default
                .strategy()
                .or(profile.strategy)
                .filter(|s| *s != Strategy::Weighted);
            match default {
                RouteSpec::Target(target) => {
                    check_target(&mut c, config, &path, target);
                    if let Some(strategy) = unweighted {
                        check_no_weights(
                            &mut c,
                            &path,
                            None,
                            std::slice::from_ref(target),
                            strategy,
                        );
                    }
                }
                RouteSpec::Route {
                    targets, fallbacks, ..
                } => {
                    check_targets(&mut c, config, &path, "targets", targets, true);
                    check_targets(&mut c, config, &path, "fallbacks", fallbacks, false);
                    if let Some(strategy) = unweighted {
                        check_no_weights(&mut c, &path, Some("targets"), targets, strategy);
                    }
                }
            }
        }
        for (i, rule) in profile.rules.iter().enumerate() {
            let mut path = base.clone();
            path.extend([key("rules"), Step::Index(i)]);
            if rule.pattern.trim().is_empty() {
                let mut p = path.clone();
                p.push(key("match"));
                c.issue(&p, "must be a model name or a glob such as \"*sonnet*\"");
            }
            check_targets(&mut c, config, &path, "targets", &rule.targets, true);
            check_targets(&mut c, config, &path, "fallbacks", &rule.fallbacks, false);
            if let Some(strategy) = rule
                .strategy
                .or(profile.strategy)
                .filter(|s| *s != Strategy::Weighted)
            {
                check_no_weights(&mut c, &path, Some("targets"), &rule.targets, strategy);
            }
        }
    }
    check_usage_settings(&mut c, config);
    check_telemetry_settings(&mut c, config);
    c.issues
}

fn check_usage_settings(c: &mut Checker<'_>, config: &Config) {
    for (model, price) in &config.pricing {
        for (field, value) in [
            ("input", Some(price.input)),
            ("output", Some(price.output)),
            ("cache_read", price.cache_read),
            ("cache_write", price.cache_write),
        ] {
            if value.is_some_and(|v| !v.is_finite() || v < 0.0) {
                c.issue(
                    &[key("pricing"), key(model), key(field)],
                    "must be a price in USD per million tokens, 0 or more",
                );
            }
        }
    }
    let mut names = HashSet::new();
    for (i, budget) in config.budgets.iter().enumerate() {
        let at = |field: &str| vec![key("budgets"), Step::Index(i), key(field)];
        if budget.name.trim().is_empty() {
            c.issue(&at("name"), "must name the budget (shown when it is spent)");
        } else if !names.insert(budget.name.as_str()) {
            c.issue(
                &at("name"),
                format!("budget name {:?} is used twice", budget.name),
            );
        }
        match (&budget.profile, &budget.backend) {
            (Some(_), Some(_)) | (None, None) => c.issue(
                &at("name"),
                "set exactly one of `profile` or `backend` (what the budget applies to)",
            ),
            (Some(p), None) if !config.profiles.contains_key(p) => {
                c.issue(&at("profile"), format!("there is no profile {p:?}"))
            }
            (None, Some(b)) if config.backend(b).is_none() => {
                c.issue(&at("backend"), format!("there is no backend {b:?}"))
            }
            _ => {}
        }
        if !budget.limit_usd.is_finite() || budget.limit_usd < 0.0 {
            c.issue(&at("limit_usd"), "must be an amount in USD, 0 or more");
        }
    }
    if config.usage.retention_days == Some(0) {
        c.issue(
            &[key("usage"), key("retention_days")],
            "must be at least 1 (remove it to keep the history forever)",
        );
    }
    check_cache_settings(c, config);
    let capture = &config.capture;
    if capture.retention_days == 0 {
        c.issue(
            &[key("capture"), key("retention_days")],
            "must be at least 1 day",
        );
    }
    if capture.max_mib == 0 || capture.max_mib > super::CaptureConfig::MAX_MIB {
        c.issue(
            &[key("capture"), key("max_mib")],
            format!(
                "must be between 1 and {} MiB",
                super::CaptureConfig::MAX_MIB
            ),
        );
    }
}

fn check_cache_settings(c: &mut Checker<'_>, config: &Config) {
    let cache = &config.cache;
    if cache.ttl_s == 0 {
        c.issue(
            &[key("cache"), key("ttl_s")],
            "must be at least 1 second (set enabled = false to turn the cache off)",
        );
    } else if cache.ttl_s > MAX_CACHE_TTL_S {
        c.issue(
            &[key("cache"), key("ttl_s")],
            format!("must be at most {MAX_CACHE_TTL_S} seconds (a year)"),
        );
    }
    if cache.max_mib == 0 || cache.max_mib > CacheConfig::MAX_MIB {
        c.issue(
            &[key("cache"), key("max_mib")],
            format!(
                "must be between 1 and {} MiB (set enabled = false to turn the cache off)",
                CacheConfig::MAX_MIB
            ),
        );
    }
}

/// A year: longer would only keep answers nobody remembers asking for (and the expiry sum
/// stays far from overflow).
const MAX_CACHE_TTL_S: u64 = 366 * 24 * 3600;

/// `[telemetry]`: the endpoint is an http(s) URL without credentials (those go in a header,
/// ideally `env:VAR`), headers are valid and not ones Switchyard sets, `env:` names a
/// variable. Variables are read when the exporter starts, not here: the app validates files
/// in an environment that may lack them.
fn check_telemetry_settings(c: &mut Checker<'_>, config: &Config) {
    use crate::telemetry::config::{env_var_of, is_reserved_header};
    let telemetry = &config.telemetry;
    let at = |field: &str| vec![key("telemetry"), key(field)];
    if let Some(endpoint) = &telemetry.otlp_endpoint {
        match crate::telemetry::traces_url(endpoint) {
            Ok(url) if !url.username().is_empty() || url.password().is_some() => c.issue(
                &at("otlp_endpoint"),
                "put credentials in a header (headers = { authorization = \"env:VAR\" }), not in the URL",
            ),
            Ok(_) => {}
            Err(_) => c.issue(
                &at("otlp_endpoint"),
                format!(
                    "{endpoint:?} must be an http:// or https:// URL (an OTLP/HTTP collector, such as \"http://127.0.0.1:4318\")"
                ),
            ),
        }
    }
    if telemetry.service_name.trim().is_empty() {
        c.issue(&at("service_name"), "must not be empty");
    }
    for (name, value) in &telemetry.headers {
        let mut path = at("headers");
        path.push(key(name));
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            c.issue(&path, format!("{name:?} is not a valid HTTP header name"));
        } else if is_reserved_header(name) {
            c.issue(&path, format!("{name:?} is set by Switchyard: remove it"));
        } else if let Some(var) = env_var_of(value) {
            if var.is_empty() || var.contains('=') || var.contains('\0') {
                c.issue(
                    &path,
                    format!("{var:?} is not an environment variable name (env:NAME)"),
                );
            }
        } else if http::HeaderValue::from_str(value).is_err() {
            c.issue(&path, "the value is not a valid HTTP header value");
        }
    }
}

fn check_targets(
    c: &mut Checker<'_>,
    config: &Config,
    base: &[Step],
    field: &str,
    targets: &[TargetSpec],
    required: bool,
) {
    let mut path = base.to_vec();
    path.push(key(field));
    if required && targets.is_empty() {
        c.issue(&path, "needs at least one target ({ backend = \"...\" })");
    }
    for (i, target) in targets.iter().enumerate() {
        let mut p = path.clone();
        p.push(Step::Index(i));
        check_target(c, config, &p, target);
    }
}

fn check_target(c: &mut Checker<'_>, config: &Config, path: &[Step], target: &TargetSpec) {
    if config.backend(&target.backend).is_none() {
        let mut p = path.to_vec();
        p.push(key("backend"));
        let known: Vec<_> = config.backends.iter().map(|b| b.id.as_str()).collect();
        c.issue(
            &p,
            format!(
                "there is no backend {:?} (backends: {})",
                target.backend,
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        );
    }
    if target.weight == Some(0) {
        let mut p = path.to_vec();
        p.push(key("weight"));
        c.issue(&p, "must be at least 1");
    }
}

/// A route whose strategy (said on it or on its profile) is not `weighted` never reads a
/// weight: refuse one rather than ignore it. `field` is `None` for a default written as one
/// inline target.
fn check_no_weights(
    c: &mut Checker<'_>,
    base: &[Step],
    field: Option<&str>,
    targets: &[TargetSpec],
    strategy: Strategy,
) {
    for (i, target) in targets.iter().enumerate() {
        if target.weight.is_none() {
            continue;
        }
        let mut path = base.to_vec();
        if let Some(field) = field {
            path.extend([key(field), Step::Index(i)]);
        }
        path.push(key("weight"));
        c.issue(
            &path,
            format!(
                "weights only apply with strategy = \"weighted\"; this route is \"{}\" ({}): remove the weight or set strategy = \"weighted\"",
                strategy.as_str(),
                strategy.describe()
            ),
        );
    }
}

/// `localhost`, `*.localhost`, `127.x.x.x`, `::1` (with or without brackets).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigError, DEFAULT_CONFIG, parse};
    use std::path::Path;

    #[test]
    fn the_default_config_is_valid() {
        let config = parse(DEFAULT_CONFIG, Path::new("default.toml")).unwrap();
        assert_eq!(config.active_profile, "local");
        assert_eq!(config.listen.to_string(), "127.0.0.1:4747");
        assert_eq!(config.backends.len(), 2);
        assert!(config.profiles.contains_key("cloud"));
    }

    /// The commented `[usage]`, `[[budgets]]` and `[pricing]` examples at the end of the
    /// default config must stay valid for a user who uncomments them.
    #[test]
    fn the_default_configs_commented_examples_are_valid() {
        let start = DEFAULT_CONFIG.find("# [usage]").unwrap();
        let uncommented: String = DEFAULT_CONFIG[start..]
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest) if rest.starts_with('[') || rest.contains(" = ") => rest,
                _ => line,
            })
            .map(|line| format!("{line}\n"))
            .collect();
        let text = format!("{}{uncommented}", &DEFAULT_CONFIG[..start]);
        let config = parse(&text, Path::new("default.toml")).unwrap();
        assert_eq!(config.usage.retention_days, Some(90));
        assert!(config.cache.enabled);
        assert_eq!((config.cache.ttl_s, config.cache.max_mib), (3600, 256));
        assert_eq!(config.budgets.len(), 1);
        assert_eq!(config.budgets[0].profile.as_deref(), Some("cloud"));
        assert_eq!(config.pricing["deepseek-chat"].output, 1.10);
        assert_eq!(
            config.telemetry.otlp_endpoint.as_deref(),
            Some("http://127.0.0.1:4318")
        );
        assert_eq!(
            config.telemetry.headers["authorization"],
            "env:OTEL_AUTH_HEADER"
        );
        assert!(!config.telemetry.include_bodies);
    }

    fn issues(text: &str) -> Vec<Issue> {
        match parse(text, Path::new("c.toml")) {
            Err(ConfigError::Invalid { issues, .. }) => issues,
            other => panic!("expected validation issues, got {other:?}"),
        }
    }

    #[test]
    fn unknown_backend_in_a_rule_names_field_and_line() {
        let text = "active_profile = \"p\"\n[[backends]]\nid = \"a\"\nkind = \"ollama\"\nbase_url = \"http://127.0.0.1:1\"\n[profiles.p]\n[[profiles.p.rules]]\nmatch = \"*sonnet*\"\ntargets = [{ backend = \"nope\" }]\n";
        let found = issues(text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field, "profiles.p.rules[0].targets[0].backend");
        assert_eq!(found[0].line, Some(9));
        assert!(
            found[0].message.contains("\"nope\""),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("backends: a"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn several_problems_are_all_reported() {
        let text = "listen = \"0.0.0.0:4747\"\nactive_profile = \"missing\"\n[[backends]]\nid = \"a\"\nkind = \"ollama\"\nbase_url = \"ftp://x\"\n[[backends]]\nid = \"a\"\nkind = \"anthropic\"\nbase_url = \"http://127.0.0.1\"\ntimeout_idle_s = 0\n[profiles.p]\n";
        let found = issues(text);
        let fields: Vec<_> = found.iter().map(|i| (i.field.as_str(), i.line)).collect();
        assert_eq!(
            fields,
            [
                ("listen", Some(1)),
                ("backends[0].base_url", Some(6)),
                ("backends[1].id", Some(8)),
                ("backends[1].timeout_idle_s", Some(11)),
                ("active_profile", Some(2)),
            ]
        );
    }

    #[test]
    fn syntax_and_type_errors_carry_the_line() {
        let text = "active_profile = \"p\"\n[[backends]]\nid = \"a\"\nkind = \"smoke-signals\"\nbase_url = \"http://x\"\n";
        match parse(text, Path::new("c.toml")) {
            Err(ConfigError::Syntax { line, message, .. }) => {
                assert_eq!(line, 4);
                assert!(message.contains("smoke-signals"), "{message}");
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
        match parse("active_profile = \"p\"\nlisten = [\n", Path::new("c.toml")) {
            Err(ConfigError::Syntax { line, .. }) => assert!(line >= 2),
            other => panic!("expected a syntax error, got {other:?}"),
        }
        match parse("active_profile = \"p\"\ncolour = 1\n", Path::new("c.toml")) {
            Err(ConfigError::Syntax { line, message, .. }) => {
                assert_eq!(line, 2);
                assert!(message.contains("colour"), "{message}");
            }
            other => panic!("expected an unknown-field error, got {other:?}"),
        }
    }

    #[test]
    fn budgets_and_prices_are_checked_with_lines() {
        let text = format!(
            "{DEFAULT_CONFIG}\n[pricing.\"my-model\"]\ninput = -1.0\noutput = 2.0\n\n[[budgets]]\nname = \"cap\"\nbackend = \"nope\"\nperiod = \"daily\"\nlimit_usd = 5.0\nmode = \"hard\"\n\n[usage]\nretention_days = 0\n"
        );
        let found = issues(&text);
        let fields: Vec<_> = found.iter().map(|i| i.field.as_str()).collect();
        assert!(fields.contains(&"pricing.my-model.input"), "{found:?}");
        assert!(fields.contains(&"budgets[0].backend"), "{found:?}");
        assert!(fields.contains(&"usage.retention_days"), "{found:?}");
        assert!(found.iter().all(|i| i.line.is_some()), "{found:?}");
    }

    #[test]
    fn cache_settings_are_checked_with_lines_and_round_trip() {
        let text = format!("{DEFAULT_CONFIG}\n[cache]\nenabled = true\nttl_s = 0\nmax_mib = 0\n");
        let found = issues(&text);
        let lines = DEFAULT_CONFIG.lines().count();
        let at: Vec<_> = found.iter().map(|i| (i.field.as_str(), i.line)).collect();
        assert_eq!(
            at,
            [
                ("cache.ttl_s", Some(lines + 4)),
                ("cache.max_mib", Some(lines + 5))
            ],
            "{found:?}"
        );
        assert!(found[0].message.contains("at least 1 second"), "{found:?}");
        let huge = format!("{DEFAULT_CONFIG}\n[cache]\nmax_mib = 70000\nttl_s = 99999999\n");
        assert_eq!(issues(&huge).len(), 2);

        let on = DEFAULT_CONFIG.replace(
            "default = { backend = \"anthropic\" }\n",
            "default = { backend = \"anthropic\" }\ncache = true\n",
        );
        let text = format!("{on}\n[cache]\nenabled = true\nttl_s = 60\n");
        let config = parse(&text, Path::new("t.toml")).unwrap();
        assert_eq!((config.cache.ttl_s, config.cache.max_mib), (60, 256));
        assert!(config.caches("cloud") && !config.caches("local"));
        let saved = toml::to_string_pretty(&config).unwrap();
        assert_eq!(parse(&saved, Path::new("t.toml")).unwrap(), config);
        // The profile's flag alone does nothing; so does `[cache]` alone.
        let off = parse(&on, Path::new("t.toml")).unwrap();
        assert!(!off.caches("cloud"));
        // Absent, the section is not written back.
        let plain = parse(DEFAULT_CONFIG, Path::new("t.toml")).unwrap();
        assert!(!toml::to_string_pretty(&plain).unwrap().contains("[cache]"));
    }

    #[test]
    fn budgets_prices_and_retention_round_trip() {
        let text = format!(
            "{DEFAULT_CONFIG}\n[pricing.\"my-model\"]\ninput = 1.5\noutput = 2.0\n\n[[budgets]]\nname = \"cap\"\nprofile = \"local\"\nperiod = \"monthly\"\nlimit_usd = 5.0\nmode = \"hard\"\n\n[usage]\nretention_days = 90\n"
        );
        let config = parse(&text, Path::new("t.toml")).unwrap();
        assert_eq!(config.pricing["my-model"].input, 1.5);
        assert_eq!(config.budgets[0].mode, crate::budget::BudgetMode::Hard);
        assert_eq!(config.usage.retention_days, Some(90));
        let saved = toml::to_string_pretty(&config).unwrap();
        assert_eq!(parse(&saved, Path::new("t.toml")).unwrap(), config);
    }

    #[test]
    fn bedrock_and_vertex_need_their_region_and_project_not_a_url() {
        let head = "active_profile = \"p\"\n[profiles.p]\n";
        let ok = format!(
            "{head}[[backends]]\nid = \"bedrock\"\nkind = \"bedrock\"\nregion = \"us-east-1\"\n[[backends]]\nid = \"vpce\"\nkind = \"bedrock\"\nbase_url = \"https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com\"\n[[backends]]\nid = \"vertex\"\nkind = \"vertex\"\nproject = \"my-project\"\nregion = \"global\"\n"
        );
        let config = parse(&ok, Path::new("c.toml")).unwrap();
        assert_eq!(config.backends[0].base_url, "");
        assert_eq!(config.backends[0].region(), Some("us-east-1"));
        assert!(
            !config.backends[0].is_local(),
            "a cloud, though it has no URL"
        );
        assert_eq!(config.backends[2].project(), Some("my-project"));
        // An empty base_url is not written back; region and project are.
        let saved = toml::to_string_pretty(&config).unwrap();
        assert!(!saved.contains("base_url = \"\""), "{saved}");
        assert_eq!(parse(&saved, Path::new("c.toml")).unwrap(), config);

        let bad = format!(
            "{head}[[backends]]\nid = \"b\"\nkind = \"bedrock\"\n[[backends]]\nid = \"v\"\nkind = \"vertex\"\nregion = \"US East\"\n[[backends]]\nid = \"o\"\nkind = \"ollama\"\nregion = \"us-east-1\"\nproject = \"x\"\n[[backends]]\nid = \"a\"\nkind = \"anthropic\"\n"
        );
        let found = issues(&bad);
        let at: Vec<_> = found.iter().map(|i| (i.field.as_str(), i.line)).collect();
        assert_eq!(
            at,
            [
                // A missing key: the line of its backend's [[backends]].
                ("backends[0].region", Some(3)),
                ("backends[1].region", Some(9)),
                ("backends[1].project", Some(6)),
                ("backends[2].base_url", Some(10)),
                ("backends[2].region", Some(13)),
                ("backends[2].project", Some(14)),
                ("backends[3].base_url", Some(15)),
            ],
            "{found:?}"
        );
        assert!(found[0].message.contains("AWS region"), "{found:?}");
        assert!(found[1].message.contains("not a region name"), "{found:?}");
        assert!(found[2].message.contains("project"), "{found:?}");
        assert!(found[3].message.contains("needs the URL"), "{found:?}");
        assert!(
            found[4].message.contains("only bedrock and vertex"),
            "{found:?}"
        );
        assert!(found[5].message.contains("only vertex"), "{found:?}");
    }

    #[test]
    fn telemetry_settings_are_checked_with_lines_and_round_trip() {
        let text = format!(
            "{DEFAULT_CONFIG}\n[telemetry]\notlp_endpoint = \"grpc://collector:4317\"\nservice_name = \" \"\nheaders = {{ \"content-type\" = \"text/plain\", \"x-key\" = \"env:\", \"bad header\" = \"x\" }}\n"
        );
        let found = issues(&text);
        let lines = DEFAULT_CONFIG.lines().count();
        let at: Vec<_> = found.iter().map(|i| (i.field.as_str(), i.line)).collect();
        assert_eq!(
            at,
            [
                ("telemetry.otlp_endpoint", Some(lines + 3)),
                ("telemetry.service_name", Some(lines + 4)),
                ("telemetry.headers.bad header", Some(lines + 5)),
                ("telemetry.headers.content-type", Some(lines + 5)),
                ("telemetry.headers.x-key", Some(lines + 5)),
            ],
            "{found:?}"
        );
        let with_password = format!(
            "{DEFAULT_CONFIG}\n[telemetry]\notlp_endpoint = \"https://user:pw@otel.example.com\"\n"
        );
        let found = issues(&with_password);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("header"), "{found:?}");

        // Valid: the endpoint with or without /v1/traces, env: values not read while
        // validating (the variable need not exist here).
        let text = format!(
            "{DEFAULT_CONFIG}\n[telemetry]\notlp_endpoint = \"http://127.0.0.1:4318/v1/traces\"\ninclude_bodies = true\nheaders = {{ authorization = \"env:SWITCHYARD_TEST_SURELY_UNSET\" }}\n"
        );
        let config = parse(&text, Path::new("t.toml")).unwrap();
        assert!(config.telemetry.enabled() && config.telemetry.include_bodies);
        assert_eq!(config.telemetry.service_name, "switchyard");
        let saved = toml::to_string_pretty(&config).unwrap();
        assert_eq!(parse(&saved, Path::new("t.toml")).unwrap(), config);
        // Absent, the section is neither on nor written back.
        let plain = parse(DEFAULT_CONFIG, Path::new("t.toml")).unwrap();
        assert!(!plain.telemetry.enabled());
        assert!(
            !toml::to_string_pretty(&plain)
                .unwrap()
                .contains("telemetry")
        );
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.1.2.3",
            "[::1]",
            "::1",
            "a.localhost",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "example.com",
            "10.0.0.1",
            "0.0.0.0",
            "localhost.evil.com",
            "[::2]",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}

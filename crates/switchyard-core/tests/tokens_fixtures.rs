//! The token estimate against reference counts from Anthropic's published tokenizer
//! (`tests/fixtures/tokens/reference.json`, produced by `reference.cjs`, not by our code).
//! The bounds are the measured spread recorded in `docs/TOKEN-ESTIMATE.md`, rounded outward:
//! a change to the estimator that moves any fixture outside them must update that document.

// Helpers live in a cfg(test) module so the workspace unwrap/expect lints treat them as test code.
#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use serde::Deserialize;
    use switchyard_core::anthropic::MessagesRequest;
    use switchyard_core::tokens::{estimate_request_breakdown, estimate_request_tokens};

    /// Largest accepted under-estimate, in percent of the reference.
    const MAX_UNDER_PERCENT: f64 = 10.0;
    /// Largest accepted over-estimate, in percent of the reference.
    const MAX_OVER_PERCENT: f64 = 30.0;

    #[derive(Debug, Deserialize)]
    struct Reference {
        claude_text_tokens: u64,
        o200k_text_tokens: u64,
        cl100k_text_tokens: u64,
        text_chars: u64,
        fixed_tokens: u64,
        reference_total: u64,
    }

    fn fixtures_dir() -> &'static Path {
        Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/tokens"
        ))
    }

    fn load() -> Vec<(String, MessagesRequest, Reference)> {
        let refs: BTreeMap<String, Reference> = serde_json::from_str(
            &std::fs::read_to_string(fixtures_dir().join("reference.json")).unwrap(),
        )
        .unwrap();
        assert!(refs.len() >= 8, "expected at least 8 fixtures");
        refs.into_iter()
            .map(|(name, reference)| {
                let body =
                    std::fs::read_to_string(fixtures_dir().join(format!("{name}.json"))).unwrap();
                let req: MessagesRequest = serde_json::from_str(&body).unwrap();
                (name, req, reference)
            })
            .collect()
    }

    fn error_percent(estimate: u64, reference: u64) -> f64 {
        (estimate as f64 - reference as f64) * 100.0 / reference as f64
    }

    #[test]
    fn estimates_stay_within_measured_bounds_of_the_reference() {
        let mut failures = Vec::new();
        println!(
            "| fixture | estimate | reference | error % | o200k raw % | cl100k raw % | chars/3.5 % |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for (name, req, r) in load() {
            let estimate = estimate_request_tokens(&req);
            let err = error_percent(estimate, r.reference_total);
            // The same fixed parts with other text counts, to show why o200k x 1.15 was chosen.
            let alt = |text: u64| error_percent(text + r.fixed_tokens, r.reference_total);
            println!(
                "| {name} | {estimate} | {} | {err:+.1} | {:+.1} | {:+.1} | {:+.1} |",
                r.reference_total,
                alt(r.o200k_text_tokens),
                alt(r.cl100k_text_tokens),
                alt((r.text_chars as f64 / 3.5).ceil() as u64),
            );
            assert!(r.claude_text_tokens > 0);
            if !(-MAX_UNDER_PERCENT..=MAX_OVER_PERCENT).contains(&err) {
                failures.push(format!(
                    "{name}: {estimate} vs {} ({err:+.1}%)",
                    r.reference_total
                ));
            }
        }
        assert!(failures.is_empty(), "outside bounds: {failures:#?}");
    }

    #[test]
    fn image_fixtures_count_images_by_pixels() {
        for (name, req, r) in load() {
            let b = estimate_request_breakdown(&req);
            if name.contains("image") {
                // Images dominate these fixtures; the reference computes them independently.
                assert!(b.images > 0, "{name}");
                assert!(
                    b.images + b.overhead <= r.fixed_tokens + 10,
                    "{name}: {b:?} vs {r:?}"
                );
                assert!(
                    b.images + b.overhead + 10 >= r.fixed_tokens,
                    "{name}: {b:?} vs {r:?}"
                );
            }
        }
    }

    #[test]
    fn claude_code_sized_request_is_counted_in_full() {
        let (_, req, r) = load()
            .into_iter()
            .find(|(name, ..)| name.contains("90kb"))
            .unwrap();
        let b = estimate_request_breakdown(&req);
        assert_eq!(req.tools.as_deref().map(Vec::len), Some(12));
        assert!(b.system > 5000 && b.tools > 5000, "{b:?}");
        assert!(b.total() > r.reference_total * 9 / 10);
    }
}

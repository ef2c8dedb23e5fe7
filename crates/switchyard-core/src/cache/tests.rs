use super::*;

fn config(ttl_s: u64, max_mib: u64) -> CacheConfig {
    CacheConfig {
        enabled: true,
        ttl_s,
        max_mib,
    }
}

fn answer(text: &str, size: usize) -> CachedAnswer {
    let body = format!(
        r#"{{"type":"message","content":[{{"type":"text","text":"{text}{}"}}],"stop_reason":"end_turn","stop_sequence":null,"usage":{{"input_tokens":3,"output_tokens":5}}}}"#,
        "x".repeat(size)
    );
    CachedAnswer {
        shape: Shape::Json,
        parts: vec![Bytes::from(body)],
        usage: Usage {
            input_tokens: 3,
            output_tokens: 5,
            ..Usage::default()
        },
    }
}

fn fetch(cache: &ResponseCache, key: u128) -> Option<CachedAnswer> {
    match cache.probe(key, crate::usage::now_ms()) {
        Probe::Miss => None,
        Probe::Ready(answer) => Some((*answer).clone()),
        Probe::Stored => cache.read(key),
    }
}

#[test]
fn an_answer_is_visible_at_once_then_read_back_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usage.sqlite3");
    let cache = ResponseCache::open(&path, &config(3600, 1)).unwrap();
    let a = answer("one", 10);
    cache.store(1, a.clone(), "b", "m");
    // Before the writer got to it, and after.
    assert_eq!(fetch(&cache, 1).as_ref(), Some(&a));
    cache.flush();
    assert!(matches!(
        cache.probe(1, crate::usage::now_ms()),
        Probe::Stored
    ));
    // Written: no longer held in memory.
    let pending = cache.shared.index().pending_bytes;
    assert_eq!(pending, 0);
    assert_eq!(fetch(&cache, 1).as_ref(), Some(&a));
    assert!(fetch(&cache, 2).is_none());
    // Survives a restart.
    cache.shutdown();
    drop(cache);
    let cache = ResponseCache::open(&path, &config(3600, 1)).unwrap();
    assert_eq!(fetch(&cache, 1).as_ref(), Some(&a));
    assert_eq!(cache.stats().0, 1);
}

#[test]
fn expired_answers_are_not_served_and_are_dropped_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usage.sqlite3");
    let cache = ResponseCache::open(&path, &config(3600, 1)).unwrap();
    cache.store(1, answer("one", 10), "b", "m");
    cache.flush();
    let later = crate::usage::now_ms() + 3_600_000;
    assert!(matches!(cache.probe(1, later), Probe::Miss));
    cache.shutdown();
    drop(cache);
    // A shorter TTL at the next start: the row is deleted.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let cache = ResponseCache::open(&path, &config(1, 1)).unwrap();
    assert_eq!(cache.stats(), (0, 0));
    let conn = Connection::open(&path).unwrap();
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM response_cache", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
}

#[test]
fn the_least_recently_used_go_when_the_size_limit_is_reached() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usage.sqlite3");
    // 1 MiB: answers of ~200 KiB (under the quarter a single answer may take).
    let cache = ResponseCache::open(&path, &config(3600, 1)).unwrap();
    for key in 1..=4 {
        cache.store(key, answer("a", 200 << 10), "b", "m");
        cache.flush();
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // Key 1 is used again: key 2 is now the least recently used.
    assert!(fetch(&cache, 1).is_some());
    cache.store(5, answer("a", 200 << 10), "b", "m");
    cache.flush();
    cache.store(6, answer("a", 200 << 10), "b", "m");
    cache.flush();
    // Five answers fit in 1 MiB, six do not: the least recently used one went.
    let (entries, bytes) = cache.stats();
    assert!(bytes <= 1 << 20, "{bytes}");
    assert_eq!(entries, 5);
    assert!(fetch(&cache, 2).is_none());
    for key in [1, 3, 4, 5, 6] {
        assert!(fetch(&cache, key).is_some(), "{key}");
    }
    // Rows go with the index.
    let conn = Connection::open(&path).unwrap();
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM response_cache", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 5);
    // An answer over a quarter of the limit is not kept at all.
    cache.store(7, answer("a", 300 << 10), "b", "m");
    assert!(fetch(&cache, 7).is_none());
}

#[test]
fn stop_reasons_that_may_be_replayed() {
    assert!(cacheable_json(
        br#"{"type":"message","content":[],"stop_reason":"end_turn"}"#
    ));
    assert!(cacheable_json(
        br#"{"type":"message","content":[],"stop_reason":"tool_use"}"#
    ));
    for no in [
        r#"{"type":"message","content":[],"stop_reason":"pause_turn"}"#,
        r#"{"type":"message","content":[],"stop_reason":"refusal"}"#,
        r#"{"type":"message","content":[],"stop_reason":"something_new"}"#,
        r#"{"type":"message","content":[],"stop_reason":null}"#,
        r#"{"type":"error","error":{"type":"api_error","message":"x"}}"#,
        "not json",
    ] {
        assert!(!cacheable_json(no.as_bytes()), "{no}");
    }
}

#[test]
fn either_shape_is_served_from_one_answer() {
    let a = answer("hi", 0);
    let json = a.body_for(false).unwrap();
    assert_eq!(json, a.parts[0]);
    let sse = a.body_for(true).unwrap();
    assert!(sse.starts_with(b"event: message_start"));
    let streamed = CachedAnswer {
        shape: Shape::Sse,
        parts: vec![sse.slice(..10), sse.slice(10..)],
        usage: a.usage,
    };
    assert_eq!(streamed.body_for(true).unwrap(), sse);
    let back: serde_json::Value =
        serde_json::from_slice(&streamed.body_for(false).unwrap()).unwrap();
    let original: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(back, original);
}

#[test]
fn the_writer_sweeps_expired_answers_out_of_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usage.sqlite3");
    let cache = ResponseCache::open(&path, &config(1, 1)).unwrap();
    cache.store(1, answer("one", 10), "b", "m");
    cache.flush();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // What the writer does every minute.
    let mut conn = Connection::open(&path).unwrap();
    store::sweep(&mut conn, &cache.shared);
    assert_eq!(cache.stats(), (0, 0));
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM response_cache", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
}

//! Parts of a request that a client resends unchanged: Claude Code sends the same tool
//! definitions and system prompt (tens of KB each, most of every request) with every request
//! of a session. Parsed from the client's exact bytes, such a part is shared by every later
//! request carrying the same bytes, together with what was derived from it (its token count,
//! its translation for each backend kind), so a repeat costs a hash and a lookup instead of a
//! parse, a count and a translation.

use std::any::{Any, TypeId};
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, LazyLock, Mutex};

use quick_cache::Weighter;
use quick_cache::sync::Cache;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A parsed request part, shared, with a memo of values derived from it.
pub struct Reused<T>(Arc<Inner<T>>);

struct Inner<T> {
    value: T,
    /// The size of the text it was parsed from, for the cache's bound (0: not cached).
    text_bytes: u64,
    /// Derived values by the [`Derivation`] that made them (a handful at most).
    memo: Mutex<Vec<(TypeId, Arc<dyn Any + Send + Sync>)>>,
}

/// One kind of value derived from a `T` (a marker type names it; `Output` is what it makes).
/// The derivation must depend on the part alone: the result is shared by every request that
/// carries the same bytes.
pub trait Derivation<T>: 'static {
    type Output: Send + Sync + 'static;
}

impl<T> Reused<T> {
    pub fn new(value: T) -> Self {
        Self::with_weight(value, 0)
    }

    fn with_weight(value: T, text_bytes: u64) -> Self {
        Reused(Arc::new(Inner {
            value,
            text_bytes,
            memo: Mutex::new(Vec::new()),
        }))
    }

    /// The value `D` derives from this part: built on first use, then shared.
    pub fn derived<D: Derivation<T>>(&self, build: impl FnOnce(&T) -> D::Output) -> Arc<D::Output> {
        let key = TypeId::of::<D>();
        let find = |memo: &[(TypeId, Arc<dyn Any + Send + Sync>)]| {
            memo.iter()
                .find(|(id, _)| *id == key)
                .and_then(|(_, value)| value.clone().downcast::<D::Output>().ok())
        };
        if let Some(found) = find(&self.memo()) {
            return found;
        }
        // Built without the lock: two requests racing on a new part both build, one is kept.
        let built = Arc::new(build(&self.0.value));
        let mut memo = self.memo();
        if let Some(found) = find(&memo) {
            return found;
        }
        memo.push((key, built.clone()));
        built
    }

    fn memo(&self) -> std::sync::MutexGuard<'_, Vec<(TypeId, Arc<dyn Any + Send + Sync>)>> {
        self.0.memo.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T> Clone for Reused<T> {
    fn clone(&self) -> Self {
        Reused(self.0.clone())
    }
}

impl<T> Deref for Reused<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0.value
    }
}

impl<T: PartialEq> PartialEq for Reused<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0.value == other.0.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Reused<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.value.fmt(f)
    }
}

impl<T: Serialize> Serialize for Reused<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.value.serialize(serializer)
    }
}

/// Parsed as part of a whole body: not shared (see [`ReuseCache`] for parts that are).
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Reused<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Reused::new)
    }
}

/// Parts parsed from JSON text, by the text's 128-bit XXH3 hash (a collision would need
/// about 2^64 distinct parts), bounded by the total size of those texts.
pub struct ReuseCache<T: Send + Sync + 'static> {
    parts: LazyLock<Cache<u128, Reused<T>, TextBytes>>,
    /// The texts used last, most recent first: what the next request most likely repeats.
    recent: Mutex<Vec<Seen<T>>>,
}

/// A text that parsed, known by its length, its first and last bytes and its hash.
struct Seen<T> {
    len: usize,
    head: [u8; EDGE],
    tail: [u8; EDGE],
    hash: u128,
    part: Reused<T>,
}

impl<T> Clone for Seen<T> {
    fn clone(&self) -> Self {
        Seen {
            part: self.part.clone(),
            ..*self
        }
    }
}

const EDGE: usize = 16;
/// How many recent texts [`ReuseCache::known`] tries (each a hash of its length at most).
const RECENT: usize = 4;

impl<T> Seen<T> {
    fn of(text: &[u8], hash: u128, part: &Reused<T>) -> Option<Self> {
        Some(Seen {
            len: text.len(),
            head: text.first_chunk::<EDGE>().copied()?,
            tail: text.last_chunk::<EDGE>().copied()?,
            hash,
            part: part.clone(),
        })
    }

    /// Whether `rest` starts with this text.
    fn starts(&self, rest: &[u8]) -> bool {
        rest.get(..self.len).is_some_and(|text| {
            text.first_chunk::<EDGE>() == Some(&self.head)
                && text.last_chunk::<EDGE>() == Some(&self.tail)
                && xxhash_rust::xxh3::xxh3_128(text) == self.hash
        })
    }
}

/// A cached part weighs the size of the text it was parsed from (its derived values are of
/// the same order).
#[derive(Clone)]
struct TextBytes;

impl<T> Weighter<u128, Reused<T>> for TextBytes {
    fn weight(&self, _key: &u128, value: &Reused<T>) -> u64 {
        value.0.text_bytes
    }
}

/// Text kept per cache: a hundred Claude Code tool sets or prompts (subagents have their own,
/// and each session's differ).
const CAPACITY_BYTES: u64 = 8 << 20;
const ESTIMATED_ENTRIES: usize = 64;

impl<T: Send + Sync + 'static> ReuseCache<T> {
    pub const fn new() -> Self {
        ReuseCache {
            parts: LazyLock::new(|| {
                Cache::with_weighter(ESTIMATED_ENTRIES, CAPACITY_BYTES, TextBytes)
            }),
            recent: Mutex::new(Vec::new()),
        }
    }

    /// A part parsed before from a text that `rest` starts with, and the text's length: where
    /// the value at the start of `rest` ends, found without reading it (a JSON array, object
    /// or string ends where its text does, whatever follows).
    pub fn known(&self, rest: &[u8]) -> Option<(usize, Reused<T>)> {
        // Copied out: the hash is not computed under the lock.
        let recent: Vec<Seen<T>> = self.recent().clone();
        let seen = recent.into_iter().find(|seen| seen.starts(rest))?;
        Some((seen.len, seen.part))
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, Vec<Seen<T>>> {
        self.recent.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn used(&self, text: &[u8], hash: u128, part: &Reused<T>) {
        let mut recent = self.recent();
        if recent.first().is_some_and(|s| s.hash == hash) {
            return;
        }
        let Some(seen) = Seen::of(text, hash, part) else {
            return;
        };
        recent.retain(|s| s.hash != hash);
        recent.insert(0, seen);
        recent.truncate(RECENT);
    }

    /// The part `text` holds: shared when the same text was parsed before, else parsed by
    /// `parse` (and kept when it parsed).
    pub fn get_or_parse<E>(
        &self,
        text: &[u8],
        parse: impl FnOnce(&[u8]) -> Result<T, E>,
    ) -> Result<Reused<T>, E> {
        let key = xxhash_rust::xxh3::xxh3_128(text);
        let part = match self.parts.get(&key) {
            Some(found) => found,
            None => {
                let part = Reused::with_weight(parse(text)?, text.len() as u64);
                self.parts.insert(key, part.clone());
                part
            }
        };
        self.used(text, key, &part);
        Ok(part)
    }
}

impl<T: Send + Sync + 'static> Default for ReuseCache<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Length;
    impl Derivation<String> for Length {
        type Output = usize;
    }

    #[test]
    fn a_derived_value_is_built_once_per_part() {
        let part = Reused::new("hello".to_owned());
        let mut builds = 0;
        let first = part.derived::<Length>(|s| {
            builds += 1;
            s.len()
        });
        let again = part.clone().derived::<Length>(|_| {
            builds += 1;
            0
        });
        assert_eq!((*first, *again, builds), (5, 5, 1));
    }

    #[test]
    fn a_repeat_is_shared_and_recognised_only_when_its_bytes_are_the_same() {
        let cache: ReuseCache<String> = ReuseCache::new();
        let text = br#""a system prompt of some length""#;
        let parse = |t: &[u8]| serde_json::from_slice::<String>(t);
        let first = cache.get_or_parse(text, parse).unwrap();
        let second = cache.get_or_parse(text, parse).unwrap();
        assert!(Arc::ptr_eq(&first.0, &second.0));
        let mut rest = text.to_vec();
        rest.extend_from_slice(br#","tools":[]}"#);
        assert_eq!(cache.known(&rest).map(|(len, _)| len), Some(text.len()));
        // Same length, same edges, one byte different inside: not recognised.
        let mut other = rest.clone();
        other[20] = b'X';
        assert!(cache.known(&other).is_none());
        assert!(cache.known(&rest[..text.len() - 1]).is_none());
        // A text that does not parse is neither kept nor recognised.
        assert!(
            cache
                .get_or_parse(b"\"not closed ok ok ok ok", parse)
                .is_err()
        );
        assert!(cache.known(b"\"not closed ok ok ok ok").is_none());
    }
}

//! Work that takes the CPU for a while (parsing, translating and counting multi-MB bodies)
//! must not hold an async worker: four 30 MB `count_tokens` delayed `/health` by 3.6 s.

/// Bodies above this run their heavy steps with the worker handed over (parsing 256 KiB takes
/// about a millisecond; Claude Code's long sessions send several MB).
pub const HEAVY_ABOVE: usize = 256 * 1024;

/// Runs `f` where it cannot starve other requests when `len` is large: tokio moves this
/// worker's other tasks elsewhere for the duration (`block_in_place`). A current-thread
/// runtime (unit tests, tools) has nowhere to move them and runs `f` as it is.
pub fn heavy<T>(len: usize, f: impl FnOnce() -> T) -> T {
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if len > HEAVY_ABOVE && multi_thread {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

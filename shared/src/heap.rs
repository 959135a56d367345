//! The heap of a function's process: freed memory is kept for the next invocation.
//!
//! A Lambda process serves one event at a time, and its memory is reserved for it whether it
//! is used or not. glibc's malloc hands the top of its heap back to the kernel (`brk`) as soon
//! as more than its trim threshold (128 KiB at start, raised only after the first large block
//! is freed) lies unused, and serves blocks of 128 KiB and more with `mmap` and `munmap`. So a
//! function that converts a 1 MB document gave its working set back after every conversion and
//! faulted it in again, page by page, in the next: ~200 page faults per conversion of the bench
//! corpus's large document, 16 % of its time (docs/PERFORMANCE.md, "The heap kept between
//! conversions").
//!
//! The thresholds are set to what glibc's own dynamic rule would reach for the largest block
//! it allows on the heap: 32 MiB for `mmap` (the maximum) and twice that for trimming. Nothing
//! is allocated up front: the peak is what the work needs, as before, and only the top of the
//! heap that one event freed stays resident for the next. Other C libraries (musl) have no
//! such setting, and the functions are built for glibc.

/// The largest block served from the heap rather than by `mmap`: glibc's ceiling for it.
const MMAP_THRESHOLD: i32 = 32 << 20;
/// Free memory at the top of the heap kept rather than returned: glibc's rule, twice the above.
const TRIM_THRESHOLD: i32 = 2 * MMAP_THRESHOLD;

/// Call once at the start of `main` (functions do, through [`crate::startup::init`]). Returns
/// whether the C library took both settings (it refuses values beyond its limits; where it has
/// no such setting, `false`).
#[must_use = "without the thresholds a large event faults its working set in again"]
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt takes malloc's own lock and only changes two parameters of later
        // allocations and frees; it touches no memory of ours.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// glibc takes both values (it refuses an `mmap` threshold above its ceiling), and a block
    /// of 4 MiB, which it would have mapped on its own, then comes from the heap.
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn blocks_below_the_threshold_come_from_the_heap() {
        assert!(keep_freed_memory());
        // SAFETY: mallinfo2 only reads malloc's counters.
        let mapped = || unsafe { libc::mallinfo2() }.hblkhd;
        let before = mapped();
        let block = vec![1u8; 4 << 20];
        let during = mapped();
        assert_eq!(block.len(), 4 << 20);
        assert!(during < before + (4 << 20), "mapped {before} bytes before the block, {during} with it");
    }
}

//! Hands the memory the app's heap has freed back to the OS, after a burst of work.
//!
//! glibc's allocator keeps freed memory in its heaps for the next allocation, and returns it
//! to the OS by itself only when it lies at a heap's very end. After a launch (GTK's and
//! WebKit's setup, the first lists read, encoded and sent) or a long sync (pages of rows
//! decoded and written), megabytes of freed blocks sit between blocks still in use, and count
//! as the app's memory for as long as it runs. [`release`] asks glibc to give every whole free
//! page back (`malloc_trim`); a page is only mapped again when the heap next needs it.
//!
//! One C call, so this is, with `bookwish-webkit`, one of the two crates where `unsafe` is
//! denied instead of forbidden. Elsewhere than glibc (musl, macOS, Windows) [`release`] does
//! nothing: those allocators return memory by themselves or have no such call.

/// Hands the heap's free pages back to the OS; whether any came back. It takes each of the
/// allocator's locks in turn, for milliseconds: call it once work has settled, not in a loop.
pub fn release() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        #[allow(unsafe_code)]
        // SAFETY: `malloc_trim` takes no pointer and has no precondition; glibc serialises it
        // with every other call into the allocator, from any thread.
        let released = unsafe { libc::malloc_trim(0) };
        released == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This process's resident memory, in bytes.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn resident() -> u64 {
        let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
        let pages: u64 = statm
            .split_whitespace()
            .nth(1)
            .and_then(|pages| pages.parse().ok())
            .expect("statm's second field, the resident pages");
        #[allow(unsafe_code)]
        // SAFETY: `sysconf` only reads a constant of the system.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        pages * u64::try_from(page).expect("a page size")
    }

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn freed_heap_memory_goes_back_to_the_os() {
        const MIB: u64 = 1024 * 1024;
        // 64 MiB in small blocks, which glibc serves from a heap (not each from a mapping of
        // its own), then one block after them, so that the freed ones are not at the heap's
        // end, where glibc would return them by itself.
        let blocks: Vec<Vec<u8>> = (0..16_384).map(|_| vec![1_u8; 4096]).collect();
        let after_them = vec![1_u8; 4096];
        drop(blocks);
        let held = resident();
        let released = release();
        let fell = held.saturating_sub(resident());
        drop(after_them);
        assert!(
            released && fell >= 32 * MIB,
            "releasing must hand the 64 MiB just freed back to the OS; it said {released} and resident memory fell by {} MiB",
            fell / MIB
        );
    }
}

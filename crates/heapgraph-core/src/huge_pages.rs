//! Big columns on 2 MiB pages.
//!
//! The dominator search and the loops after it read columns of tens to
//! hundreds of megabytes at random. With the kernel's 4 KiB pages nearly
//! every such read also misses the TLB, and in a virtual machine each miss
//! walks two sets of page tables. Linux backs a region with transparent huge
//! pages when asked (`madvise(MADV_HUGEPAGE)`, which most distributions'
//! default THP mode, `madvise`, waits for): one TLB entry then covers 2 MiB
//! instead of 4 KiB. On the development VM this makes the random-graph
//! dominator bench about 15 % faster.
//!
//! These functions only advise: where the kernel has no transparent huge
//! pages, has them switched off, has none free, or the memory is not plain
//! anonymous memory (a spilled column mapped from a scratch file), the
//! columns stay on ordinary pages and behave exactly the same. They do
//! nothing on other systems and for columns smaller than a huge page.

/// Regions smaller than this cannot hold an aligned huge page.
const HUGE_PAGE: usize = 2 << 20;

/// A column of `len` copies of `value`, on huge pages where the kernel
/// allows (the advice is given before the pages are first written, so that
/// they are allocated huge from the start).
pub fn filled<T: Clone>(len: usize, value: T) -> Vec<T> {
    let mut column = with_capacity(len);
    column.resize(len, value);
    column
}

/// An empty column with room for `capacity` items, whose pages will be huge
/// where the kernel allows once they are written.
pub fn with_capacity<T>(capacity: usize) -> Vec<T> {
    let column = Vec::with_capacity(capacity);
    advise(&column, Advice::WhenWritten);
    column
}

/// Moves the already written pages of `column` onto huge pages now
/// (`MADV_COLLAPSE`, Linux 6.1 and later; elsewhere the request fails
/// harmlessly and the column stays as it is). For columns filled before
/// their final size was known, such as the graph's, once they are frozen.
pub fn collapse<T>(column: &Vec<T>) {
    advise(column, Advice::Now);
}

enum Advice {
    WhenWritten,
    Now,
}

/// Advises the kernel about the whole 4 KiB pages inside `column`'s
/// allocation. Errors are ignored: the advice is a hint.
fn advise<T>(column: &Vec<T>, advice: Advice) {
    let bytes = column.capacity().saturating_mul(std::mem::size_of::<T>());
    if bytes < HUGE_PAGE {
        return;
    }
    let start = column.as_ptr() as usize;
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let first = start.next_multiple_of(PAGE);
        let end = (start + bytes) & !(PAGE - 1);
        if end <= first {
            return;
        }
        let flag = match advice {
            Advice::WhenWritten => libc::MADV_HUGEPAGE,
            // Not in every libc release yet; the value is the kernel's
            // (include/uapi/asm-generic/mman-common.h).
            Advice::Now => 25,
        };
        // SAFETY: `first..end` lies inside the allocation `column` owns
        // (rounded inwards to whole pages), which stays allocated and
        // unmoved for the call since `column` is borrowed. `MADV_HUGEPAGE`
        // only marks the range as eligible for huge pages and
        // `MADV_COLLAPSE` only moves its contents to new physical pages:
        // neither changes what the memory holds or whether it is mapped,
        // so no Rust reference to it can observe the call. Failure
        // (unsupported, no huge page free, a file-backed spilled column)
        // leaves the range as it was, and is ignored.
        #[allow(unsafe_code)]
        unsafe {
            libc::madvise(first as *mut libc::c_void, end - first, flag);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (start, advice);
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The `VmFlags` of the mapping holding `address`, from
    /// `/proc/self/smaps`.
    fn vm_flags(address: usize) -> Option<String> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let mut inside = false;
        for line in smaps.lines() {
            let range = line.split_whitespace().next().unwrap_or("");
            if let Some((low, high)) = range.split_once('-') {
                if let (Ok(low), Ok(high)) = (
                    usize::from_str_radix(low, 16),
                    usize::from_str_radix(high, 16),
                ) {
                    inside = low <= address && address < high;
                    continue;
                }
            }
            if inside {
                if let Some(flags) = line.strip_prefix("VmFlags:") {
                    return Some(flags.trim().to_string());
                }
            }
        }
        None
    }

    #[test]
    fn filled_columns_hold_their_values_and_ask_for_huge_pages() {
        let column = filled(3 << 20, 7u32);
        assert_eq!(column.len(), 3 << 20);
        assert!(column.iter().all(|&x| x == 7));
        if !std::path::Path::new("/sys/kernel/mm/transparent_hugepage").exists() {
            eprintln!("skipped: this kernel has no transparent huge pages");
            return;
        }
        // A page in the middle of the 12 MiB column is inside the advised
        // range, whose mapping carries the `hg` ("huge pages advised") flag.
        let middle = column.as_ptr() as usize + (6 << 20);
        let flags = vm_flags(middle).unwrap_or_default();
        assert!(
            flags.split_whitespace().any(|flag| flag == "hg"),
            "VmFlags of the column's mapping: {flags}"
        );
    }

    #[test]
    fn small_columns_and_collapsed_columns_keep_their_values() {
        let small = filled(10, 1u8);
        assert_eq!(small, vec![1u8; 10]);
        let big: Vec<u64> = (0..(1u64 << 20)).collect();
        collapse(&big);
        assert!(big.iter().enumerate().all(|(i, &x)| x == i as u64));
        let empty: Vec<u32> = with_capacity(0);
        assert!(empty.is_empty());
    }
}

//! Large per-node and per-edge columns, allocated so that random access to
//! them stays cheap.
//!
//! The analyses walk columns of tens of millions of entries in random order
//! (a depth-first search, path compression, retained-size sums). With the
//! kernel's default 4 KiB pages each such access misses the TLB as well as
//! the cache, and under virtualisation a TLB miss is a two-level page walk
//! that costs more than the memory access itself. Where transparent huge
//! pages are enabled in `madvise` mode (the default of most distributions),
//! [`column`] asks for 2 MiB pages for its allocation before the first
//! write, which removes nearly all of those walks. Elsewhere the advice is a
//! no-op and the column is an ordinary `Vec`.

/// Columns smaller than this are left to the allocator: their pages fit the
/// TLB anyway, and huge pages would round their memory up.
const HUGE_PAGE_MIN: usize = 4 << 20;

/// A `Vec` of `len` copies of `value`, with transparent huge pages asked for
/// (on Linux) before it is written, when it is large enough to gain from
/// them. Memory use is the same as `vec![value; len]`'s, up to the rounding
/// of the last huge page.
///
/// ```
/// let column = heapgraph_core::columns::column(1000, u32::MAX);
/// assert_eq!(column.len(), 1000);
/// assert!(column.iter().all(|&x| x == u32::MAX));
/// ```
pub fn column<T: Clone>(len: usize, value: T) -> Vec<T> {
    let mut out = with_capacity(len);
    out.resize(len, value);
    out
}

/// An empty `Vec` with room for `capacity` entries, with transparent huge
/// pages asked for as [`column`] does, for columns filled by `push`.
pub fn with_capacity<T>(capacity: usize) -> Vec<T> {
    let out = Vec::with_capacity(capacity);
    advise_huge_pages(&out);
    out
}

/// Asks the kernel to back `column`'s allocation (its whole capacity) with
/// transparent huge pages from now on. Pages already touched keep their
/// size until the kernel's background compaction merges them, so call this
/// before filling the column. Advice only: failure changes nothing.
pub fn advise_huge_pages<T>(column: &Vec<T>) {
    let bytes = column.capacity().saturating_mul(std::mem::size_of::<T>());
    if bytes < HUGE_PAGE_MIN {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let address = column.as_ptr() as usize;
        let start = address.div_ceil(PAGE) * PAGE;
        let end = (address + bytes) / PAGE * PAGE;
        if start >= end {
            return;
        }
        // SAFETY: madvise(2) with MADV_HUGEPAGE only changes how the kernel
        // may back the pages of the range (it may use 2 MiB pages at the
        // next fault or merge them later); it never changes their contents,
        // their protection or whether they are mapped, so no live reference
        // to this or any other memory can observe it. The range lies inside
        // the allocation `column` owns (its capacity, rounded inwards to
        // page boundaries, as madvise requires page-aligned starts), so no
        // memory outside it is advised. The call reads no memory through the
        // pointer. Its result is ignored: refusal (THP disabled, old
        // kernel) leaves the default pages, which is correct, only slower.
        #[allow(unsafe_code)]
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_hold_what_was_asked_for_whatever_their_size() {
        for len in [0usize, 1, 1000, (8 << 20) / 4 + 3] {
            let c = column(len, 7u32);
            assert_eq!(c.len(), len);
            assert!(c.iter().all(|&x| x == 7));
            let mut v: Vec<u64> = with_capacity(len);
            assert!(v.capacity() >= len);
            v.extend((0..len as u64).rev());
            assert_eq!(v.first().copied(), len.checked_sub(1).map(|x| x as u64));
        }
    }
}

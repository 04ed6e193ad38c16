//! File-backed memory, for dumps larger than the memory given.
//!
//! Without swap the kernel can give back only file-backed pages under
//! memory pressure: anonymous memory (the heap) stays resident until it is
//! freed, so a graph larger than the memory cgroup's limit gets the process
//! killed. [`SpillAllocator`] is a global allocator that, once spilling is
//! on ([`enable`]), serves every allocation of at least [`SPILL_THRESHOLD`]
//! bytes (the graph's columns, the parser's index, the dominator search's
//! arrays: every big column, without any of them knowing) from a shared
//! mapping of an unnamed scratch file of its own. The kernel writes those
//! pages out and drops them when memory runs short and reads them back when
//! they are touched, so the process's resident memory can stay below its
//! limit. Small allocations stay with the system allocator.
//!
//! A program opts in by declaring the allocator:
//!
//! ```no_run
//! #[global_allocator]
//! static ALLOCATOR: heapgraph::spill::SpillAllocator = heapgraph::spill::SpillAllocator;
//! ```
//!
//! after which [`OpenOptions::spill`](crate::OpenOptions::spill) decides when
//! spilling starts (by default, when the memory check finds that the dump's
//! analysis does not fit in the memory available). Without the declaration
//! nothing here takes effect and [`is_installed`] is false.
//!
//! Scratch files are created with `O_TMPFILE` (or created and unlinked at
//! once where the file system lacks it), so they have no name and vanish
//! when the process ends, however it ends, Ctrl-C and `kill -9` included.
//! Their disk blocks are reserved with `fallocate` when a mapping is made or
//! grown, so a full disk is seen as a failed reservation (the allocation
//! then falls back to ordinary memory), never as a `SIGBUS` on a write.
//!
//! Spilling is available on Linux; elsewhere [`SpillAllocator`] is the
//! system allocator and [`enable`] fails.

// This module is the one place that maps memory by hand: a global
// allocator is unsafe by definition. Every unsafe block below carries the
// argument for its soundness.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

/// Allocations of at least this many bytes are mapped by [`SpillAllocator`]
/// (anonymous memory while spilling is off, a scratch file while it is on);
/// smaller ones go to the system allocator. 1 MiB: at 16 MiB a 294 MB
/// HPROF dump (2.6 M objects, columns of about 10 MB) kept 125 MB of
/// anonymous memory while spilling and was killed in a 128 MB cgroup; at
/// 1 MiB it keeps 2 MB and completes in 64 MB. Unconstrained runs on the
/// 550 MB V8 and 1.91 GB HPROF dumps were as fast as with 16 MiB (glibc
/// maps allocations this large by itself too), and the system allocator
/// keeps the many small, short-lived allocations it handles best.
pub const SPILL_THRESHOLD: usize = 1 << 20;

/// The bytes in front of each mapped allocation that describe it (one
/// page, so the data stays page-aligned); allocations asking for a larger
/// alignment go to the system allocator.
const HEADER_BYTES: usize = 4096;

/// Marks a header written by this module.
const HEADER_MAGIC: u64 = 0x6865_6170_7370_696c; // "heapspil"

/// The global allocator that can move big allocations into scratch files;
/// see the module documentation. `MIN_BYTES` is the size from which an
/// allocation is mapped ([`SPILL_THRESHOLD`] unless a test wants small
/// dumps to spill too); it is part of the type because it must not change
/// while the program runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct SpillAllocator<const MIN_BYTES: usize = SPILL_THRESHOLD>;

/// Set by the allocator's first use: the program declared it.
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// The scratch directory's descriptor while spilling is on, else -1.
static SCRATCH_DIR: AtomicI32 = AtomicI32::new(-1);
/// Bytes now mapped from scratch files, and the most there ever were.
static SPILLED_BYTES: AtomicUsize = AtomicUsize::new(0);
static PEAK_SPILLED_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Whether this process's global allocator is [`SpillAllocator`] (known
/// once it has served an allocation, which happens before `main`).
pub fn is_installed() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// Whether big allocations now go to scratch files.
pub fn is_enabled() -> bool {
    SCRATCH_DIR.load(Ordering::Relaxed) >= 0
}

/// Bytes of scratch-file mappings now, and at most so far.
pub fn spilled_bytes() -> (usize, usize) {
    (
        SPILLED_BYTES.load(Ordering::Relaxed),
        PEAK_SPILLED_BYTES.load(Ordering::Relaxed),
    )
}

/// Starts serving big allocations from scratch files in `dir`. Allocations
/// made before keep their memory until they grow. Fails when
/// [`SpillAllocator`] is not the global allocator, when `dir` cannot be
/// opened as a directory, or off Linux.
pub fn enable(dir: &Path) -> std::io::Result<()> {
    if !is_installed() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "heapgraph::spill::SpillAllocator is not this program's global allocator",
        ));
    }
    imp::enable(dir)
}

/// Stops spilling: big allocations made from now on are ordinary memory
/// again (those already in scratch files stay there until freed).
pub fn disable() {
    let dir = SCRATCH_DIR.swap(-1, Ordering::AcqRel);
    imp::close_dir(dir);
}

/// Free bytes (for an unprivileged user) on the file system holding `dir`.
pub fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    imp::free_bytes(dir)
}

/// Whether an allocation of this layout is mapped by this module, for an
/// allocator that maps from `min_bytes` on. Off Linux, nothing is.
fn is_mapped(layout: Layout, min_bytes: usize) -> bool {
    cfg!(target_os = "linux")
        && layout.size() >= min_bytes.max(HEADER_BYTES)
        && layout.align() <= HEADER_BYTES
}

// SAFETY: every method returns either the system allocator's answer for a
// layout `is_mapped` rejects, or a block inside a mapping of its own made by
// `imp::map`: page-aligned plus one header page (so aligned for any
// alignment up to `HEADER_BYTES`, which `is_mapped` requires), at least
// `layout.size()` bytes long, readable and writable, and overlapping no other
// live block (each block is a separate mapping). `dealloc` and `realloc`
// receive, by the `GlobalAlloc` contract, a pointer this allocator returned
// with the same layout, so `is_mapped(layout, MIN_BYTES)` sends them to the same path
// that made the block: the system allocator for small blocks, the header
// one page before `ptr` for mapped ones.
unsafe impl<const MIN_BYTES: usize> GlobalAlloc for SpillAllocator<MIN_BYTES> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_installed();
        if !is_mapped(layout, MIN_BYTES) {
            // SAFETY: the caller's contract (non-zero size) is passed on.
            return unsafe { System.alloc(layout) };
        }
        imp::map(layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_installed();
        if !is_mapped(layout, MIN_BYTES) {
            // SAFETY: as in `alloc`.
            return unsafe { System.alloc_zeroed(layout) };
        }
        // A fresh anonymous mapping and a fresh (sparse) file read as zeros.
        imp::map(layout.size())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !is_mapped(layout, MIN_BYTES) {
            // SAFETY: `ptr` came from `System` with this layout (see above).
            return unsafe { System.dealloc(ptr, layout) };
        }
        // SAFETY: `ptr` is a live mapped block of this module.
        unsafe { imp::unmap(ptr) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        match (
            is_mapped(layout, MIN_BYTES),
            is_mapped(new_layout, MIN_BYTES),
        ) {
            // SAFETY: `ptr` came from `System` with `layout`; the contract
            // on `new_size` is the caller's.
            (false, false) => unsafe { System.realloc(ptr, layout, new_size) },
            // SAFETY: `ptr` is a live mapped block of this module.
            (true, true) => unsafe { imp::remap(ptr, layout.size(), new_size) },
            (_, _) => {
                // From one path to the other: allocate, copy, free.
                // SAFETY: `new_layout` has a non-zero size (the caller's
                // contract); `ptr` is valid for `layout.size()` bytes and
                // the new block for `new_size`, and they do not overlap.
                unsafe {
                    let new = self.alloc(new_layout);
                    if !new.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    new
                }
            }
        }
    }
}

fn note_installed() {
    if !INSTALLED.load(Ordering::Relaxed) {
        INSTALLED.store(true, Ordering::Relaxed);
    }
}

fn add_spilled(bytes: usize) {
    let now = SPILLED_BYTES.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK_SPILLED_BYTES.fetch_max(now, Ordering::Relaxed);
}

fn sub_spilled(bytes: usize) {
    SPILLED_BYTES.fetch_sub(bytes, Ordering::Relaxed);
}

#[cfg(target_os = "linux")]
mod imp {
    //! The Linux side: `mmap`, `mremap`, `O_TMPFILE`, `fallocate`.

    use super::*;
    use std::os::unix::ffi::OsStrExt;

    /// What the header page in front of every mapped block holds.
    #[repr(C)]
    struct Header {
        magic: u64,
        /// Bytes mapped, header included.
        mapping_bytes: usize,
        /// The scratch file's descriptor, or -1 for anonymous memory.
        fd: i32,
    }

    pub(super) fn enable(dir: &Path) -> std::io::Result<()> {
        let mut path = dir.as_os_str().as_bytes().to_vec();
        path.push(0);
        // SAFETY: `path` is NUL-terminated and outlives the call.
        let fd = unsafe {
            libc::open(
                path.as_ptr().cast(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let previous = SCRATCH_DIR.swap(fd, Ordering::AcqRel);
        close_dir(previous);
        Ok(())
    }

    pub(super) fn free_bytes(dir: &Path) -> std::io::Result<u64> {
        let mut path = dir.as_os_str().as_bytes().to_vec();
        path.push(0);
        let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
        // SAFETY: `path` is NUL-terminated; `stats` is written by the call
        // and read only when it succeeds.
        let stats = unsafe {
            if libc::statvfs(path.as_ptr().cast(), stats.as_mut_ptr()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            stats.assume_init()
        };
        // Both are u64 on 64-bit Linux, narrower on some 32-bit targets.
        #[allow(clippy::useless_conversion)]
        Ok(u64::from(stats.f_bavail).saturating_mul(u64::from(stats.f_frsize)))
    }

    pub(super) fn close_dir(fd: i32) {
        if fd >= 0 {
            // Allocations racing with this see -1 from now on or fail to
            // create a file in a closed directory and fall back to
            // anonymous memory; either is correct.
            // SAFETY: closing a descriptor this module opened.
            unsafe { libc::close(fd) };
        }
    }

    /// A new block of `size` bytes (zeroed), in a scratch file while
    /// spilling is on, else anonymous; null when even that fails.
    pub(super) fn map(size: usize) -> *mut u8 {
        let Some(total) = size.checked_add(HEADER_BYTES) else {
            return std::ptr::null_mut();
        };
        let dir = SCRATCH_DIR.load(Ordering::Acquire);
        if dir >= 0 {
            if let Some(ptr) = map_file(dir, total) {
                return ptr;
            }
        }
        map_anonymous(total)
    }

    fn map_anonymous(total: usize) -> *mut u8 {
        // SAFETY: a new private anonymous mapping touches no existing memory.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return std::ptr::null_mut();
        }
        // SAFETY: `base` is a fresh writable mapping of `total` bytes, more
        // than a header.
        unsafe { write_header(base.cast(), total, -1) }
    }

    fn map_file(dir: i32, total: usize) -> Option<*mut u8> {
        let fd = scratch_file(dir)?;
        let Ok(length) = libc::off_t::try_from(total) else {
            // SAFETY: `fd` is ours and used nowhere else.
            unsafe { libc::close(fd) };
            return None;
        };
        // SAFETY: plain system calls on a descriptor this function owns.
        let reserved = unsafe { libc::fallocate(fd, 0, 0, length) == 0 };
        if !reserved {
            // SAFETY: as above.
            unsafe { libc::close(fd) };
            return None;
        }
        // SAFETY: a new shared mapping of a file only this process has
        // (unnamed, just created) touches no existing memory.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            // SAFETY: as above.
            unsafe { libc::close(fd) };
            return None;
        }
        add_spilled(total);
        // SAFETY: `base` is a fresh writable mapping of `total` bytes.
        Some(unsafe { write_header(base.cast(), total, fd) })
    }

    /// An unnamed file in the directory `dir`: `O_TMPFILE`, or where the
    /// file system lacks it a new file unlinked at once.
    fn scratch_file(dir: i32) -> Option<i32> {
        // SAFETY: the path is a NUL-terminated literal.
        let fd = unsafe {
            libc::openat(
                dir,
                c".".as_ptr(),
                libc::O_TMPFILE | libc::O_RDWR | libc::O_CLOEXEC,
                0o600,
            )
        };
        if fd >= 0 {
            return Some(fd);
        }
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        for _ in 0..16 {
            // No allocation here: this runs inside the allocator.
            let mut name = [0u8; 64];
            const PREFIX: &[u8] = b"heapgraph-spill-";
            name[..PREFIX.len()].copy_from_slice(PREFIX);
            let mut at = write_decimal(&mut name, PREFIX.len(), std::process::id() as usize);
            name[at] = b'-';
            at = write_decimal(&mut name, at + 1, NEXT.fetch_add(1, Ordering::Relaxed));
            name[at] = 0;
            // SAFETY: `name` is NUL-terminated (it is 64 bytes, the text at
            // most 16 + 2 × 20 + 1).
            let fd = unsafe {
                libc::openat(
                    dir,
                    name.as_ptr().cast(),
                    libc::O_CREAT | libc::O_EXCL | libc::O_RDWR | libc::O_CLOEXEC,
                    0o600,
                )
            };
            if fd >= 0 {
                // SAFETY: as above; the file is ours (O_EXCL).
                unsafe { libc::unlinkat(dir, name.as_ptr().cast(), 0) };
                return Some(fd);
            }
            if std::io::Error::last_os_error().raw_os_error() != Some(libc::EEXIST) {
                return None;
            }
        }
        None
    }

    fn write_decimal(buffer: &mut [u8; 64], at: usize, mut value: usize) -> usize {
        let mut digits = [0u8; 20];
        let mut count = 0;
        loop {
            digits[count] = b'0' + (value % 10) as u8;
            count += 1;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        for i in 0..count {
            buffer[at + i] = digits[count - 1 - i];
        }
        at + count
    }

    /// Writes the header at `base` and returns the block after it.
    ///
    /// # Safety
    /// `base` is a fresh, writable, page-aligned mapping of `total` bytes,
    /// `total > HEADER_BYTES`.
    unsafe fn write_header(base: *mut u8, total: usize, fd: i32) -> *mut u8 {
        // SAFETY: page-aligned, so aligned for `Header`; the page is ours.
        unsafe {
            base.cast::<Header>().write(Header {
                magic: HEADER_MAGIC,
                mapping_bytes: total,
                fd,
            });
            base.add(HEADER_BYTES)
        }
    }

    /// The header of a mapped block.
    ///
    /// # Safety
    /// `ptr` was returned by `map` or `remap` and not freed since.
    unsafe fn header<'a>(ptr: *mut u8) -> &'a mut Header {
        // SAFETY: the header page sits right before the block and lives as
        // long as it; only the block's owner (who holds `ptr`) touches it.
        let header = unsafe { &mut *ptr.sub(HEADER_BYTES).cast::<Header>() };
        debug_assert_eq!(header.magic, HEADER_MAGIC);
        header
    }

    /// Frees a mapped block.
    ///
    /// # Safety
    /// As for [`header`]; `ptr` is not used afterwards.
    pub(super) unsafe fn unmap(ptr: *mut u8) {
        // SAFETY: the caller's contract.
        let (total, fd) = unsafe {
            let header = header(ptr);
            (header.mapping_bytes, header.fd)
        };
        // SAFETY: the whole mapping belongs to this block, which is freed.
        unsafe { libc::munmap(ptr.sub(HEADER_BYTES).cast(), total) };
        if fd >= 0 {
            // SAFETY: the block's own descriptor; the file goes with it.
            unsafe { libc::close(fd) };
            sub_spilled(total);
        }
    }

    /// Resizes a mapped block to `new_size` bytes (both sizes mapped ones),
    /// keeping the first `min(old, new)` bytes; null when that fails (the
    /// old block is then untouched, as `realloc` requires).
    ///
    /// # Safety
    /// As for [`header`].
    pub(super) unsafe fn remap(ptr: *mut u8, old_size: usize, new_size: usize) -> *mut u8 {
        let Some(new_total) = new_size.checked_add(HEADER_BYTES) else {
            return std::ptr::null_mut();
        };
        // SAFETY: the caller's contract.
        let (old_total, fd) = unsafe {
            let header = header(ptr);
            (header.mapping_bytes, header.fd)
        };
        // SAFETY: `ptr` is a live block.
        let base = unsafe { ptr.sub(HEADER_BYTES) };
        if fd < 0 && new_total > old_total && is_enabled() {
            // Growing ordinary memory while spilling is on: move it into a
            // scratch file.
            let dir = SCRATCH_DIR.load(Ordering::Acquire);
            if let Some(new) = map_file(dir, new_total) {
                // SAFETY: both blocks are live, distinct mappings at least
                // `old_size` long.
                unsafe {
                    std::ptr::copy_nonoverlapping(ptr, new, old_size);
                    libc::munmap(base.cast(), old_total);
                }
                return new;
            }
        }
        if fd >= 0 && new_total > old_total {
            // The file grows first, with its blocks reserved, so the
            // mapping never reaches past its end.
            let (Ok(old_length), Ok(new_length)) = (
                libc::off_t::try_from(old_total),
                libc::off_t::try_from(new_total),
            ) else {
                return std::ptr::null_mut();
            };
            // SAFETY: a system call on the block's own descriptor.
            if unsafe { libc::fallocate(fd, 0, old_length, new_length - old_length) } != 0 {
                return std::ptr::null_mut();
            }
        }
        // SAFETY: `base` is the start of this block's mapping of
        // `old_total` bytes; MREMAP_MAYMOVE lets the kernel move it, after
        // which the old address is no longer used.
        let moved =
            unsafe { libc::mremap(base.cast(), old_total, new_total, libc::MREMAP_MAYMOVE) };
        if moved == libc::MAP_FAILED {
            return std::ptr::null_mut();
        }
        if fd >= 0 {
            if new_total < old_total {
                // Give the file's tail back to the disk.
                if let Ok(length) = libc::off_t::try_from(new_total) {
                    // SAFETY: a system call on the block's own descriptor;
                    // nothing is mapped past `new_total` any more.
                    unsafe { libc::ftruncate(fd, length) };
                }
                sub_spilled(old_total - new_total);
            } else {
                add_spilled(new_total - old_total);
            }
        }
        let moved: *mut u8 = moved.cast();
        // SAFETY: the header moved with the mapping, which is still this
        // block's alone; the block follows the header page.
        unsafe {
            (*moved.cast::<Header>()).mapping_bytes = new_total;
            moved.add(HEADER_BYTES)
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    //! Elsewhere `is_mapped` is always false, so nothing below is reached
    //! but `enable`, which fails.

    use super::*;

    pub(super) fn enable(_dir: &Path) -> std::io::Result<()> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "spilling to scratch files is implemented on Linux only",
        ))
    }

    pub(super) fn close_dir(_fd: i32) {}

    pub(super) fn free_bytes(_dir: &Path) -> std::io::Result<u64> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "free space is read on Linux only",
        ))
    }

    pub(super) fn map(_size: usize) -> *mut u8 {
        std::ptr::null_mut()
    }

    pub(super) unsafe fn unmap(ptr: *mut u8) {
        let _ = ptr;
    }

    pub(super) unsafe fn remap(ptr: *mut u8, old_size: usize, new_size: usize) -> *mut u8 {
        let _ = (ptr, old_size, new_size);
        std::ptr::null_mut()
    }
}

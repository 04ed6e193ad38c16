//! The bytes of an input file: memory-mapped, read, or decompressed.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::{Error, OpenOptions};

/// The bytes a dump was parsed from, kept alive with the [`crate::Dump`].
///
/// Plain files are memory-mapped by default. A mapping assumes that no other
/// process truncates or rewrites the file while it is open (the same promise
/// every memory-mapping tool makes); set [`OpenOptions::memory_map`] to
/// `false` to read the file into memory instead. A gzip file is decompressed
/// once into a scratch file ([`OpenOptions::scratch_dir`], removed from the
/// directory as soon as it is created, so nothing is left behind even on a
/// crash) which is then mapped: the decompressed dump lives in the page
/// cache, which the kernel can reclaim, never in the process's own memory.
/// gzip data from a pipe or from [`crate::parse_bytes`] is decompressed
/// into memory.
pub struct Source(Inner);

enum Inner {
    /// The mapping, and the file it maps (for parsers that stream).
    Mapped(memmap2::Mmap, File),
    Owned(Vec<u8>),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.0 {
            Inner::Mapped(..) => "mapped",
            Inner::Owned(_) => "owned",
        };
        f.debug_struct("Source")
            .field("kind", &kind)
            .field("len", &self.bytes().len())
            .finish()
    }
}

impl Source {
    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.0 {
            Inner::Mapped(map, _) => map,
            Inner::Owned(vec) => vec,
        }
    }

    pub(crate) fn open(path: &Path, options: &OpenOptions) -> Result<Source, Error> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let metadata = file.metadata().map_err(io)?;
        if !metadata.is_file() {
            // A pipe or device (`<(zcat dump.gz)`): it can be neither mapped
            // nor rewound, so read it whole.
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).map_err(io)?;
            return Source::from_vec(bytes, options);
        }
        let mut magic = [0u8; 2];
        let is_gzip = match file.read_exact(&mut magic) {
            Ok(()) => magic == [0x1F, 0x8B],
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => false,
            Err(e) => return Err(io(e)),
        };
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        if is_gzip {
            if !options.memory_map {
                return gunzip(file, options.max_decompressed_bytes);
            }
            let (scratch, scratch_path) = scratch_file(options)?;
            let scratch_io = |source| Error::Scratch {
                path: scratch_path.clone(),
                source,
            };
            {
                let mut writer = std::io::BufWriter::with_capacity(1 << 20, &scratch);
                decompress(
                    file,
                    options.max_decompressed_bytes,
                    &mut writer,
                    &scratch_io,
                )?;
                writer.flush().map_err(scratch_io)?;
            }
            return Source::map(scratch).map_err(scratch_io);
        }
        if options.memory_map && metadata.len() > 0 {
            // SAFETY: `Mmap::map` is unsafe because another process could
            // change or truncate the file while we hold the slice, which
            // Rust's aliasing rules cannot express and which (for truncation)
            // would fault on access. We only ever read through the mapping,
            // and the documented contract of `open` (see the type docs) is
            // that the dump is not modified while it is open: the contract
            // ripgrep and other mmap-based readers rely on. Callers who cannot
            // promise it set `memory_map: false`. Within that contract the
            // slice is valid for the mapping's lifetime, which `Source` ties
            // to the `Dump` that borrows it.
            return Source::map(file).map_err(io);
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        Ok(Source(Inner::Owned(bytes)))
    }

    /// Maps `file`, which must not be modified while the mapping lives: the
    /// input file under the contract of [`Source`], or a scratch file only
    /// this process has (created exclusively and unlinked at once).
    fn map(file: File) -> std::io::Result<Source> {
        if file.metadata()?.len() == 0 {
            return Ok(Source(Inner::Owned(Vec::new())));
        }
        // SAFETY: `Mmap::map` is unsafe because another process could
        // change or truncate the file while we hold the slice, which Rust's
        // aliasing rules cannot express and which (for truncation) would
        // fault on access. We only ever read through the mapping. The input
        // file is not modified while it is open by the documented contract
        // of `open` (see the type docs), the contract ripgrep and other
        // mmap-based readers rely on; callers who cannot promise it set
        // `memory_map: false`. A scratch file was created with O_EXCL in a
        // directory of the caller's choosing, fully written and flushed by
        // this process before being mapped, and (on Unix) unlinked right
        // after creation, so no other process can open it by name. Within
        // that contract the slice is valid for the mapping's lifetime,
        // which `Source` ties to the `Dump` that borrows it.
        #[allow(unsafe_code)]
        let map = unsafe { memmap2::Mmap::map(&file) }?;
        // Every parser reads its input front to back: ask for aggressive
        // read-ahead. Advice only; failure changes nothing.
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(Source(Inner::Mapped(map, file)))
    }

    /// Drops the mapped file's pages from this process's resident set once
    /// parsing is done, so the analysis that follows does not carry a copy
    /// of the whole input in its peak memory. The pages stay in the kernel's
    /// page cache; a later read (HPROF's lazy string and array readers)
    /// faults the page it needs back in. Owned bytes are left alone.
    pub(crate) fn release_resident_pages(&self) {
        self.release_range(0..self.bytes().len());
    }

    /// A parser hook ([`heapgraph_core::OnConsumed`]) that releases each
    /// range the parser reports done with, as
    /// [`release_range`](Self::release_range) does. It holds the source
    /// alive until the options that carry it are dropped.
    pub(crate) fn on_consumed(source: &std::sync::Arc<Source>) -> heapgraph_core::OnConsumed {
        let source = std::sync::Arc::clone(source);
        heapgraph_core::OnConsumed::new(move |range| source.release_range(range))
    }

    /// As [`release_resident_pages`](Self::release_resident_pages) for the
    /// whole pages inside `range` only: a parser reports the ranges it is
    /// done with as it goes, so a multi-gigabyte input never becomes
    /// resident all at once.
    pub(crate) fn release_range(&self, range: std::ops::Range<usize>) {
        #[cfg(target_os = "linux")]
        if let Inner::Mapped(map, _) = &self.0 {
            // The mapping starts on a page boundary; keep to whole pages
            // inside the range so neighbours still in use stay resident.
            // (4 KiB pages: where pages are larger, madvise refuses the
            // unaligned range and nothing is released, which is harmless.)
            const PAGE: usize = 4096;
            let end = range.end.min(map.len());
            let start = range.start.div_ceil(PAGE) * PAGE;
            let end = if end == map.len() {
                end
            } else {
                end / PAGE * PAGE
            };
            if start >= end {
                return;
            }
            // SAFETY: memmap2 marks MADV_DONTNEED unsafe because on private
            // or anonymous mappings it discards the contents (later reads see
            // zeros or the file's original bytes), which would change memory
            // behind live `&[u8]` borrows. This mapping comes from
            // `Mmap::map`: MAP_SHARED, PROT_READ, backed by a file. For such a
            // mapping madvise(2) documents that later accesses repopulate the
            // pages "from the up-to-date contents of the underlying mapped
            // file", and nothing was ever written through it, so every byte
            // reads back exactly as before under the contract the mapping
            // already relies on (the file is not modified while open; see
            // the SAFETY note in `open`). Only residency changes, never the
            // values behind any borrow. `start..end` lies inside the mapping.
            #[allow(unsafe_code)]
            let _ = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
            };
        }
    }

    /// For a mapped file, a reader over the same file from its first byte,
    /// for parsers that can stream (tracemalloc's pickle reader) and so
    /// never fault the whole mapping in. `None` for owned bytes (and off
    /// Unix, where positioned reads are not available).
    /// Whether the bytes are a file mapping (which the parsers hand back to
    /// the kernel as they go), rather than owned memory that stays resident.
    pub(crate) fn is_mapped(&self) -> bool {
        matches!(self.0, Inner::Mapped(..))
    }

    pub(crate) fn stream(&self) -> Option<FileStream<'_>> {
        match &self.0 {
            #[cfg(unix)]
            Inner::Mapped(_, file) => Some(FileStream { file, position: 0 }),
            _ => None,
        }
    }

    pub(crate) fn from_vec(bytes: Vec<u8>, options: &OpenOptions) -> Result<Source, Error> {
        if bytes.starts_with(&[0x1F, 0x8B]) {
            return gunzip(&bytes[..], options.max_decompressed_bytes);
        }
        Ok(Source(Inner::Owned(bytes)))
    }
}

/// Decompresses a gzip stream (all members) into memory, refusing more
/// than `limit` bytes of output.
fn gunzip(input: impl Read, limit: u64) -> Result<Source, Error> {
    let mut bytes = Vec::new();
    decompress(input, limit, &mut bytes, &|source| Error::Gzip {
        offset: 0,
        source,
    })?;
    Ok(Source(Inner::Owned(bytes)))
}

/// Decompresses a gzip stream (all members) into `out`, refusing more than
/// `limit` bytes of output. Decoding errors name the compressed byte where
/// decoding failed; errors writing `out` go through `write_error`.
fn decompress(
    input: impl Read,
    limit: u64,
    out: &mut impl Write,
    write_error: &dyn Fn(std::io::Error) -> Error,
) -> Result<u64, Error> {
    // The decoder reads through this buffer and says how much it used, so
    // `consumed` is exactly where it stopped in the compressed bytes.
    let mut counted = CountingBufRead {
        inner: std::io::BufReader::with_capacity(64 << 10, input),
        consumed: 0,
    };
    let mut decoder = flate2::bufread::MultiGzDecoder::new(&mut counted);
    let mut buffer = vec![0u8; 256 << 10];
    let mut written = 0u64;
    loop {
        let n = match decoder.read(&mut buffer) {
            Ok(0) => return Ok(written),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => {
                // A checksum is checked after its member's 8-byte trailer
                // (CRC-32, size) was read: the error is at the trailer.
                let trailer = source.to_string().contains("checksum");
                let consumed = decoder.get_ref().consumed;
                return Err(Error::Gzip {
                    offset: if trailer {
                        consumed.saturating_sub(8)
                    } else {
                        consumed
                    },
                    source,
                });
            }
        };
        written = written.saturating_add(n as u64);
        if written > limit {
            return Err(Error::TooLarge { limit });
        }
        out.write_all(buffer.get(..n).unwrap_or(&[]))
            .map_err(write_error)?;
    }
}

/// A new scratch file in [`OpenOptions::scratch_dir`] (default: the
/// system's temporary directory), created exclusively and, on Unix,
/// unlinked at once: it disappears when the process ends, however it ends.
fn scratch_file(options: &OpenOptions) -> Result<(File, std::path::PathBuf), Error> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = options.scratch_dir_or_temp();
    loop {
        let path = dir.join(format!(
            "heapgraph-{}-{}.dump",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let created = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path);
        match created {
            Ok(file) => {
                #[cfg(unix)]
                let _ = std::fs::remove_file(&path);
                return Ok((file, path));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(Error::Scratch { path, source }),
        }
    }
}

/// Reads a file from the start with positioned reads, leaving the file's
/// own cursor alone (so any number of streams can be made).
pub(crate) struct FileStream<'a> {
    #[cfg_attr(not(unix), allow(dead_code))]
    file: &'a File,
    position: u64,
}

#[cfg(unix)]
impl Read for FileStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let n = self.file.read_at(buf, self.position)?;
        self.position += n as u64;
        Ok(n)
    }
}

/// Counts the bytes read through it, so gzip errors can say where.
/// A buffered reader that counts the bytes its user consumed.
struct CountingBufRead<R> {
    inner: std::io::BufReader<R>,
    consumed: u64,
}

impl<R: Read> Read for CountingBufRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed += n as u64;
        Ok(n)
    }
}

impl<R: Read> std::io::BufRead for CountingBufRead<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.consumed += amount as u64;
        self.inner.consume(amount);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_is_decompressed_transparently() {
        let source =
            Source::from_vec(gzip(b"JAVA PROFILE 1.0.2\0"), &OpenOptions::default()).unwrap();
        assert_eq!(source.bytes(), b"JAVA PROFILE 1.0.2\0");
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        let mut data = gzip(&[7u8; 10_000]);
        data.truncate(data.len() / 2);
        let err = Source::from_vec(data, &OpenOptions::default()).unwrap_err();
        assert!(matches!(err, Error::Gzip { .. }), "{err}");
        assert!(err.to_string().contains("compressed byte"), "{err}");
    }

    /// A checksum that does not match is reported at its member's trailer
    /// (the CRC-32 is the trailer's first 4 bytes), not at the end of the
    /// file after it.
    #[test]
    fn checksum_errors_name_the_trailer() {
        let one = gzip(&[7u8; 10_000]);
        let mut data = one.clone();
        let crc = data.len() - 8;
        data[crc] ^= 1;
        let err = Source::from_vec(data.clone(), &OpenOptions::default()).unwrap_err();
        match &err {
            Error::Gzip { offset, .. } => assert_eq!(*offset, crc as u64, "{err}"),
            other => panic!("{other}"),
        }
        // The first of two members: its trailer, before the second member.
        let mut two = data;
        two.extend_from_slice(&one);
        match Source::from_vec(two, &OpenOptions::default()).unwrap_err() {
            Error::Gzip { offset, .. } => assert_eq!(offset, crc as u64),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn decompression_limit_is_enforced() {
        let options = OpenOptions {
            max_decompressed_bytes: 100,
            ..OpenOptions::default()
        };
        let err = Source::from_vec(gzip(&[0u8; 1000]), &options).unwrap_err();
        assert_eq!(
            err.to_string(),
            "decompressed data exceeds the limit of 100 bytes"
        );
    }

    #[test]
    fn files_are_mapped_or_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.bin");
        std::fs::write(&path, b"abc").unwrap();
        for memory_map in [true, false] {
            let options = OpenOptions {
                memory_map,
                ..OpenOptions::default()
            };
            assert_eq!(Source::open(&path, &options).unwrap().bytes(), b"abc");
        }
        let empty = dir.path().join("empty");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(
            Source::open(&empty, &OpenOptions::default())
                .unwrap()
                .bytes(),
            b""
        );
        let missing = Source::open(&dir.path().join("missing"), &OpenOptions::default());
        assert!(matches!(missing, Err(Error::Io { .. })));
    }

    /// Releasing a mapping's resident pages changes residency, never the
    /// bytes: they read back from the file as before.
    #[test]
    fn released_pages_read_back_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pages.bin");
        let data: Vec<u8> = (0..3 * 4096 + 17).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let source = Source::open(&path, &OpenOptions::default()).unwrap();
        assert!(matches!(source.0, Inner::Mapped(..)));
        let before: u64 = source.bytes().iter().map(|&b| u64::from(b)).sum();
        source.release_resident_pages();
        assert_eq!(source.bytes(), &data[..]);
        for _ in 0..2 {
            let mut streamed = Vec::new();
            source.stream().unwrap().read_to_end(&mut streamed).unwrap();
            assert_eq!(streamed, data);
        }
        source.release_range(5..4096 * 2 + 9);
        source.release_range(4096..4096);
        source.release_range(0..usize::MAX);
        let after: u64 = source.bytes().iter().map(|&b| u64::from(b)).sum();
        assert_eq!(before, after);
    }

    /// Pipes cannot be mapped or rewound: the magic-number check must not
    /// eat their first bytes.
    #[cfg(unix)]
    #[test]
    fn pipes_are_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let writer_path = fifo.clone();
        let writer = std::thread::spawn(move || {
            std::fs::write(writer_path, gzip(b"JAVA PROFILE 1.0.2\0")).unwrap();
        });
        let source = Source::open(&fifo, &OpenOptions::default()).unwrap();
        writer.join().unwrap();
        assert_eq!(source.bytes(), b"JAVA PROFILE 1.0.2\0");
    }
}

//! [`Traceback`] and [`SiteFrame`]: group keys as Python's
//! `tracemalloc.Traceback` and `Frame`.

use std::cmp::Ordering;
use std::fmt;

use heapgraph_core::{StackId, StackTable, StringId, StringTable};

/// A group key's internal form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Key {
    /// No frames.
    Empty,
    /// One frame `(file, line)`; line 0 for filename keys.
    Frame { file: StringId, line: u32 },
    /// A whole stack (frames compared by file and line only).
    Stack(StackId),
}

/// A traceback as Python's `tracemalloc.Traceback`: frames, oldest first.
#[derive(Clone, Copy)]
pub struct Traceback<'g> {
    pub(super) strings: &'g StringTable,
    pub(super) stacks: &'g StackTable,
    pub(super) key: Key,
}

/// One frame of a [`Traceback`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SiteFrame<'g> {
    /// The filename's raw bytes (UTF-8, or WTF-8 with lone surrogates).
    pub filename: &'g [u8],
    /// The line number.
    pub lineno: u32,
}

impl fmt::Display for SiteFrame<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}",
            String::from_utf8_lossy(self.filename),
            self.lineno
        )
    }
}

impl<'g> Traceback<'g> {
    /// The frames, oldest (outermost caller) first, as Python indexes them.
    pub fn frames(&self) -> Vec<SiteFrame<'g>> {
        let strings = self.strings;
        match self.key {
            Key::Empty => Vec::new(),
            Key::Frame { file, line } => vec![SiteFrame {
                filename: strings.bytes(file),
                lineno: line,
            }],
            Key::Stack(id) => {
                let stacks = self.stacks;
                stacks
                    .frames_outermost_first(id)
                    .into_iter()
                    .map(|f| {
                        let fr = stacks.frame(f);
                        SiteFrame {
                            filename: strings.bytes(fr.file),
                            lineno: fr.line,
                        }
                    })
                    .collect()
            }
        }
    }

    /// The number of frames.
    pub fn len(&self) -> usize {
        match self.key {
            Key::Empty => 0,
            Key::Frame { .. } => 1,
            Key::Stack(id) => self.stacks.depth(id) as usize,
        }
    }

    /// Whether the traceback has no frames.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The oldest frame, which `str(traceback)` prints.
    pub fn oldest(&self) -> Option<SiteFrame<'g>> {
        let strings = self.strings;
        match self.key {
            Key::Empty => None,
            Key::Frame { file, line } => Some(SiteFrame {
                filename: strings.bytes(file),
                lineno: line,
            }),
            Key::Stack(id) => {
                let stacks = self.stacks;
                let fr = stacks.frame(stacks.outermost_frame(id));
                Some(SiteFrame {
                    filename: strings.bytes(fr.file),
                    lineno: fr.line,
                })
            }
        }
    }

    /// The stack in the graph's stack table, for traceback keys.
    pub fn stack(&self) -> Option<StackId> {
        match self.key {
            Key::Stack(id) => Some(id),
            _ => None,
        }
    }

    /// `Traceback.format(limit, most_recent_first)` without source lines
    /// (as when `linecache` finds no file), as raw bytes per line.
    pub fn format_bytes(&self, limit: Option<i64>, most_recent_first: bool) -> Vec<Vec<u8>> {
        self.format_with_source(limit, most_recent_first, |_, _| None)
    }

    /// `Traceback.format(limit, most_recent_first)` without source lines,
    /// decoded for display (invalid sequences become U+FFFD).
    pub fn format(&self, limit: Option<i64>, most_recent_first: bool) -> Vec<String> {
        self.format_bytes(limit, most_recent_first)
            .into_iter()
            .map(|l| String::from_utf8_lossy(&l).into_owned())
            .collect()
    }

    /// `Traceback.format` with a source-line lookup standing in for
    /// `linecache.getline`: a returned line is stripped and printed under its
    /// frame when non-empty.
    pub fn format_with_source(
        &self,
        limit: Option<i64>,
        most_recent_first: bool,
        mut getline: impl FnMut(&[u8], u32) -> Option<String>,
    ) -> Vec<Vec<u8>> {
        let frames = self.frames();
        let n = frames.len() as i64;
        let (start, end) = match limit {
            None => (0, n),
            // self[-limit:]
            Some(l) if l > 0 => ((n - l).max(0), n),
            // self[:limit] (limit <= 0; `[:0]` is empty)
            Some(0) => (0, 0),
            Some(l) => (0, (n + l).max(0)),
        };
        let mut slice: Vec<SiteFrame<'g>> = frames
            .get(start as usize..end as usize)
            .unwrap_or_default()
            .to_vec();
        if most_recent_first {
            slice.reverse();
        }
        let mut lines = Vec::new();
        for frame in slice {
            let mut line = b"  File \"".to_vec();
            line.extend_from_slice(frame.filename);
            line.extend_from_slice(format!("\", line {}", frame.lineno).as_bytes());
            lines.push(line);
            if let Some(src) = getline(frame.filename, frame.lineno) {
                let src = src.trim();
                if !src.is_empty() {
                    lines.push(format!("    {src}").into_bytes());
                }
            }
        }
        lines
    }

    pub(super) fn write_oldest(&self, out: &mut Vec<u8>) {
        if let Some(frame) = self.oldest() {
            out.extend_from_slice(frame.filename);
            out.extend_from_slice(format!(":{}", frame.lineno).as_bytes());
        }
    }
}

impl PartialEq for Traceback<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Traceback<'_> {}

impl PartialOrd for Traceback<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Traceback<'_> {
    /// Python's order: oldest-first frame tuples, lexicographic.
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.key, other.key) {
            (Key::Frame { .. } | Key::Empty, Key::Frame { .. } | Key::Empty) => {
                self.oldest().cmp(&other.oldest())
            }
            _ => self.frames().cmp(&other.frames()),
        }
    }
}

impl fmt::Debug for Traceback<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.frames()).finish()
    }
}

impl fmt::Display for Traceback<'_> {
    /// `str(traceback)`: the oldest frame as `file:line`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.oldest() {
            Some(frame) => frame.fmt(f),
            None => Ok(()),
        }
    }
}

//! The `strings` section, appended to the graph's string table.

use super::producer::ProducerMarkers;
use super::Reader;
use crate::error::{V8Error, V8ErrorKind};

impl Reader<'_> {
    pub(super) fn read_strings(&mut self, pos: usize) -> Result<ProducerMarkers, V8Error> {
        let mut cursor = self.cursor(pos, "strings");
        let mut markers = ProducerMarkers::default();
        let mut buf = Vec::new();
        // Both bounded by the input: the count was found in it, and decoded
        // strings are never longer than their JSON text.
        let (strings, section_bytes) = self.string_reserve;
        let max_bytes = usize::try_from(self.limits.max_string_bytes).unwrap_or(usize::MAX);
        self.builder
            .strings()
            .reserve(strings as usize, section_bytes.min(max_bytes));
        cursor.expect(b'[', "`[`")?;
        let mut first = true;
        let mut count = 0u64;
        while cursor.next_item(b']', first)? {
            first = false;
            cursor.skip_ws();
            let at = cursor.pos();
            cursor.string(&mut buf)?;
            let id = self
                .builder
                .strings()
                .push_unique(&buf)
                .map_err(|e| V8Error::new(at, V8ErrorKind::Graph(e.into())))?;
            if count == 0 {
                self.string_base = id.as_u32();
                markers.first_is_dummy = buf == b"<dummy>";
            }
            if self.gc_roots_string.is_none() && buf == b"(GC roots)" {
                self.gc_roots_string = Some(count);
            }
            if self.root_string.is_none() && buf == b"(root)" {
                self.root_string = Some(count);
            }
            markers.observe(&buf);
            count += 1;
        }
        // Nothing reads the strings' text again.
        (self.release)(pos..cursor.pos());
        self.string_count = count;
        Ok(markers)
    }

    /// Maps a V8 string index to the graph's string id.
    #[inline]
    pub(super) fn string_id(
        &self,
        index: u64,
        section: &'static str,
        at: usize,
    ) -> Result<u32, V8Error> {
        if index >= self.string_count {
            return Err(V8Error::new(
                at,
                V8ErrorKind::IndexOutOfRange {
                    section,
                    what: "string index",
                    index,
                    len: self.string_count,
                },
            ));
        }
        // Both fit in u32: string_count is at most the interner's u32 range.
        Ok(self.string_base + index as u32)
    }
}

//! Small value types: basic types, size models, options and the dump version.

/// An HPROF basic type (the `u1` type code of fields and primitive arrays).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BasicType {
    /// A reference (code 2), `idsize` bytes in the file.
    Object,
    /// `boolean` (code 4), 1 byte.
    Boolean,
    /// `char` (code 5), 2 bytes, UTF-16 code unit.
    Char,
    /// `float` (code 6), 4 bytes.
    Float,
    /// `double` (code 7), 8 bytes.
    Double,
    /// `byte` (code 8), 1 byte.
    Byte,
    /// `short` (code 9), 2 bytes.
    Short,
    /// `int` (code 10), 4 bytes.
    Int,
    /// `long` (code 11), 8 bytes.
    Long,
}

/// The element type of a primitive array (an alias kept for readability).
pub type PrimitiveType = BasicType;

impl BasicType {
    /// The type for an HPROF type code, if valid.
    pub const fn from_code(code: u8) -> Option<BasicType> {
        Some(match code {
            2 => BasicType::Object,
            4 => BasicType::Boolean,
            5 => BasicType::Char,
            6 => BasicType::Float,
            7 => BasicType::Double,
            8 => BasicType::Byte,
            9 => BasicType::Short,
            10 => BasicType::Int,
            11 => BasicType::Long,
            _ => return None,
        })
    }

    /// The HPROF type code.
    pub const fn code(self) -> u8 {
        match self {
            BasicType::Object => 2,
            BasicType::Boolean => 4,
            BasicType::Char => 5,
            BasicType::Float => 6,
            BasicType::Double => 7,
            BasicType::Byte => 8,
            BasicType::Short => 9,
            BasicType::Int => 10,
            BasicType::Long => 11,
        }
    }

    /// Size in the file; references take `id_size` bytes.
    pub const fn file_size(self, id_size: u8) -> u8 {
        match self {
            BasicType::Object => id_size,
            BasicType::Boolean | BasicType::Byte => 1,
            BasicType::Char | BasicType::Short => 2,
            BasicType::Float | BasicType::Int => 4,
            BasicType::Double | BasicType::Long => 8,
        }
    }

    /// The Java name (`int`, `boolean`, ...; `Object` for references).
    pub const fn java_name(self) -> &'static str {
        match self {
            BasicType::Object => "java.lang.Object",
            BasicType::Boolean => "boolean",
            BasicType::Char => "char",
            BasicType::Float => "float",
            BasicType::Double => "double",
            BasicType::Byte => "byte",
            BasicType::Short => "short",
            BasicType::Int => "int",
            BasicType::Long => "long",
        }
    }
}

/// How shallow sizes are computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SizeModel {
    /// Eclipse MAT's model of HotSpot objects (the default): object header of
    /// `idsize + ref` bytes, references of `ref` bytes (4 with compressed
    /// oops, see [`HprofOptions::compressed_references`]), arrays with a
    /// 4-byte length after the header, objects aligned to 8 bytes. For a
    /// 64-bit JVM with compressed oops: instance = `align8(12 + fields)`,
    /// `Object[n]` = `align8(16 + 4n)`, `int[n]` = `align8(16 + 4n)`.
    ///
    /// Two HotSpot facts refine MAT's formula so that it matches `jcmd
    /// GC.class_histogram` for 98 % of classes on JDK 17 dumps:
    ///
    /// * `1.0.1` dumps (JDK ≤ 8) round each class level up to `ref` bytes
    ///   (MAT's per-level rounding, the classic field layout); `1.0.2` and
    ///   `1.0.3` dumps do not, since JDK 15 packs subclass fields into the
    ///   superclass's gaps.
    /// * Fields the JVM injects and the dump never lists are added when the
    ///   dump has `java.lang.Module` (JDK 9+): `ClassLoader.loader_data`,
    ///   `Module.module_entry`, `MemberName.vmindex`,
    ///   `ResolvedMethodName.vmtarget`/`vmholder`, `CallSiteContext`'s two,
    ///   `StackFrameInfo.version`, `InternalError.during_unsafe_access`,
    ///   `String.flags`.
    ///
    /// Still different: `@Contended` padding (`java.lang.Thread`'s
    /// `threadLocalRandom*` group, 256 bytes). Class nodes count their
    /// static field values only (the mirror's own fields are never dumped).
    #[default]
    Mat,
    /// What NetBeans / old VisualVM report: instance = `2·idsize` + field
    /// bytes as written in the file (references `idsize`), no alignment;
    /// any array = `2·idsize + 8 + element bytes`. Class nodes are 0 bytes
    /// (NetBeans does not count classes as instances).
    Raw,
}

/// Parse options.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HprofOptions {
    /// The shallow-size model (default [`SizeModel::Mat`]).
    pub size_model: SizeModel,
    /// Whether the dumped JVM used compressed references (4-byte refs) for the
    /// [`SizeModel::Mat`] sizes. `None` (default): detected for 8-byte ids
    /// from the address gaps after object arrays (as MAT does), assumed when
    /// undecidable (HotSpot's default below 32 GB heaps); moot for 4-byte ids.
    pub compressed_references: Option<bool>,
    /// Accept a dump cut short (a killed dumper, a partial copy): keep every
    /// complete record and sub-record before the cut and report where it
    /// was in [`RecordStats::truncation`](crate::RecordStats::truncation)
    /// instead of failing. Corruption (bad tags, types, lengths inside the
    /// data) is still an error. Default `false`.
    pub lenient: bool,
    /// Bounds on the graph [`parse`](crate::parse) may build: more heap
    /// objects than `max_nodes` allows is refused during the index pass,
    /// at the record that crossed the bound; more edges than `max_edges` during
    /// the edge pass; more string bytes than `max_string_bytes` as they are
    /// interned. Default: the model's limits (no bound beyond `u32`
    /// indices).
    pub limits: heapgraph_core::Limits,
    /// Which heap dump of the file to read, from 1 (default 1, the first),
    /// for files that hold several (the JVMTI `hprof` agent writes one per
    /// request into the same file), as jhat's `file#N`. The others are
    /// skipped and counted in
    /// [`RecordStats::heap_dumps`](crate::RecordStats::heap_dumps); a
    /// number past the last is an error.
    pub dump: u32,
    /// Called with the byte ranges of the input each pass has finished
    /// reading (a few megabytes at a time; see
    /// [`OnConsumed`](heapgraph_core::OnConsumed)), so a caller that
    /// memory-mapped the file can drop those pages as the parse goes rather
    /// than hold the whole file resident next to the graph. The ranges are
    /// read again by later passes and by the lazy readers
    /// ([`HprofDump::primitive_array`](crate::HprofDump::primitive_array),
    /// [`HprofDump::java_string_value`](crate::HprofDump::java_string_value)),
    /// so the mapping must stay valid. Default: no hook.
    pub on_consumed: heapgraph_core::OnConsumed,
}

impl Default for HprofOptions {
    fn default() -> Self {
        HprofOptions {
            size_model: SizeModel::Mat,
            compressed_references: None,
            lenient: false,
            limits: heapgraph_core::Limits::default(),
            dump: 1,
            on_consumed: heapgraph_core::OnConsumed::default(),
        }
    }
}

impl HprofOptions {
    /// Options with the given size model.
    pub fn with_size_model(mut self, size_model: SizeModel) -> Self {
        self.size_model = size_model;
        self
    }

    /// Options that accept a truncated dump (see [`HprofOptions::lenient`]).
    pub fn with_lenient(mut self, lenient: bool) -> Self {
        self.lenient = lenient;
        self
    }

    /// Options with these graph limits (see [`HprofOptions::limits`]).
    pub fn with_limits(mut self, limits: heapgraph_core::Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Options that read heap dump `dump` of the file, from 1 (see
    /// [`HprofOptions::dump`]).
    pub fn with_dump(mut self, dump: u32) -> Self {
        self.dump = dump;
        self
    }

    /// Options that report consumed input to `on_consumed` (see
    /// [`HprofOptions::on_consumed`]).
    pub fn with_on_consumed(mut self, on_consumed: heapgraph_core::OnConsumed) -> Self {
        self.on_consumed = on_consumed;
        self
    }

    /// Options with compressed references forced on or off.
    pub fn with_compressed_references(mut self, compressed: bool) -> Self {
        self.compressed_references = Some(compressed);
        self
    }
}

/// The format version from the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HprofVersion {
    /// `JAVA PROFILE 1.0.1` (JDK ≤ 8 HotSpot, the JVMTI `hprof` agent).
    V1_0_1,
    /// `JAVA PROFILE 1.0.2` (HotSpot with heap-dump segments).
    V1_0_2,
    /// `JAVA PROFILE 1.0.3` (Android ART).
    V1_0_3,
}

impl HprofVersion {
    /// The version string as written in the header.
    pub const fn as_str(self) -> &'static str {
        match self {
            HprofVersion::V1_0_1 => "JAVA PROFILE 1.0.1",
            HprofVersion::V1_0_2 => "JAVA PROFILE 1.0.2",
            HprofVersion::V1_0_3 => "JAVA PROFILE 1.0.3",
        }
    }
}

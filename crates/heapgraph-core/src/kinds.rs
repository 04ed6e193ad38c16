//! Small enums that classify nodes, edges, GC roots and source formats.
//!
//! Each is stored as one byte per node or edge. The variants are the union of
//! what the supported runtimes distinguish; a parser maps its own type codes
//! onto them and keeps anything finer in its own side tables.

macro_rules! byte_enum {
    (
        $(#[$doc:meta])*
        $name:ident {
            $( $(#[$vdoc:meta])* $variant:ident = $value:literal => $label:literal, )*
        }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        #[non_exhaustive]
        #[repr(u8)]
        pub enum $name {
            $( $(#[$vdoc])* $variant = $value, )*
        }

        impl $name {
            /// Every variant, in code order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The one-byte code stored in the graph.
            #[inline]
            pub const fn code(self) -> u8 {
                self as u8
            }

            /// The variant for a one-byte code, if any.
            #[inline]
            pub const fn from_code(code: u8) -> Option<Self> {
                match code {
                    $( $value => Some($name::$variant), )*
                    _ => None,
                }
            }

            /// A short lower-case name, stable for JSON and CSV output.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $label, )*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

byte_enum!(
    /// What a node is.
    NodeKind {
        /// A synthetic node made by the producer or by heapgraph (the root,
        /// V8's `(GC roots)` groups).
        Synthetic = 0 => "synthetic",
        /// A group of GC roots of one [`RootKind`], child of the root.
        RootGroup = 1 => "root_group",
        /// An ordinary object (V8 `object`, a Java instance).
        Object = 2 => "object",
        /// An array of references (V8 `array` internals, Java `Object[]`).
        Array = 3 => "array",
        /// An array of primitive values (Java `int[]`, `byte[]`, ...).
        PrimitiveArray = 4 => "primitive_array",
        /// A string (V8 flat strings).
        String = 5 => "string",
        /// A V8 cons (concatenated) string.
        ConsString = 6 => "concatenated_string",
        /// A V8 sliced string.
        SlicedString = 7 => "sliced_string",
        /// A class object (Java class, with its static fields).
        Class = 8 => "class",
        /// A function closure.
        Closure = 9 => "closure",
        /// Compiled code.
        Code = 10 => "code",
        /// A regular expression.
        RegExp = 11 => "regexp",
        /// A boxed number (V8 heap number).
        Number = 12 => "number",
        /// A symbol.
        Symbol = 13 => "symbol",
        /// A big integer.
        BigInt = 14 => "bigint",
        /// Engine-internal object (V8 `hidden`).
        Hidden = 15 => "hidden",
        /// An object shape / hidden class map (V8 `object shape`).
        ObjectShape = 16 => "object_shape",
        /// An object owned by the embedder (V8 `native`, e.g. DOM nodes).
        Native = 17 => "native",
        /// A WebAssembly object.
        Wasm = 18 => "wasm",
        /// A block of memory recorded by an allocation tracer (tracemalloc).
        AllocationBlock = 19 => "allocation_block",
        /// Anything else the producer names but heapgraph does not classify.
        Other = 20 => "other",
    }
);

/// Whether a DOM node is in a document: V8's per-node `detachedness`
/// column, which Blink fills in for the DOM nodes it knows (`0`, `1`, `2`
/// in the file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum DomState {
    /// Not known (`0`, and any value V8 does not write).
    #[default]
    Unknown = 0,
    /// In a document (`1`).
    Attached = 1,
    /// Out of every document (`2`): a detached DOM node.
    Detached = 2,
}

impl DomState {
    /// The state a `detachedness` value stands for.
    pub fn from_v8(value: u64) -> DomState {
        match value {
            1 => DomState::Attached,
            2 => DomState::Detached,
            _ => DomState::Unknown,
        }
    }
}

/// V8's heap-snapshot node types in the order of its `HeapGraphNode::Type`
/// enum (which every version so far has only appended to), each with the
/// kind it is read as: the one table the V8 reader maps type names through
/// and the analysis maps kinds back with, for DevTools' `(…)` class names.
pub const V8_NODE_TYPES: [(&str, NodeKind); 16] = [
    ("hidden", NodeKind::Hidden),
    ("array", NodeKind::Array),
    ("string", NodeKind::String),
    ("object", NodeKind::Object),
    ("code", NodeKind::Code),
    ("closure", NodeKind::Closure),
    ("regexp", NodeKind::RegExp),
    ("number", NodeKind::Number),
    ("native", NodeKind::Native),
    ("synthetic", NodeKind::Synthetic),
    ("concatenated string", NodeKind::ConsString),
    ("sliced string", NodeKind::SlicedString),
    ("symbol", NodeKind::Symbol),
    ("bigint", NodeKind::BigInt),
    ("object shape", NodeKind::ObjectShape),
    ("wasm object", NodeKind::Wasm),
];

impl NodeKind {
    /// The kind a V8 node type name is read as ([`V8_NODE_TYPES`]);
    /// [`NodeKind::Other`] for names V8 never wrote.
    pub fn from_v8_type(name: &str) -> NodeKind {
        V8_NODE_TYPES
            .iter()
            .find(|(v8, _)| *v8 == name)
            .map_or(NodeKind::Other, |&(_, kind)| kind)
    }

    /// The V8 type name of this kind ([`V8_NODE_TYPES`]; root groups are
    /// `synthetic`), or the kind's own name for kinds V8 has no type for.
    pub fn v8_type_name(self) -> &'static str {
        match self {
            NodeKind::RootGroup => "synthetic",
            kind => V8_NODE_TYPES
                .iter()
                .find(|&&(_, k)| k == kind)
                .map_or(kind.as_str(), |&(name, _)| name),
        }
    }
}

byte_enum!(
    /// What an edge means. Which kinds count as references for retention is
    /// decided by the analysis' edge policy, not here.
    EdgeKind {
        /// A closure's captured variable (V8 `context`).
        Context = 0 => "context",
        /// An indexed element (array slot); the edge carries an index.
        Element = 1 => "element",
        /// A named property or field.
        Property = 2 => "property",
        /// An engine-internal named reference (V8 `internal`, Java class edges).
        Internal = 3 => "internal",
        /// An engine-internal indexed reference (V8 `hidden`); carries an index.
        Hidden = 4 => "hidden",
        /// A shortcut that bypasses intermediate objects (V8 `shortcut`).
        Shortcut = 5 => "shortcut",
        /// A weak reference (V8 `weak`, Java `WeakReference.referent`).
        Weak = 6 => "weak",
        /// A soft reference (Java `SoftReference.referent`).
        Soft = 7 => "soft",
        /// A phantom reference (Java `PhantomReference.referent`).
        Phantom = 8 => "phantom",
        /// A finalizer reference (Java `FinalReference.referent`).
        Final = 9 => "final",
        /// From the root or a root group to a GC root.
        Root = 10 => "root",
    }
);

impl EdgeKind {
    /// Whether the edge's label is an element index rather than a name.
    #[inline]
    pub const fn has_index(self) -> bool {
        matches!(self, EdgeKind::Element | EdgeKind::Hidden)
    }

    /// Whether the edge is a weak, soft, phantom or finalizer reference.
    #[inline]
    pub const fn is_weak_like(self) -> bool {
        matches!(
            self,
            EdgeKind::Weak | EdgeKind::Soft | EdgeKind::Phantom | EdgeKind::Final
        )
    }
}

byte_enum!(
    /// Why a GC root is a root.
    RootKind {
        /// Unknown or unspecified (HPROF `ROOT UNKNOWN`).
        Unknown = 0 => "unknown",
        /// A JNI global reference.
        JniGlobal = 1 => "jni_global",
        /// A JNI local reference.
        JniLocal = 2 => "jni_local",
        /// A local variable or operand of a Java stack frame.
        JavaFrame = 3 => "java_frame",
        /// Held by a native stack.
        NativeStack = 4 => "native_stack",
        /// A class the VM keeps loaded (HPROF `ROOT STICKY CLASS`).
        StickyClass = 5 => "sticky_class",
        /// Held by a thread block.
        ThreadBlock = 6 => "thread_block",
        /// An object used as a monitor.
        MonitorUsed = 7 => "monitor_used",
        /// A live thread object.
        ThreadObject = 8 => "thread_object",
        /// An interned string (Android).
        InternedString = 9 => "interned_string",
        /// Waiting for finalization (Android).
        Finalizing = 10 => "finalizing",
        /// Held by the debugger (Android).
        Debugger = 11 => "debugger",
        /// Held by reference cleanup (Android).
        ReferenceCleanup = 12 => "reference_cleanup",
        /// Held by the VM itself (Android).
        VmInternal = 13 => "vm_internal",
        /// A JNI monitor (Android).
        JniMonitor = 14 => "jni_monitor",
        /// A root group named by a JavaScript engine (V8's `(GC roots)` children,
        /// the root's user-global shortcuts).
        Engine = 15 => "engine",
        /// An allocation recorded by a tracer (tracemalloc blocks).
        Allocation = 16 => "allocation",
    }
);

byte_enum!(
    /// The kind of file a graph was read from.
    Format {
        /// A V8 `.heapsnapshot` (Node, Chrome, Electron, Deno, Bun).
        V8HeapSnapshot = 0 => "v8",
        /// A V8 sampling heap profile (`.heapprofile`).
        V8HeapProfile = 1 => "v8_heapprofile",
        /// A Java HPROF heap dump (HotSpot, Android).
        Hprof = 2 => "hprof",
        /// A CPython `tracemalloc.Snapshot.dump()` pickle.
        Tracemalloc = 3 => "tracemalloc",
        /// A graph built by hand (tests, synthetic benchmarks).
        Synthetic = 4 => "synthetic",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for &kind in NodeKind::ALL {
            assert_eq!(NodeKind::from_code(kind.code()), Some(kind));
        }
        for &kind in EdgeKind::ALL {
            assert_eq!(EdgeKind::from_code(kind.code()), Some(kind));
        }
        for &kind in RootKind::ALL {
            assert_eq!(RootKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(NodeKind::from_code(200), None);
        assert_eq!(EdgeKind::Element.as_str(), "element");
        assert!(EdgeKind::Hidden.has_index());
        assert!(!EdgeKind::Property.has_index());
    }

    #[test]
    fn v8_type_names_round_trip() {
        for (name, kind) in V8_NODE_TYPES {
            assert_eq!(NodeKind::from_v8_type(name), kind);
            assert_eq!(kind.v8_type_name(), name);
        }
        let distinct: std::collections::HashSet<_> = V8_NODE_TYPES.iter().map(|p| p.1).collect();
        assert_eq!(distinct.len(), V8_NODE_TYPES.len());
        assert_eq!(NodeKind::from_v8_type("future type"), NodeKind::Other);
        assert_eq!(NodeKind::RootGroup.v8_type_name(), "synthetic");
        assert_eq!(NodeKind::AllocationBlock.v8_type_name(), "allocation_block");
    }
}

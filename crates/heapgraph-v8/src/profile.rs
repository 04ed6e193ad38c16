//! `.heapprofile` files (sampling heap profiles): [`parse_heapprofile`].
//!
//! The file is CDP's `HeapProfiler.SamplingHeapProfile`: a `head` call tree
//! whose nodes carry a `callFrame`, a `selfSize` and an `id`, and a
//! `samples` list of `{size, nodeId, ordinal}`. The tree is read
//! iteratively (no recursion, depth-capped) into a pre-order table; every
//! node but the synthetic `(root)` head becomes a frame of the core stack
//! table.
//!
//! **Which size a report uses.** V8 keeps two views of the same
//! allocations: each tree node's `selfSize` is V8's *scaled estimate* of the
//! bytes allocated there (sampling correction), while `samples` lists the
//! sampled allocations that are still live, each with its real size. They
//! disagree by a few percent. [`HeapProfile::graph`] is built from the
//! **samples** (one allocation block per sample, self size = the sample's
//! size), so site statistics and flame graphs computed from the graph use
//! sampled bytes; [`ProfileNode::self_size`] keeps V8's estimate alongside.
//!
//! **Line numbers.** [`ProfileNode`] keeps them as the file gives them
//! (0-based, `-1` when unknown). Frames in the core stack table are
//! **1-based with 0 for unknown**, like `.heapsnapshot` trace frames and
//! tracemalloc, so one site model prints the same way for every format (and
//! lines match what DevTools and editors show). A frame without a script URL
//! (V8 builtins, `(program)`, `(garbage collector)`) uses its function name
//! as its file, so such sites stay apart in site statistics.

use std::io::Write as _;

use hashbrown::HashMap;
use heapgraph_core::{
    Format, Frame, GraphBuilder, HeapGraph, NodeKind, RootKind, StackId, StringId,
};

use crate::error::{V8Error, V8ErrorKind};
use crate::json::{Cursor, MAX_DEPTH};
use crate::ParseOptions;

/// One node of the profile's call tree, in pre-order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfileNode {
    /// The node's `id`, or its pre-order position when the file gives no
    /// node ids (the old format).
    pub id: u64,
    /// The parent's position in [`HeapProfile::nodes`] (`None` for `head`).
    pub parent: Option<u32>,
    /// `callFrame.functionName` (in the graph's string table).
    pub function_name: StringId,
    /// `callFrame.url`.
    pub url: StringId,
    /// `callFrame.scriptId` (a string in CDP).
    pub script_id: StringId,
    /// `callFrame.lineNumber`, 0-based, `-1` when unknown.
    pub line: i64,
    /// `callFrame.columnNumber`, 0-based, `-1` when unknown.
    pub column: i64,
    /// `selfSize`: V8's scaled estimate of the bytes allocated here.
    pub self_size: u64,
    /// The call stack ending at this node (`None` for the `(root)` head).
    pub stack: Option<StackId>,
}

/// One `samples` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfileSample {
    /// The allocation's size in bytes.
    pub size: u64,
    /// The `nodeId` it cites.
    pub node_id: u64,
    /// V8's global allocation counter (unsorted).
    pub ordinal: u64,
    /// The cited node's position in [`HeapProfile::nodes`], `None` when no
    /// node has that id (an unknown site).
    pub node: Option<u32>,
}

/// Where the sizes of a profile's allocation blocks come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfileSizes {
    /// The `samples` list: one block per sample, with its real size.
    Samples,
    /// The call tree's `selfSize` (V8's scaled estimate): one block per
    /// tree node with a non-zero `selfSize`. Profiles written before
    /// `samples` existed (Chrome before 76, Node before 12) have only the
    /// tree.
    Tree,
}

/// A parsed sampling heap profile.
#[derive(Debug)]
#[non_exhaustive]
pub struct HeapProfile {
    /// A graph with [`Format::V8HeapProfile`]: the root, then one
    /// [`NodeKind::AllocationBlock`] per sample (in file order; self size =
    /// sample size, object id = ordinal, name = innermost frame as
    /// `function url:line` with the 1-based line, stack = the sample's call
    /// stack), held through the `(Allocations)` root group. Its string and
    /// stack tables are the ones the node table refers to.
    ///
    /// A profile without a `samples` list (the old format) gets one block
    /// per tree node with a non-zero `selfSize` instead, in pre-order (self
    /// size = `selfSize`, object id = the node's `id`, or its pre-order
    /// position when the file gives no ids); see [`HeapProfile::sizes`].
    pub graph: HeapGraph,
    /// Where the blocks' sizes come from.
    pub sizes: ProfileSizes,
    /// The call tree in pre-order (`nodes[0]` is `head`).
    pub nodes: Vec<ProfileNode>,
    /// The samples, in file order.
    pub samples: Vec<ProfileSample>,
    /// Samples whose `nodeId` names no tree node.
    pub unknown_site_samples: u64,
}

impl HeapProfile {
    /// The graph (see [`HeapProfile::graph`]).
    pub fn into_graph(self) -> HeapGraph {
        self.graph
    }

    /// The sum of all nodes' `selfSize` (V8's estimate), saturating.
    pub fn total_self_size(&self) -> u64 {
        self.nodes
            .iter()
            .fold(0u64, |sum, n| sum.saturating_add(n.self_size))
    }

    /// The sum of all samples' sizes, saturating.
    pub fn total_sampled_size(&self) -> u64 {
        self.samples
            .iter()
            .fold(0u64, |sum, s| sum.saturating_add(s.size))
    }

    /// Per node (same positions as [`HeapProfile::nodes`]): the number and
    /// total size (saturating) of the samples citing it.
    pub fn sample_totals(&self) -> Vec<(u64, u64)> {
        let mut totals = vec![(0u64, 0u64); self.nodes.len()];
        for sample in &self.samples {
            if let Some(slot) = sample.node.and_then(|n| totals.get_mut(n as usize)) {
                slot.0 += 1;
                slot.1 = slot.1.saturating_add(sample.size);
            }
        }
        totals
    }
}

/// Parses a `.heapprofile` (CDP `SamplingHeapProfile` JSON).
///
/// # Errors
///
/// A [`V8Error`] with the byte offset of the first problem: truncation,
/// malformed JSON, a missing `head`, nesting deeper than 65536.
pub fn parse_heapprofile(bytes: &[u8]) -> Result<HeapProfile, V8Error> {
    parse_heapprofile_with(bytes, &ParseOptions::default())
}

/// [`parse_heapprofile`] with options: under [`ParseOptions::limits`] a
/// profile whose call tree strings or samples (one graph node each, plus
/// the root and one root group) go over a limit is refused, with the offset
/// of the string or sample that went over.
///
/// # Errors
///
/// As [`parse_heapprofile`], and [`V8ErrorKind::Graph`] with
/// [`BuildError::LimitExceeded`](heapgraph_core::BuildError::LimitExceeded)
/// or a string-bytes [`TooManyStrings`](heapgraph_core::TooManyStrings)
/// for a limit.
pub fn parse_heapprofile_with(
    bytes: &[u8],
    options: &ParseOptions,
) -> Result<HeapProfile, V8Error> {
    let limits = options.limits;
    let mut builder = GraphBuilder::new(Format::V8HeapProfile).with_limits(limits);
    let graph_error =
        |at: usize| move |e: heapgraph_core::BuildError| V8Error::new(at, V8ErrorKind::Graph(e));
    let root_name = builder.intern(b"(root)").map_err(graph_error(0))?;
    builder
        .add_node(NodeKind::Synthetic, root_name, 0, 0)
        .map_err(graph_error(0))?;

    let start = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let mut cursor = Cursor::new(bytes, start, "top level");
    let mut nodes: Vec<ProfileNode> = Vec::new();
    let mut raw_samples: Vec<(u64, u64, u64, usize)> = Vec::new();
    let mut saw_samples = false;
    let mut saw_head = false;
    let mut key = Vec::new();
    cursor.expect(b'{', "`{`")?;
    let mut first = true;
    while cursor.next_item(b'}', first)? {
        first = false;
        cursor.set_section("top level");
        cursor.key(&mut key)?;
        match key.as_slice() {
            b"head" => {
                if saw_head {
                    return Err(cursor.error(V8ErrorKind::DuplicateSection { section: "head" }));
                }
                saw_head = true;
                cursor.set_section("head");
                read_tree(&mut cursor, &mut builder, &mut nodes)?;
            }
            b"samples" => {
                saw_samples = true;
                cursor.set_section("samples");
                read_samples(&mut cursor, &mut raw_samples)?;
            }
            _ => cursor.skip_value()?,
        }
    }
    if !saw_head {
        return Err(cursor.error(V8ErrorKind::MissingSection { section: "head" }));
    }
    let end = cursor.pos();
    let sizes = if saw_samples {
        ProfileSizes::Samples
    } else {
        ProfileSizes::Tree
    };
    // The old format: the tree's sites stand in for the samples, with
    // their own node ids (or positions, when the file has no ids).
    if sizes == ProfileSizes::Tree {
        let ids_given = nodes.iter().any(|n| n.id != 0);
        raw_samples.extend(
            nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.self_size > 0)
                .map(|(i, n)| {
                    let id = if ids_given { n.id } else { i as u64 };
                    (n.self_size, id, id, end)
                }),
        );
        if !ids_given {
            for (i, node) in nodes.iter_mut().enumerate() {
                node.id = i as u64;
            }
        }
    }
    // One node per sample besides the root and the `(Allocations)` group,
    // and as many edges: refuse before building any of them.
    let over = |limit: u64, reserved: u64| usize::try_from(limit.saturating_sub(reserved)).ok();
    for (what, keep, limit) in [
        ("nodes", over(limits.max_nodes, 2), limits.max_nodes),
        ("edges", over(limits.max_edges, 1), limits.max_edges),
    ] {
        if let Some(&(.., at)) = keep.and_then(|keep| raw_samples.get(keep)) {
            return Err(V8Error::new(
                at,
                V8ErrorKind::Graph(heapgraph_core::BuildError::LimitExceeded { what, limit }),
            ));
        }
    }

    // Stacks, in pre-order so parents come first; `head` has none.
    for i in 0..nodes.len() {
        let Some(node) = nodes.get(i).copied() else {
            break;
        };
        let Some(parent) = node.parent else {
            continue;
        };
        let parent_stack = nodes.get(parent as usize).and_then(|p| p.stack);
        let file = if builder.strings().table().bytes(node.url).is_empty() {
            node.function_name
        } else {
            node.url
        };
        let frame = builder
            .stacks()
            .intern_frame(Frame {
                function: node.function_name,
                file,
                line: one_based(node.line),
                column: one_based(node.column),
            })
            .map_err(|e| V8Error::new(end, V8ErrorKind::Graph(e.into())))?;
        let stack = builder
            .stacks()
            .push_frame(parent_stack, frame)
            .map_err(|e| V8Error::new(end, V8ErrorKind::Graph(e.into())))?;
        if let Some(slot) = nodes.get_mut(i) {
            slot.stack = Some(stack);
        }
    }

    let mut by_id: HashMap<u64, u32> = HashMap::with_capacity(nodes.len());
    for (i, node) in nodes.iter().enumerate() {
        by_id.entry(node.id).or_insert(i as u32);
    }
    let mut samples = Vec::with_capacity(raw_samples.len());
    let mut unknown_site_samples = 0;
    let mut site_names: HashMap<u32, StringId> = HashMap::new();
    let unknown_name = builder
        .intern(b"(unknown site)")
        .map_err(graph_error(end))?;
    let mut name_buf = Vec::new();
    for (size, node_id, ordinal, _) in raw_samples {
        let node = by_id.get(&node_id).copied();
        if node.is_none() {
            unknown_site_samples += 1;
        }
        samples.push(ProfileSample {
            size,
            node_id,
            ordinal,
            node,
        });
        let name = match node {
            None => unknown_name,
            Some(index) => match site_names.get(&index) {
                Some(&name) => name,
                None => {
                    let name = match nodes.get(index as usize) {
                        Some(site) => site_name(&mut builder, site, &mut name_buf)
                            .map_err(graph_error(end))?,
                        None => unknown_name,
                    };
                    site_names.insert(index, name);
                    name
                }
            },
        };
        let block = builder
            .add_node(NodeKind::AllocationBlock, name, ordinal, size)
            .map_err(graph_error(end))?;
        if let Some(stack) = node
            .and_then(|n| nodes.get(n as usize))
            .and_then(|n| n.stack)
        {
            builder.set_node_stack(block, stack);
        }
        builder.add_gc_root(block, RootKind::Allocation);
    }
    builder.set_producer("V8 sampling heap profiler");
    let graph = builder.finish().map_err(graph_error(end))?;
    if sizes == ProfileSizes::Tree {
        // The tree's sites are not samples the file listed.
        samples.clear();
    }
    Ok(HeapProfile {
        graph,
        sizes,
        nodes,
        samples,
        unknown_site_samples,
    })
}

/// A 0-based position from the file as a 1-based one, 0 when unknown.
fn one_based(value: i64) -> u32 {
    u32::try_from(value)
        .ok()
        .and_then(|v| v.checked_add(1))
        .unwrap_or(0)
}

/// `function url:line` for a site (`(anonymous)` for an empty name; the
/// line 1-based).
fn site_name(
    builder: &mut GraphBuilder,
    site: &ProfileNode,
    buf: &mut Vec<u8>,
) -> Result<StringId, heapgraph_core::BuildError> {
    buf.clear();
    let table = builder.strings().table();
    let function = table.bytes(site.function_name);
    if function.is_empty() {
        buf.extend_from_slice(b"(anonymous)");
    } else {
        buf.extend_from_slice(function);
    }
    let url = table.bytes(site.url);
    if !url.is_empty() {
        buf.push(b' ');
        buf.extend_from_slice(url);
        let _ = write!(buf, ":{}", one_based(site.line));
    }
    builder.intern(buf)
}

/// Reads the `head` object and all its descendants into `nodes`.
fn read_tree(
    cursor: &mut Cursor<'_>,
    builder: &mut GraphBuilder,
    nodes: &mut Vec<ProfileNode>,
) -> Result<(), V8Error> {
    struct Open {
        node: u32,
        first_key: bool,
        in_children: bool,
        first_child: bool,
    }
    let mut key = Vec::new();
    let mut buf = Vec::new();
    let new_node = |nodes: &mut Vec<ProfileNode>, parent: Option<u32>, cursor: &Cursor<'_>| {
        let index = u32::try_from(nodes.len()).map_err(|_| {
            cursor.error(V8ErrorKind::NumberTooLarge {
                section: "head",
                max: u64::from(u32::MAX),
            })
        })?;
        nodes.push(ProfileNode {
            id: 0,
            parent,
            function_name: StringId::EMPTY,
            url: StringId::EMPTY,
            script_id: StringId::EMPTY,
            line: -1,
            column: -1,
            self_size: 0,
            stack: None,
        });
        Ok::<u32, V8Error>(index)
    };
    cursor.expect(b'{', "`{`")?;
    let head = new_node(nodes, None, cursor)?;
    let mut stack = vec![Open {
        node: head,
        first_key: true,
        in_children: false,
        first_child: true,
    }];
    while let Some(top) = stack.last_mut() {
        if top.in_children {
            if !cursor.next_item(b']', top.first_child)? {
                top.in_children = false;
                continue;
            }
            top.first_child = false;
            let parent = top.node;
            if stack.len() as u32 >= MAX_DEPTH {
                return Err(cursor.error(V8ErrorKind::TooDeep {
                    section: "head",
                    limit: MAX_DEPTH,
                }));
            }
            cursor.expect(b'{', "`{` (a child node)")?;
            let child = new_node(nodes, Some(parent), cursor)?;
            stack.push(Open {
                node: child,
                first_key: true,
                in_children: false,
                first_child: true,
            });
            continue;
        }
        if !cursor.next_item(b'}', top.first_key)? {
            stack.pop();
            continue;
        }
        top.first_key = false;
        let index = top.node as usize;
        cursor.key(&mut key)?;
        match key.as_slice() {
            b"callFrame" => {
                cursor.set_section("callFrame");
                read_call_frame(cursor, builder, &mut key, &mut buf, nodes.get_mut(index))?;
                cursor.set_section("head");
            }
            b"selfSize" => {
                let at = cursor.pos();
                let size = cursor.int_lenient()?;
                let size = u64::try_from(size).map_err(|_| {
                    V8Error::new(
                        at,
                        V8ErrorKind::Syntax {
                            section: "head",
                            expected: "a non-negative selfSize",
                            found: '-',
                        },
                    )
                })?;
                if let Some(node) = nodes.get_mut(index) {
                    node.self_size = size;
                }
            }
            b"id" => {
                let id = cursor.uint()?;
                if let Some(node) = nodes.get_mut(index) {
                    node.id = id;
                }
            }
            b"children" => {
                cursor.expect(b'[', "`[`")?;
                top.in_children = true;
                top.first_child = true;
            }
            _ => cursor.skip_value()?,
        }
    }
    Ok(())
}

fn read_call_frame(
    cursor: &mut Cursor<'_>,
    builder: &mut GraphBuilder,
    key: &mut Vec<u8>,
    buf: &mut Vec<u8>,
    node: Option<&mut ProfileNode>,
) -> Result<(), V8Error> {
    let mut scratch = ProfileNode {
        id: 0,
        parent: None,
        function_name: StringId::EMPTY,
        url: StringId::EMPTY,
        script_id: StringId::EMPTY,
        line: -1,
        column: -1,
        self_size: 0,
        stack: None,
    };
    let node = node.unwrap_or(&mut scratch);
    cursor.expect(b'{', "`{`")?;
    let mut first = true;
    while cursor.next_item(b'}', first)? {
        first = false;
        cursor.key(key)?;
        let at = cursor.pos();
        let mut intern = |cursor: &mut Cursor<'_>| -> Result<StringId, V8Error> {
            cursor.string(buf)?;
            builder
                .intern(buf)
                .map_err(|e| V8Error::new(at, V8ErrorKind::Graph(e)))
        };
        match key.as_slice() {
            b"functionName" => node.function_name = intern(cursor)?,
            b"url" => node.url = intern(cursor)?,
            b"scriptId" if cursor.peek() == Some(b'"') => node.script_id = intern(cursor)?,
            b"lineNumber" => node.line = cursor.int_lenient()?,
            b"columnNumber" => node.column = cursor.int_lenient()?,
            _ => cursor.skip_value()?,
        }
    }
    Ok(())
}

fn read_samples(
    cursor: &mut Cursor<'_>,
    samples: &mut Vec<(u64, u64, u64, usize)>,
) -> Result<(), V8Error> {
    let mut key = Vec::new();
    cursor.expect(b'[', "`[`")?;
    let mut first = true;
    while cursor.next_item(b']', first)? {
        first = false;
        cursor.skip_ws();
        let sample_at = cursor.pos();
        let (mut size, mut node_id, mut ordinal) = (0u64, 0u64, 0u64);
        cursor.expect(b'{', "`{` (a sample)")?;
        let mut first_key = true;
        while cursor.next_item(b'}', first_key)? {
            first_key = false;
            cursor.key(&mut key)?;
            let at = cursor.pos();
            let unsigned = |cursor: &mut Cursor<'_>| -> Result<u64, V8Error> {
                let value = cursor.int_lenient()?;
                u64::try_from(value).map_err(|_| {
                    V8Error::new(
                        at,
                        V8ErrorKind::Syntax {
                            section: "samples",
                            expected: "a non-negative number",
                            found: '-',
                        },
                    )
                })
            };
            match key.as_slice() {
                b"size" => size = unsigned(cursor)?,
                b"nodeId" => node_id = unsigned(cursor)?,
                b"ordinal" => ordinal = unsigned(cursor)?,
                _ => cursor.skip_value()?,
            }
        }
        samples.push((size, node_id, ordinal, sample_at));
    }
    Ok(())
}

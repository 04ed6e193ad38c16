//! Property test: random heaps written as HPROF (4- or 8-byte ids, segments
//! cut at random places, even inside sub-records) parse back into exactly
//! the graph an independent oracle expects: nodes, edges (own fields first,
//! then up the super chain), dangling references counted, and sizes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

use std::collections::{BTreeMap, HashMap};

use heapgraph_core::{EdgeKind, EdgeLabel, NodeKind};
use heapgraph_hprof::{parse, HprofOptions, SizeModel};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Class {
    super_class: Option<usize>,
    /// (field name index, is reference, width for primitives: 1, 2, 4, 8)
    fields: Vec<(usize, bool, u8)>,
}

#[derive(Clone, Debug)]
enum Object {
    /// class, per flattened field a value choice (index into objects, or
    /// none = null, or dangling)
    Instance(usize, Vec<Option<Target>>),
    Array(Vec<Option<Target>>),
    Ints(u32),
}

#[derive(Clone, Copy, Debug)]
enum Target {
    Object(usize),
    Dangling,
}

fn heap() -> impl Strategy<Value = (bool, Vec<Class>, Vec<Object>, Vec<usize>, Vec<usize>)> {
    let classes = prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            any::<bool>(),
            prop::collection::vec(
                (
                    0usize..4,
                    any::<bool>(),
                    prop::sample::select(vec![1u8, 2, 4, 8]),
                ),
                0..4,
            ),
        ),
        1..5,
    )
    .prop_map(|raw| {
        raw.into_iter()
            .enumerate()
            .map(|(i, (sup, has_super, fields))| Class {
                super_class: if i > 0 && has_super {
                    Some(sup.index(i))
                } else {
                    None
                },
                fields,
            })
            .collect::<Vec<_>>()
    });
    (any::<bool>(), classes, 1usize..30).prop_flat_map(|(wide, classes, n)| {
        let n_classes = classes.len();
        let target = prop_oneof![
            3 => (0..n).prop_map(|i| Some(Target::Object(i))),
            1 => Just(None),
            1 => Just(Some(Target::Dangling)),
        ];
        let object = prop_oneof![
            3 => (0..n_classes, prop::collection::vec(target.clone(), 16)).prop_map(|(c, v)| Object::Instance(c, v)),
            1 => prop::collection::vec(target, 0..5).prop_map(Object::Array),
            1 => (0u32..6).prop_map(Object::Ints),
        ];
        (
            Just(wide),
            Just(classes),
            prop::collection::vec(object, n),
            prop::collection::vec(0..n, 0..4),
            prop::collection::vec(0usize..2000, 0..6),
        )
    })
}

/// Flattened fields of a class: own first, then up the chain.
fn flat(classes: &[Class], class: usize) -> Vec<(usize, bool, u8)> {
    let mut out = Vec::new();
    let mut c = Some(class);
    while let Some(k) = c {
        out.extend(classes[k].fields.iter().copied());
        c = classes[k].super_class;
    }
    out
}

const FIELD_NAMES: [&str; 4] = ["a", "b", "next", "value"];

fn class_id(c: usize) -> u64 {
    0x1000 + 0x40 * c as u64
}
fn object_id(i: usize) -> u64 {
    0x10_0000 + 0x18 * i as u64
}
const ARRAY_CLASS: u64 = 0x900;
const INT_ARRAY_CLASS: u64 = 0x980;
const DANGLING: u64 = 0xDEAD_0000;

struct W {
    wide: bool,
    out: Vec<u8>,
}
impl W {
    fn id(&mut self, v: u64) {
        if self.wide {
            self.out.extend_from_slice(&v.to_be_bytes());
        } else {
            self.out.extend_from_slice(&(v as u32).to_be_bytes());
        }
    }
    fn u4(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
}

fn record(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
}

fn write(
    wide: bool,
    classes: &[Class],
    objects: &[Object],
    roots: &[usize],
    cuts: &[usize],
) -> Vec<u8> {
    let mut file = b"JAVA PROFILE 1.0.2\0".to_vec();
    file.extend_from_slice(&(if wide { 8u32 } else { 4 }).to_be_bytes());
    file.extend_from_slice(&0u64.to_be_bytes());
    let mut strings: Vec<(u64, String)> = FIELD_NAMES
        .iter()
        .enumerate()
        .map(|(i, n)| (1 + i as u64, n.to_string()))
        .collect();
    let mut class_names = vec![];
    for c in 0..classes.len() {
        class_names.push((class_id(c), format!("pkg/C{c}")));
    }
    class_names.push((ARRAY_CLASS, "[Ljava/lang/Object;".to_string()));
    class_names.push((INT_ARRAY_CLASS, "[I".to_string()));
    for (i, (cid, name)) in class_names.iter().enumerate() {
        let sid = 100 + i as u64;
        strings.push((sid, name.clone()));
        let mut w = W { wide, out: vec![] };
        w.u4(i as u32 + 1);
        w.id(*cid);
        w.u4(0);
        w.id(sid);
        record(&mut file, 0x02, &w.out);
    }
    let mut utf8 = Vec::new();
    for (sid, text) in &strings {
        let mut w = W { wide, out: vec![] };
        w.id(*sid);
        w.out.extend_from_slice(text.as_bytes());
        record(&mut utf8, 0x01, &w.out);
    }
    file.extend_from_slice(&utf8);

    let mut w = W { wide, out: vec![] };
    let class_dump = |w: &mut W, cid: u64, sup: u64, fields: &[(usize, bool, u8)]| {
        w.out.push(0x20);
        w.id(cid);
        w.u4(0);
        w.id(sup);
        for _ in 0..5 {
            w.id(0);
        }
        w.u4(0);
        w.out.extend_from_slice(&0u16.to_be_bytes());
        w.out.extend_from_slice(&0u16.to_be_bytes());
        w.out
            .extend_from_slice(&(fields.len() as u16).to_be_bytes());
        for &(name, is_ref, width) in fields {
            w.id(1 + name as u64);
            w.out.push(if is_ref {
                2
            } else {
                match width {
                    1 => 8,
                    2 => 9,
                    4 => 10,
                    _ => 11,
                }
            });
        }
    };
    for (c, class) in classes.iter().enumerate() {
        class_dump(
            &mut w,
            class_id(c),
            class.super_class.map_or(0, class_id),
            &class.fields,
        );
    }
    class_dump(&mut w, ARRAY_CLASS, 0, &[]);
    class_dump(&mut w, INT_ARRAY_CLASS, 0, &[]);
    for &r in roots {
        w.out.push(0x01);
        w.id(object_id(r));
        w.id(0x77);
    }
    let target_id = |t: &Option<Target>| match t {
        None => 0,
        Some(Target::Object(i)) => object_id(*i),
        Some(Target::Dangling) => DANGLING,
    };
    for (i, object) in objects.iter().enumerate() {
        match object {
            Object::Instance(c, values) => {
                let mut data = W { wide, out: vec![] };
                for (k, &(_, is_ref, width)) in flat(classes, *c).iter().enumerate() {
                    if is_ref {
                        data.id(target_id(&values[k % values.len()]));
                    } else {
                        data.out.extend(std::iter::repeat_n(0xAB, width as usize));
                    }
                }
                w.out.push(0x21);
                w.id(object_id(i));
                w.u4(0);
                w.id(class_id(*c));
                w.u4(data.out.len() as u32);
                w.out.extend_from_slice(&data.out);
            }
            Object::Array(elements) => {
                w.out.push(0x22);
                w.id(object_id(i));
                w.u4(0);
                w.u4(elements.len() as u32);
                w.id(ARRAY_CLASS);
                for e in elements {
                    w.id(target_id(e));
                }
            }
            Object::Ints(n) => {
                w.out.push(0x23);
                w.id(object_id(i));
                w.u4(0);
                w.u4(*n);
                w.out.push(10);
                w.out.extend(std::iter::repeat_n(7, *n as usize * 4));
            }
        }
    }
    // Segments cut at arbitrary byte positions.
    let heap = w.out;
    let mut points: Vec<usize> = cuts.iter().map(|&c| c % (heap.len() + 1)).collect();
    points.push(0);
    points.push(heap.len());
    points.sort_unstable();
    points.dedup();
    for pair in points.windows(2) {
        record(&mut file, 0x1C, &heap[pair[0]..pair[1]]);
    }
    record(&mut file, 0x2C, &[]);
    file
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn random_heaps_round_trip((wide, classes, objects, roots, cuts) in heap()) {
        let file = write(wide, &classes, &objects, &roots, &cuts);
        for model in [SizeModel::Mat, SizeModel::Raw] {
            let dump = parse(&file, &HprofOptions::default().with_size_model(model)).unwrap();
            let graph = dump.graph();
            let id_size = if wide { 8u64 } else { 4 };
            let mut dangling = 0u64;
            for (i, object) in objects.iter().enumerate() {
                let node = graph.node_by_object_id(object_id(i)).unwrap();
                // Expected edges: (target object id, kind, label)
                let mut expected: Vec<(u64, EdgeKind, String)> = Vec::new();
                let (kind, size) = match object {
                    Object::Instance(c, values) => {
                        expected.push((class_id(*c), EdgeKind::Internal, "<class>".into()));
                        let fields = flat(&classes, *c);
                        for (k, &(name, is_ref, _)) in fields.iter().enumerate() {
                            if is_ref {
                                match values[k % values.len()] {
                                    Some(Target::Object(t)) => expected.push((object_id(t), EdgeKind::Property, FIELD_NAMES[name].into())),
                                    Some(Target::Dangling) => dangling += 1,
                                    None => {}
                                }
                            }
                        }
                        let file_bytes: u64 = fields.iter().map(|&(_, r, w)| if r { id_size } else { u64::from(w) }).sum();
                        let ref_bytes: u64 = fields.iter().map(|&(_, r, w)| if r { 4 } else { u64::from(w) }).sum();
                        let size = match model {
                            SizeModel::Raw => 2 * id_size + file_bytes,
                            _ => (id_size + 4 + ref_bytes).div_ceil(8) * 8,
                        };
                        (NodeKind::Object, size)
                    }
                    Object::Array(elements) => {
                        expected.push((ARRAY_CLASS, EdgeKind::Internal, "<class>".into()));
                        for (k, e) in elements.iter().enumerate() {
                            match e {
                                Some(Target::Object(t)) => expected.push((object_id(*t), EdgeKind::Element, k.to_string())),
                                Some(Target::Dangling) => dangling += 1,
                                None => {}
                            }
                        }
                        let n = elements.len() as u64;
                        let size = match model {
                            SizeModel::Raw => 2 * id_size + 8 + id_size * n,
                            _ => (id_size + 4 + 4 + 4 * n).div_ceil(8) * 8,
                        };
                        (NodeKind::Array, size)
                    }
                    Object::Ints(n) => {
                        expected.push((INT_ARRAY_CLASS, EdgeKind::Internal, "<class>".into()));
                        let n = u64::from(*n);
                        let size = match model {
                            SizeModel::Raw => 2 * id_size + 8 + 4 * n,
                            _ => ((id_size + 4 + 4).div_ceil(4) * 4 + 4 * n).div_ceil(8) * 8,
                        };
                        let (ty, data) = dump.primitive_array(&file, node).map_or((None, 0), |(t, d)| (Some(t), d.len()));
                        // Contents are readable unless the array was split by a cut.
                        if let Some(ty) = ty {
                            prop_assert_eq!(ty, heapgraph_hprof::PrimitiveType::Int);
                            prop_assert_eq!(data as u64, 4 * n);
                        }
                        (NodeKind::PrimitiveArray, size)
                    }
                };
                prop_assert_eq!(graph.kind(node), kind);
                prop_assert_eq!(graph.self_size(node), size, "node {} {:?}", i, object);
                let actual: Vec<(u64, EdgeKind, String)> = graph
                    .edges(node)
                    .map(|e| {
                        let label = match e.label {
                            EdgeLabel::Name(s) => graph.strings().get(s).into_owned(),
                            EdgeLabel::Index(k) => k.to_string(),
                        };
                        (graph.object_id(e.target), e.kind, label)
                    })
                    .collect();
                prop_assert_eq!(actual, expected);
            }
            prop_assert_eq!(graph.diagnostics().unresolved_references, dangling);
            // Roots: JNI globals, plus the boot classes (no sticky roots here).
            let mut root_targets: BTreeMap<u64, usize> = BTreeMap::new();
            for &(group, _) in graph.root_groups() {
                for e in graph.edges(group) {
                    *root_targets.entry(graph.object_id(e.target)).or_default() += 1;
                }
            }
            for &r in &roots {
                prop_assert!(root_targets.contains_key(&object_id(r)));
            }
            let class_names: HashMap<u64, String> = graph
                .nodes()
                .filter(|&n| graph.kind(n) == NodeKind::Class)
                .map(|n| (graph.object_id(n), graph.name_str(n).into_owned()))
                .collect();
            prop_assert_eq!(class_names.get(&ARRAY_CLASS).map(String::as_str), Some("java.lang.Object[]"));
            prop_assert_eq!(class_names.get(&INT_ARRAY_CLASS).map(String::as_str), Some("int[]"));
            prop_assert_eq!(class_names.get(&class_id(0)).map(String::as_str), Some("pkg.C0"));
        }
    }
}

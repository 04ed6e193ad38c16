//! The SQL tables and table functions on testdata dumps, checked against
//! the analysis they expose (not against fixed numbers), and against the
//! generators' designed facts where there are some.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use heapgraph_sql::datafusion::arrow::array::{Array, AsArray};
use heapgraph_sql::datafusion::arrow::datatypes::{UInt32Type, UInt64Type};
use heapgraph_sql::{Engine, QueryResult, Table};

fn testdata(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(path)
}

fn open(path: &str) -> Arc<heapgraph::Dump> {
    Arc::new(heapgraph::open(testdata(path)).unwrap())
}

fn engine(path: &str) -> (Engine, Arc<heapgraph::Dump>) {
    let dump = open(path);
    let engine = Engine::new().unwrap();
    engine.register_dump(Arc::clone(&dump)).unwrap();
    (engine, dump)
}

/// Column `name` of every row, as u64 (unsigned integer columns).
fn u64s(result: &QueryResult, name: &str) -> Vec<u64> {
    let mut out = Vec::new();
    for batch in &result.batches {
        let column = batch.column_by_name(name).unwrap();
        match column.data_type() {
            heapgraph_sql::datafusion::arrow::datatypes::DataType::UInt32 => out.extend(
                column
                    .as_primitive::<UInt32Type>()
                    .iter()
                    .map(|v| u64::from(v.unwrap())),
            ),
            heapgraph_sql::datafusion::arrow::datatypes::DataType::UInt64 => out.extend(
                column
                    .as_primitive::<UInt64Type>()
                    .iter()
                    .map(|v| v.unwrap()),
            ),
            heapgraph_sql::datafusion::arrow::datatypes::DataType::Int64 => out.extend(
                column
                    .as_primitive::<heapgraph_sql::datafusion::arrow::datatypes::Int64Type>()
                    .iter()
                    .map(|v| u64::try_from(v.unwrap()).unwrap()),
            ),
            other => panic!("{name} is {other}"),
        }
    }
    out
}

fn optional_u64s(result: &QueryResult, name: &str) -> Vec<Option<u64>> {
    let mut out = Vec::new();
    for batch in &result.batches {
        let column = batch.column_by_name(name).unwrap();
        out.extend(column.as_primitive::<UInt64Type>().iter());
    }
    out
}

fn texts(result: &QueryResult, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for batch in &result.batches {
        let column = batch.column_by_name(name).unwrap();
        let column = heapgraph_sql::datafusion::arrow::compute::cast(
            column,
            &heapgraph_sql::datafusion::arrow::datatypes::DataType::Utf8,
        )
        .unwrap();
        out.extend(
            column
                .as_string::<i32>()
                .iter()
                .map(|v| v.unwrap_or_default().to_string()),
        );
    }
    out
}

#[test]
fn classes_equal_the_class_histogram_and_build_nothing_else() {
    let (engine, dump) = engine("hprof/hotspot-jdk17-shapes.hprof.gz");
    let result = engine
        .query("SELECT class, count, shallow_size, retained_size FROM classes ORDER BY class")
        .unwrap();
    let analysis = dump.analyse();
    let histogram = analysis.class_histogram();
    let mut expected: Vec<(String, u64, u64, u64)> = histogram
        .rows()
        .iter()
        .map(|r| {
            (
                analysis.classes().name(r.class).to_string(),
                r.count,
                r.shallow_size,
                r.retained_size,
            )
        })
        .collect();
    expected.sort();
    let got: Vec<(String, u64, u64, u64)> = texts(&result, "class")
        .into_iter()
        .zip(u64s(&result, "count"))
        .zip(u64s(&result, "shallow_size"))
        .zip(u64s(&result, "retained_size"))
        .map(|(((c, n), s), r)| (c, n, s, r))
        .collect();
    assert!(expected.len() > 100, "{} classes", expected.len());
    assert_eq!(got, expected);
    assert_eq!(engine.built_tables(), vec![Table::Classes]);
}

#[test]
fn edges_need_no_analysis() {
    let (engine, dump) = engine("v8/node20-planted.heapsnapshot.gz");
    let result = engine
        .query("SELECT count(*) AS n, count(DISTINCT source) AS sources FROM edges")
        .unwrap();
    let graph = dump.graph();
    assert_eq!(u64s(&result, "n"), vec![graph.edge_count() as u64]);
    let with_edges = graph.nodes().filter(|&n| graph.out_degree(n) > 0).count();
    assert_eq!(u64s(&result, "sources"), vec![with_edges as u64]);
    assert!(!engine.is_analysed(), "counting edges computed dominators");
    assert_eq!(engine.built_tables(), vec![Table::Edges]);
}

#[test]
fn nodes_carry_the_analysis() {
    let (engine, dump) = engine("v8/node20-planted.heapsnapshot.gz");
    let result = engine
        .query(
            "SELECT index, id, retained_size, shallow_size, dominator_id FROM nodes ORDER BY index",
        )
        .unwrap();
    let analysis = dump.analyse();
    let graph = dump.graph();
    assert_eq!(result.row_count(), graph.node_count());
    let index = u64s(&result, "index");
    let retained = u64s(&result, "retained_size");
    let shallow = u64s(&result, "shallow_size");
    let dominator = optional_u64s(&result, "dominator_id");
    for (i, node) in graph.nodes().enumerate() {
        assert_eq!(index[i], u64::from(node.as_u32()));
        assert_eq!(retained[i], analysis.retained_size(node), "node {i}");
        assert_eq!(shallow[i], analysis.shallow_size(node), "node {i}");
        let expected = analysis
            .immediate_dominator(node)
            .filter(|&d| d != node)
            .map(|d| graph.object_id(d));
        assert_eq!(dominator[i], expected, "node {i}");
    }
}

#[test]
fn duplicate_strings_in_sql_equal_the_strings_command() {
    for path in [
        "hprof/hotspot-jdk17-shapes.hprof.gz",
        "v8/node20-planted.heapsnapshot.gz",
    ] {
        let (engine, dump) = engine(path);
        let result = engine
            .query(
                "SELECT value, count(*) AS copies, \
                        sum(shallow_size) - max(shallow_size) AS wasted_bytes \
                 FROM strings GROUP BY value HAVING count(*) > 1 \
                 ORDER BY wasted_bytes DESC, copies DESC, value",
            )
            .unwrap();
        let analysis = dump.analyse();
        let expected = dump.duplicate_strings(&analysis).unwrap();
        assert!(!expected.is_empty(), "{path}: no duplicates to compare");
        let got: Vec<(String, u64, u64)> = texts(&result, "value")
            .into_iter()
            .zip(u64s(&result, "copies"))
            .zip(u64s(&result, "wasted_bytes"))
            .map(|((v, c), w)| (v, c, w))
            .collect();
        let expected: Vec<(String, u64, u64)> = expected
            .iter()
            .map(|d| {
                (
                    String::from_utf8_lossy(&d.value).into_owned(),
                    d.count,
                    d.wasted_bytes,
                )
            })
            .collect();
        assert_eq!(got, expected, "{path}");
    }
}

#[test]
fn collections_are_the_collections_view() {
    let (engine, dump) = engine("hprof/collections/hotspot-jdk17-collections.hprof.gz");
    let result = engine
        .query("SELECT index, size, capacity, wasted_bytes FROM collections ORDER BY index")
        .unwrap();
    let analysis = dump.analyse();
    let mut expected = heapgraph::collections::collections(&dump, &analysis);
    expected.sort_by_key(|c| c.node);
    assert!(expected.len() > 50, "{}", expected.len());
    assert_eq!(
        u64s(&result, "index"),
        expected
            .iter()
            .map(|c| u64::from(c.node.as_u32()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        u64s(&result, "size"),
        expected.iter().map(|c| c.size).collect::<Vec<_>>()
    );
    assert_eq!(
        u64s(&result, "wasted_bytes"),
        expected
            .iter()
            .map(|c| c.wasted_bytes())
            .collect::<Vec<_>>()
    );
    // Holders.java: 20 owners each hold a HashMap of 100 entries.
    let owners = engine
        .query(
            "SELECT count(*) AS n, min(size) AS smallest, max(size) AS largest FROM collections \
             WHERE holder = 'Holders$Owner.index' AND class = 'java.util.HashMap'",
        )
        .unwrap();
    assert_eq!(u64s(&owners, "n"), vec![20]);
    assert_eq!(u64s(&owners, "smallest"), vec![100]);
    assert_eq!(u64s(&owners, "largest"), vec![100]);
}

#[test]
fn table_functions_walk_the_graph() {
    let (engine, dump) = engine("hprof/hotspot-jdk17-shapes.hprof.gz");
    let analysis = dump.analyse();
    let graph = dump.graph();
    // The object retaining the most, other than the root and its groups.
    let big = graph
        .nodes()
        .filter(|&n| analysis.is_instance(n))
        .max_by_key(|&n| (analysis.retained_size(n), std::cmp::Reverse(n.as_u32())))
        .unwrap();
    let id = graph.object_id(big);

    // What it dominates, plus itself, is what it retains.
    let result = engine
        .query(&format!(
            "SELECT count(*) AS n, sum(n.shallow_size) AS bytes, max(d.depth) AS depth \
             FROM dominated_by({id}) d JOIN nodes n ON n.index = d.index"
        ))
        .unwrap();
    let bytes = u64s(&result, "bytes")[0];
    assert_eq!(
        bytes + analysis.shallow_size(big),
        analysis.retained_size(big)
    );
    let mut count = 0u64;
    analysis
        .dominated()
        .walk(big, |_, entering| count += u64::from(entering));
    assert_eq!(u64s(&result, "n")[0] + 1, count);

    // Retainers: those of the analysis, in its order.
    let target = analysis.dominated().of(big).next().unwrap();
    let result = engine
        .query(&format!(
            "SELECT index, kind, name FROM retainers({})",
            graph.object_id(target)
        ))
        .unwrap();
    let expected: Vec<u64> = analysis
        .retainers(target)
        .iter()
        .map(|r| u64::from(r.source.as_u32()))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(u64s(&result, "index"), expected);

    // Paths: the analysis's, root first.
    let result = engine
        .query(&format!(
            "SELECT path, step, index, edge FROM path_to_root({}, 3) ORDER BY path, step",
            graph.object_id(target)
        ))
        .unwrap();
    let paths = analysis.retention_paths(target, 3);
    let expected: Vec<u64> = paths
        .iter()
        .flat_map(|p| p.nodes().into_iter().map(|n| u64::from(n.as_u32())))
        .collect();
    assert_eq!(u64s(&result, "index"), expected);
    assert_eq!(texts(&result, "edge").first().map(String::as_str), Some(""));

    // Bad arguments are errors, not panics.
    let error = engine.query("SELECT * FROM retainers(1)").unwrap_err();
    assert!(error.to_string().contains("no object has id 1"), "{error}");
    let error = engine.query("SELECT * FROM retainers('x')").unwrap_err();
    assert!(error.to_string().contains("integer literal"), "{error}");
    let error = engine.query("SELECT * FROM path_to_root(1)").unwrap_err();
    assert!(error.to_string().contains("takes 2 argument"), "{error}");
}

#[test]
fn roots_are_the_root_groups_targets() {
    let (engine, dump) = engine("hprof/hotspot-jdk17-shapes.hprof.gz");
    let result = engine
        .query("SELECT kind, count(*) AS n FROM roots GROUP BY kind ORDER BY kind")
        .unwrap();
    let graph = dump.graph();
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for &(group, kind) in graph.root_groups() {
        *expected.entry(kind.as_str().to_string()).or_default() += graph.out_degree(group) as u64;
    }
    let got: BTreeMap<String, u64> = texts(&result, "kind")
        .into_iter()
        .zip(u64s(&result, "n"))
        .collect();
    assert!(got.len() >= 2, "{got:?}");
    assert_eq!(got, expected);
    let distinct = engine
        .query("SELECT count(DISTINCT index) AS n FROM roots")
        .unwrap();
    assert_eq!(u64s(&distinct, "n"), vec![dump.root_count()]);
}

#[test]
fn sites_are_tracemalloc_statistics_by_line() {
    let (engine, dump) = engine("tracemalloc/mixed_1.p5.pickle");
    let result = engine
        .query("SELECT file, line, size, count FROM sites ORDER BY size DESC, count DESC")
        .unwrap();
    let stats = dump
        .allocations()
        .statistics(heapgraph::analysis::sites::KeyType::Lineno, false)
        .unwrap();
    assert!(stats.len() > 3);
    let expected_sizes: Vec<u64> = stats.iter().map(|s| s.size).collect();
    assert_eq!(u64s(&result, "size"), expected_sizes);
    let total: u64 = stats.iter().map(|s| s.count).sum();
    assert_eq!(u64s(&result, "count").iter().sum::<u64>(), total);
    // A tracemalloc dump has no objects to analyse.
    assert_eq!(engine.built_tables(), vec![Table::Sites]);
}

#[test]
fn sql_errors_name_the_problem() {
    let (engine, _) = engine("tracemalloc/app_a.p5.pickle");
    let error = engine.query("SELECT * FROM no_such_table").unwrap_err();
    assert!(error.to_string().contains("no_such_table"), "{error}");
    let error = engine.query("SELEC 1").unwrap_err();
    assert!(!error.to_string().is_empty());
    let second = engine.register_dump(open("tracemalloc/app_a.p5.pickle"));
    assert!(second.is_err());
}

#[test]
fn a_dataset_of_dumps_answers_fleet_questions() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        "hprof/paths/hotspot-jdk17-sessions-1.hprof.gz",
        "hprof/paths/hotspot-jdk17-sessions-2.hprof.gz",
        "hprof/paths/hotspot-jdk17-sessions-3.hprof.gz",
    ];
    let mut expected_nodes = BTreeMap::new();
    let mut class_counts: Vec<BTreeMap<String, u64>> = Vec::new();
    for file in files {
        let path = testdata(file);
        let dump = open(file);
        let name = heapgraph_sql::dataset::default_name(&path);
        assert!(name.starts_with("hotspot-jdk17-sessions-"), "{name}");
        expected_nodes.insert(name.clone(), dump.graph().node_count() as u64);
        let analysis = dump.analyse();
        let histogram = analysis.class_histogram();
        class_counts.push(
            histogram
                .rows()
                .iter()
                .map(|r| (analysis.classes().name(r.class).to_string(), r.count))
                .collect(),
        );
        let appended = heapgraph_sql::dataset::append(dir.path(), &name, &path, dump).unwrap();
        assert_eq!(appended.rows[0], (Table::Nodes, expected_nodes[&name]));
    }
    // The same name twice is refused; a half-written dump is ignored.
    let again = heapgraph_sql::dataset::append(
        dir.path(),
        "hotspot-jdk17-sessions-1",
        &testdata(files[0]),
        open(files[0]),
    );
    assert!(matches!(
        again,
        Err(heapgraph_sql::Error::DumpExists { .. })
    ));
    std::fs::create_dir_all(dir.path().join("dump=partial")).unwrap();
    std::fs::write(
        dir.path().join("dump=partial/nodes.parquet.partial"),
        b"junk",
    )
    .unwrap();
    assert_eq!(
        heapgraph_sql::dataset::dump_names(dir.path()).unwrap(),
        expected_nodes.keys().cloned().collect::<Vec<_>>()
    );

    let engine = Engine::new().unwrap();
    engine.register_dataset(dir.path()).unwrap();
    let result = engine
        .query("SELECT dump, count(*) AS n FROM nodes GROUP BY dump ORDER BY dump")
        .unwrap();
    let got: BTreeMap<String, u64> = texts(&result, "dump")
        .into_iter()
        .zip(u64s(&result, "n"))
        .collect();
    assert_eq!(got, expected_nodes);

    // The class that grew most between the first and the last dump.
    let result = engine
        .query(
            "SELECT class, max(count) - min(count) AS growth FROM classes \
             WHERE dump IN ('hotspot-jdk17-sessions-1', 'hotspot-jdk17-sessions-3') \
             GROUP BY class ORDER BY growth DESC, class LIMIT 1",
        )
        .unwrap();
    // Classes present in both, as the SQL's GROUP BY over two dumps sees
    // them (a class in one dump only has growth 0 there).
    let (first, last) = (&class_counts[0], &class_counts[2]);
    let grown = first
        .keys()
        .chain(last.keys())
        .map(|class| {
            let counts: Vec<u64> = [first.get(class), last.get(class)]
                .into_iter()
                .flatten()
                .copied()
                .collect();
            let growth = counts.iter().max().unwrap() - counts.iter().min().unwrap();
            (std::cmp::Reverse(growth), class.clone())
        })
        .min()
        .unwrap();
    assert!(grown.0 .0 > 100, "{grown:?}");
    assert_eq!(texts(&result, "class"), vec![grown.1]);

    let result = engine
        .query("SELECT dump, format, node_count FROM dumps ORDER BY dump")
        .unwrap();
    assert_eq!(texts(&result, "format"), vec!["hprof"; 3]);
    assert_eq!(
        u64s(&result, "node_count"),
        expected_nodes.values().copied().collect::<Vec<_>>()
    );

    let empty = tempfile::tempdir().unwrap();
    let error = Engine::new()
        .unwrap()
        .register_dataset(empty.path())
        .unwrap_err();
    assert!(
        matches!(error, heapgraph_sql::Error::NotADataset { .. }),
        "{error}"
    );
}

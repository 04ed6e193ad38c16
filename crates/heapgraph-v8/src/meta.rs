//! `snapshot.meta`: the column layout of every section, read by name.

use crate::error::{V8Error, V8ErrorKind};
use crate::json::Cursor;

/// The column layout a snapshot declares in `snapshot.meta`.
///
/// Every list is kept as written; the parser resolves columns by name, so
/// reordered, added or missing optional columns are handled. Lists the file
/// does not have are empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnapshotMeta {
    /// `node_fields`, e.g. `type, name, id, self_size, edge_count, ...`.
    pub node_fields: Vec<String>,
    /// The names of node types (`node_types[0]`): `hidden, array, string, ...`.
    pub node_types: Vec<String>,
    /// `edge_fields`, e.g. `type, name_or_index, to_node`.
    pub edge_fields: Vec<String>,
    /// The names of edge types (`edge_types[0]`): `context, element, ...`.
    pub edge_types: Vec<String>,
    /// The value types of the other node fields (`node_types[1..]`, the
    /// plain strings), e.g. `string, number, number, ...`.
    pub node_value_types: Vec<String>,
    /// The value types of the other edge fields (`edge_types[1..]`), e.g.
    /// `string_or_number, node` (Julia writes `from_node`).
    pub edge_value_types: Vec<String>,
    /// `trace_function_info_fields`.
    pub trace_function_info_fields: Vec<String>,
    /// `trace_node_fields`.
    pub trace_node_fields: Vec<String>,
    /// `sample_fields`.
    pub sample_fields: Vec<String>,
    /// `location_fields`.
    pub location_fields: Vec<String>,
    /// `scope_fields` (V8 15.6+).
    pub scope_fields: Vec<String>,
    /// `scope_context_var_fields` (V8 15.6+).
    pub scope_context_var_fields: Vec<String>,
    /// `scope_use_fields` (V8 15.6+).
    pub scope_use_fields: Vec<String>,
}

impl SnapshotMeta {
    /// The position of `name` in a field list.
    pub(crate) fn column(list: &[String], name: &str) -> Option<usize> {
        list.iter().position(|field| field == name)
    }

    /// The position of the required column `name` in the meta list `list`
    /// (called `list_name` in the error), or the error naming what is
    /// missing at `offset`, the start of the section that needs it.
    pub(crate) fn required_column(
        list: &[String],
        list_name: &'static str,
        name: &'static str,
        offset: usize,
    ) -> Result<usize, V8Error> {
        SnapshotMeta::column(list, name).ok_or_else(|| {
            V8Error::new(
                offset,
                V8ErrorKind::MissingColumn {
                    list: list_name,
                    column: name,
                },
            )
        })
    }
}

/// One entry of a meta list: a string, or a list of strings (type names).
enum Item {
    Str(String),
    List(Vec<String>),
    Other,
}

/// Parses the `meta` object at the cursor.
pub(crate) fn parse_meta(cursor: &mut Cursor<'_>) -> Result<SnapshotMeta, V8Error> {
    let mut meta = SnapshotMeta::default();
    let mut key = Vec::new();
    cursor.expect(b'{', "`{`")?;
    let mut first = true;
    while cursor.next_item(b'}', first)? {
        first = false;
        cursor.key(&mut key)?;
        let list_start = cursor.pos();
        let target = match key.as_slice() {
            b"node_fields" => &mut meta.node_fields,
            b"edge_fields" => &mut meta.edge_fields,
            b"trace_function_info_fields" => &mut meta.trace_function_info_fields,
            b"trace_node_fields" => &mut meta.trace_node_fields,
            b"sample_fields" => &mut meta.sample_fields,
            b"location_fields" => &mut meta.location_fields,
            b"scope_fields" => &mut meta.scope_fields,
            b"scope_context_var_fields" => &mut meta.scope_context_var_fields,
            b"scope_use_fields" => &mut meta.scope_use_fields,
            b"node_types" | b"edge_types" => {
                let mut items = parse_items(cursor)?.into_iter();
                let names = match items.next() {
                    Some(Item::List(names)) => names,
                    _ => {
                        return Err(cursor.error_at(
                            list_start,
                            V8ErrorKind::BadMeta {
                                what: "the first entry of `node_types`/`edge_types` must be a list of type names",
                            },
                        ))
                    }
                };
                let value_types = items
                    .filter_map(|item| match item {
                        Item::Str(s) => Some(s),
                        _ => None,
                    })
                    .collect();
                if key == b"node_types" {
                    meta.node_types = names;
                    meta.node_value_types = value_types;
                } else {
                    meta.edge_types = names;
                    meta.edge_value_types = value_types;
                }
                continue;
            }
            _ => {
                cursor.skip_value()?;
                continue;
            }
        };
        let mut names = Vec::new();
        for item in parse_items(cursor)? {
            match item {
                Item::Str(s) => names.push(s),
                _ => {
                    return Err(cursor.error_at(
                        list_start,
                        V8ErrorKind::BadMeta {
                            what: "a field list must hold only strings",
                        },
                    ))
                }
            }
        }
        *target = names;
    }
    Ok(meta)
}

/// Parses `[item, ...]` where items are strings or lists of strings;
/// anything else is skipped.
fn parse_items(cursor: &mut Cursor<'_>) -> Result<Vec<Item>, V8Error> {
    let mut items = Vec::new();
    let mut buf = Vec::new();
    cursor.expect(b'[', "`[`")?;
    let mut first = true;
    while cursor.next_item(b']', first)? {
        first = false;
        match cursor.peek() {
            Some(b'"') => {
                cursor.string(&mut buf)?;
                items.push(Item::Str(String::from_utf8_lossy(&buf).into_owned()));
            }
            Some(b'[') => {
                cursor.expect(b'[', "`[`")?;
                let mut names = Vec::new();
                let mut first_name = true;
                while cursor.next_item(b']', first_name)? {
                    first_name = false;
                    cursor.string(&mut buf)?;
                    names.push(String::from_utf8_lossy(&buf).into_owned());
                }
                items.push(Item::List(names));
            }
            _ => {
                cursor.skip_value()?;
                items.push(Item::Other);
            }
        }
    }
    Ok(items)
}

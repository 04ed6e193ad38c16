//! The rows: the merged counters as one row per class name, sized under the size model.

use hashbrown::HashMap;

use super::units::Merged;
use super::ShallowHistogramRow;
use crate::build::Resolved;
use crate::{BasicType, SizeModel};

/// The rows of the histogram, sorted (largest shallow size first, then
/// more objects first, then by name), and the number of objects whose
/// class was never dumped. `pointer` is the id size.
pub(super) fn rows(
    merged: &Merged,
    resolved: &Resolved,
    class_by_id: &HashMap<u64, u32>,
    model: SizeModel,
    compressed: bool,
    pointer: u64,
) -> (Vec<ShallowHistogramRow>, u64) {
    let Merged {
        classes,
        instances,
        object_arrays,
        primitive_arrays,
        ..
    } = merged;
    let mut rows = RowTable::default();
    let name_of = |c: u32| -> String {
        resolved
            .names
            .get(c as usize)
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default()
    };
    let class_objects_size: u64 = match model {
        SizeModel::Raw => 0,
        _ => resolved
            .infos
            .iter()
            .fold(0u64, |sum, info| sum.saturating_add(info.static_size)),
    };
    if !classes.is_empty() {
        rows.add(
            "java.lang.Class".to_string(),
            true,
            classes.len() as u64,
            class_objects_size,
        );
    }
    let mut missing_classes = 0u64;
    for (class_id, sums) in instances {
        match class_by_id
            .get(class_id)
            .and_then(|&c| Some((c, resolved.infos.get(c as usize)?)))
        {
            Some((c, info)) => {
                let each = match model {
                    SizeModel::Raw => info.raw_size,
                    _ => info.mat_size,
                };
                rows.add(
                    name_of(c),
                    false,
                    sums.count,
                    each.saturating_mul(sums.count),
                );
            }
            None => {
                missing_classes += sums.count;
                let size = (2 * pointer)
                    .saturating_mul(sums.count)
                    .saturating_add(sums.field_bytes);
                rows.add("(unknown class)".to_string(), false, sums.count, size);
            }
        }
    }
    for (class_id, sums) in object_arrays {
        let name = match class_by_id.get(class_id) {
            Some(&c) => name_of(c),
            None => {
                missing_classes += sums.count;
                "(unknown class)".to_string()
            }
        };
        rows.add(name, false, sums.count, sums.size(model, compressed));
    }
    for (code, sums) in primitive_arrays.iter().enumerate() {
        if sums.count == 0 {
            continue;
        }
        let Some(ty) = u8::try_from(code).ok().and_then(BasicType::from_code) else {
            continue;
        };
        rows.add(
            format!("{}[]", ty.java_name()),
            false,
            sums.count,
            sums.size(model, compressed),
        );
    }
    let mut rows = rows.rows;
    rows.sort_by(|a, b| {
        b.shallow_size
            .cmp(&a.shallow_size)
            .then(b.count.cmp(&a.count))
            .then_with(|| a.class_name.cmp(&b.class_name))
            .then(a.class_objects.cmp(&b.class_objects))
    });
    (rows, missing_classes)
}

/// Rows by name (the class objects share `java.lang.Class`'s row).
#[derive(Default)]
struct RowTable {
    index: HashMap<String, usize>,
    rows: Vec<ShallowHistogramRow>,
}

impl RowTable {
    fn add(&mut self, name: String, class_objects: bool, count: u64, shallow_size: u64) {
        match self.index.get(&name) {
            Some(&i) => {
                if let Some(row) = self.rows.get_mut(i) {
                    row.count = row.count.saturating_add(count);
                    row.shallow_size = row.shallow_size.saturating_add(shallow_size);
                    row.class_objects |= class_objects;
                }
            }
            None => {
                self.index.insert(name.clone(), self.rows.len());
                self.rows.push(ShallowHistogramRow {
                    class_name: name,
                    class_objects,
                    count,
                    shallow_size,
                });
            }
        }
    }
}

//! How much memory a dump needs, how much this process may use, and the
//! early refusal when the first is larger: a clear error before the parse
//! rather than the kernel's out-of-memory kill halfway through it.

use std::path::{Path, PathBuf};

use crate::InputKind;

/// Peak resident memory of a full analysis (`summary`: graph, dominator
/// tree, retained sizes, class histogram) per byte of input, as measured on
/// real dumps (README, "How big"; `benches/README.md`): HotSpot HPROF 0.77×
/// (a 1.91 GB dump, 22.7 M objects) and 0.76× (a 5.73 GB one, 68 M), Node.js
/// snapshots 0.98× (546 MB) and 0.93× (2.5 GB). Rounded up, so the estimate
/// errs on the side of enough; HPROF more so, since a dump with 4-byte ids
/// stores a reference in 4 bytes where the graph keeps 9.
const HPROF_PEAK_PER_INPUT_BYTE: f64 = 1.0;
const V8_SNAPSHOT_PEAK_PER_INPUT_BYTE: f64 = 1.1;

/// What this process may use, and what says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvailableMemory {
    /// Bytes that can still be allocated without swapping or being killed.
    pub bytes: u64,
    /// Where the figure comes from, for messages: `"the memory cgroup's
    /// limit"` or `"the machine's available memory"`.
    pub source: &'static str,
}

/// The memory a full analysis of an input of `input_bytes` (decompressed)
/// of this kind is expected to need at its peak, or `None` for the kinds
/// whose analysis stays small (sampling profiles, tracemalloc snapshots,
/// which are streamed).
pub fn estimated_peak_bytes(kind: InputKind, input_bytes: u64) -> Option<u64> {
    let factor = match kind {
        InputKind::Hprof => HPROF_PEAK_PER_INPUT_BYTE,
        InputKind::V8HeapSnapshot => V8_SNAPSHOT_PEAK_PER_INPUT_BYTE,
        _ => return None,
    };
    Some((input_bytes as f64 * factor) as u64)
}

/// What this process may still allocate: the smaller of the machine's
/// `MemAvailable` and, inside a memory cgroup (v1 or v2) with a limit, the
/// limit less the cgroup's anonymous memory (page cache is reclaimable and
/// not counted). `None` where neither can be read (not Linux).
pub fn available_memory() -> Option<AvailableMemory> {
    let machine = meminfo_available().map(|bytes| AvailableMemory {
        bytes,
        source: "the machine's available memory",
    });
    let cgroup = cgroup_available().map(|bytes| AvailableMemory {
        bytes,
        source: "the memory cgroup's limit",
    });
    match (machine, cgroup) {
        (Some(m), Some(c)) => Some(if c.bytes < m.bytes { c } else { m }),
        (m, c) => m.or(c),
    }
}

fn meminfo_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb.saturating_mul(1024))
}

/// The tightest limit on the way from this process's memory cgroup up to
/// the root, less what that cgroup holds in anonymous memory.
fn cgroup_available() -> Option<u64> {
    let membership = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    // cgroup v1: "4:memory:/path"; v2: "0::/path".
    let v1 = membership
        .lines()
        .find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            controllers
                .split(',')
                .any(|c| c == "memory")
                .then(|| path.to_string())
        })
        .map(|path| (PathBuf::from("/sys/fs/cgroup/memory"), path, true));
    let v2 = membership
        .lines()
        .find_map(|l| l.strip_prefix("0::").map(str::to_string))
        .map(|path| (PathBuf::from("/sys/fs/cgroup"), path, false));
    let (mount, path, is_v1) = match v1 {
        Some(found) if found.0.exists() => found,
        _ => v2.filter(|found| found.0.join("cgroup.controllers").exists())?,
    };
    let (limit_file, usage) = if is_v1 {
        (
            "memory.limit_in_bytes",
            anonymous_usage_v1 as fn(&Path) -> Option<u64>,
        )
    } else {
        ("memory.max", anonymous_usage_v2 as fn(&Path) -> Option<u64>)
    };
    let mut best: Option<(u64, u64)> = None;
    let mut dir = mount.join(path.trim_start_matches('/'));
    loop {
        if let Some(limit) = read_number(&dir.join(limit_file)) {
            // A "no limit" value is the largest page-aligned i64 (v1) or
            // "max" (v2, which `read_number` rejects).
            if limit < (1u64 << 62) {
                let used = usage(&dir).unwrap_or(0);
                let left = limit.saturating_sub(used);
                if best.is_none_or(|(_, b)| left < b) {
                    best = Some((limit, left));
                }
            }
        }
        if dir == mount || !dir.pop() || !dir.starts_with(&mount) {
            break;
        }
    }
    best.map(|(_, left)| left)
}

fn read_number(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn stat_field(path: &Path, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let (key, value) = l.split_once(' ')?;
        (key == field).then(|| value.trim().parse().ok())?
    })
}

fn anonymous_usage_v1(dir: &Path) -> Option<u64> {
    stat_field(&dir.join("memory.stat"), "total_rss")
}

fn anonymous_usage_v2(dir: &Path) -> Option<u64> {
    stat_field(&dir.join("memory.stat"), "anon")
}

/// The share of a full analysis's peak that must stay available as
/// ordinary memory when the big columns are spilled to scratch files: the
/// small allocations and the pages the analysis works on at a time. On the
/// 5.73 GB HotSpot dump of `SCALE=ram benches/compare/run.sh` (estimate
/// 5.7 GB) `summary` spilling completed in memory cgroups of 2 GB (1.12×
/// the unconstrained time), 1 GB (1.88×), 512 MB (2.44×) and, forced,
/// 256 MB (3.4×, 4.5 % of the estimate), its anonymous memory a few
/// megabytes. 5 % keeps the slowdown within about 3× and refuses what
/// would crawl.
const RESIDENT_SHARE_WHEN_SPILLING: f64 = 0.05;

/// Refuses an input whose estimated peak is over what is available, or,
/// where spilling is possible ([`crate::Spill`]), starts spilling when
/// the scratch directory has room for it, and refuses only when even
/// that cannot work. `resident_input`: the input is owned memory (read,
/// not mapped), which stays resident beside the analysis and so counts on
/// top of the estimate; a mapped input is handed back as it is parsed.
pub(crate) fn check(
    kind: InputKind,
    input_bytes: u64,
    resident_input: bool,
    options: &crate::OpenOptions,
) -> Result<(), crate::Error> {
    let can_spill = crate::spill::is_enabled()
        || (options.spill == crate::Spill::Auto && crate::spill::is_installed());
    let scratch = || {
        let dir = options.scratch_dir_or_temp();
        let free = crate::spill::free_bytes(&dir).unwrap_or(0);
        (dir, free)
    };
    let must_spill = plan(
        kind,
        input_bytes,
        resident_input,
        available_memory(),
        can_spill,
        scratch,
    )?;
    if must_spill && !crate::spill::is_enabled() {
        let dir = options.scratch_dir_or_temp();
        crate::spill::enable(&dir)
            .map_err(|source| crate::Error::SpillUnavailable { dir, source })?;
    }
    Ok(())
}

/// Whether the analysis fits (`Ok(false)`), fits by spilling
/// (`Ok(true)`), or cannot be done here (the error to give).
fn plan(
    kind: InputKind,
    input_bytes: u64,
    resident_input: bool,
    available: Option<AvailableMemory>,
    can_spill: bool,
    scratch: impl FnOnce() -> (PathBuf, u64),
) -> Result<bool, crate::Error> {
    let refusal = match refuse_if_short(kind, input_bytes, resident_input, available) {
        Ok(()) => return Ok(false),
        Err(refusal) => refusal,
    };
    let crate::Error::NotEnoughMemory {
        needed,
        available,
        limited_by,
        ..
    } = refusal
    else {
        return Err(refusal);
    };
    if !can_spill {
        return Err(refusal);
    }
    let resident = (needed as f64 * RESIDENT_SHARE_WHEN_SPILLING) as u64;
    if resident > available {
        return Err(crate::Error::NotEnoughMemory {
            kind: kind.as_str(),
            input_bytes,
            needed,
            needed_when_spilling: Some(resident),
            available,
            limited_by,
        });
    }
    let (scratch_dir, scratch_free) = scratch();
    if scratch_free < needed {
        return Err(crate::Error::NotEnoughScratch {
            kind: kind.as_str(),
            input_bytes,
            needed,
            available,
            limited_by,
            scratch_dir,
            scratch_free,
        });
    }
    Ok(true)
}

fn refuse_if_short(
    kind: InputKind,
    input_bytes: u64,
    resident_input: bool,
    available: Option<AvailableMemory>,
) -> Result<(), crate::Error> {
    let Some(mut needed) = estimated_peak_bytes(kind, input_bytes) else {
        return Ok(());
    };
    if resident_input {
        needed = needed.saturating_add(input_bytes);
    }
    match available {
        Some(available) if needed > available.bytes => Err(crate::Error::NotEnoughMemory {
            kind: kind.as_str(),
            input_bytes,
            needed,
            needed_when_spilling: None,
            available: available.bytes,
            limited_by: available.source,
        }),
        _ => Ok(()),
    }
}

/// `1.9 GB` for messages (decimal units, as `ls -lh --si` and the tables).
pub(crate) fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_scale_with_the_input_and_skip_small_formats() {
        assert_eq!(
            estimated_peak_bytes(InputKind::Hprof, 1_914_170_055),
            Some(1_914_170_055)
        );
        assert_eq!(
            estimated_peak_bytes(InputKind::V8HeapSnapshot, 1_000_000),
            Some(1_100_000)
        );
        assert_eq!(estimated_peak_bytes(InputKind::Pickle, 1 << 40), None);
        assert_eq!(
            estimated_peak_bytes(InputKind::V8HeapProfile, 1 << 40),
            None
        );
    }

    #[test]
    fn a_dump_is_refused_only_when_its_estimate_is_over_what_is_available() {
        let cgroup = |bytes| {
            Some(AvailableMemory {
                bytes,
                source: "the memory cgroup's limit",
            })
        };
        let gb = 1_000_000_000;
        assert!(refuse_if_short(InputKind::Hprof, 2 * gb, false, cgroup(2 * gb)).is_ok());
        assert!(refuse_if_short(InputKind::Hprof, 2 * gb, false, None).is_ok());
        assert!(refuse_if_short(InputKind::Pickle, 100 * gb, false, cgroup(gb)).is_ok());
        // Read into memory rather than mapped, the input counts too.
        match refuse_if_short(InputKind::Hprof, 2 * gb, true, cgroup(3 * gb)) {
            Err(crate::Error::NotEnoughMemory { needed, .. }) => assert_eq!(needed, 4 * gb),
            other => panic!("{other:?}"),
        }
        match refuse_if_short(InputKind::V8HeapSnapshot, 2 * gb, false, cgroup(2 * gb)) {
            Err(crate::Error::NotEnoughMemory {
                needed,
                available,
                input_bytes,
                ..
            }) => {
                assert_eq!(
                    (needed, available, input_bytes),
                    (2_200_000_000, 2 * gb, 2 * gb)
                );
            }
            other => panic!("{other:?}"),
        }
        let message = refuse_if_short(InputKind::Hprof, 1_914_170_055, false, cgroup(gb))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("needs about 1.9 GB")
                && message.contains("only 1.0 GB is available (the memory cgroup's limit)")
                && message.contains("--no-memory-check"),
            "{message}"
        );
    }

    #[test]
    fn spilling_is_chosen_when_memory_is_short_and_the_scratch_directory_has_room() {
        let cgroup = |bytes| {
            Some(AvailableMemory {
                bytes,
                source: "the memory cgroup's limit",
            })
        };
        let gb = 1_000_000_000;
        let scratch = |free| move || (PathBuf::from("/scratch"), free);
        let hprof = InputKind::Hprof;
        // Fits: no spilling, whatever the disk.
        assert!(!plan(hprof, 2 * gb, false, cgroup(3 * gb), true, scratch(0)).unwrap());
        // Does not fit, spilling possible and room on disk.
        assert!(plan(hprof, 6 * gb, false, cgroup(2 * gb), true, scratch(7 * gb)).unwrap());
        // Spilling not possible: today's refusal.
        assert!(matches!(
            plan(hprof, 6 * gb, false, cgroup(2 * gb), false, scratch(7 * gb)),
            Err(crate::Error::NotEnoughMemory { needed, .. }) if needed == 6 * gb
        ));
        // No room on disk: says so, with the directory.
        let err = plan(hprof, 6 * gb, false, cgroup(2 * gb), true, scratch(gb)).unwrap_err();
        assert!(
            matches!(err, crate::Error::NotEnoughScratch { scratch_free, .. } if scratch_free == gb)
        );
        let message = err.to_string();
        assert!(
            message.contains("/scratch has only 1.0 GB free") && message.contains("--scratch"),
            "{message}"
        );
        // Too little memory even to spill: refused with what spilling needs
        // (5 % of the 100 GB estimate).
        let err = plan(hprof, 100 * gb, false, cgroup(gb), true, scratch(1000 * gb)).unwrap_err();
        match &err {
            crate::Error::NotEnoughMemory {
                needed,
                needed_when_spilling,
                ..
            } => assert_eq!((*needed, *needed_when_spilling), (100 * gb, Some(5 * gb))),
            other => panic!("{other:?}"),
        }
        let message = err.to_string();
        assert!(
            message.contains(
                "needs about 100.0 GB of memory to analyse, or 5.0 GB with the rest spilled to \
                 scratch files, but only 1.0 GB is available"
            ),
            "{message}"
        );
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1_914_170_055), "1.9 GB");
        assert_eq!(human(2_147_483_648), "2.1 GB");
    }

    /// On Linux the available memory is read and is below the machine's
    /// total.
    #[cfg(target_os = "linux")]
    #[test]
    fn available_memory_is_read_on_linux() {
        let available = available_memory().expect("/proc/meminfo is readable");
        let total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|t| {
                let line = t.lines().find(|l| l.starts_with("MemTotal:"))?.to_string();
                line.split_whitespace().nth(1)?.parse::<u64>().ok()
            })
            .expect("MemTotal")
            * 1024;
        assert!(
            available.bytes > 0 && available.bytes <= total,
            "{available:?}"
        );
    }
}

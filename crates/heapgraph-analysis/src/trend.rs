//! Growth trends over a series of snapshots.
//!
//! Input: per snapshot, the `(count, bytes)` of each group (a class, an
//! allocation site). Output: per group, its series, the least-squares slope
//! of bytes and count per snapshot, the coefficient of determination R² of
//! the bytes line, and whether it grew monotonically. Groups are ranked by
//! bytes per snapshot, fastest growth first, so the leaks lead the report
//! and steady groups (slope 0) trail it.

use std::collections::HashMap;

/// One group's totals in one snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupTotals {
    /// How many objects (or allocations) the group has.
    pub count: u64,
    /// Their total size in bytes (shallow or retained, as the caller chose).
    pub bytes: u64,
}

/// One group's trend over the series.
#[derive(Clone, Debug, PartialEq)]
pub struct Trend {
    /// The group's key (class name or site).
    pub key: String,
    /// Totals per snapshot, in series order (zero where the group is absent).
    pub series: Vec<GroupTotals>,
    /// Least-squares slope of bytes against snapshot number (bytes per
    /// snapshot).
    pub bytes_per_snapshot: f64,
    /// Least-squares slope of count against snapshot number.
    pub count_per_snapshot: f64,
    /// R² of the bytes regression line: 1 for a perfect line, 0 when the
    /// line explains nothing; 1 for a constant series.
    pub r_squared: f64,
    /// Bytes never decreased and grew overall (last > first).
    pub monotonic_growth: bool,
}

impl Trend {
    /// Whether the group looks like steady growth: monotonic, positive
    /// slope, and a line that fits (R² ≥ 0.8).
    pub fn is_growing(&self) -> bool {
        self.monotonic_growth && self.bytes_per_snapshot > 0.0 && self.r_squared >= 0.8
    }
}

/// Computes trends for every group present in any snapshot, ranked by bytes
/// per snapshot (descending), then by key.
pub fn trends<K: AsRef<str>>(snapshots: &[Vec<(K, GroupTotals)>]) -> Vec<Trend> {
    let n = snapshots.len();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut keys: Vec<&str> = Vec::new();
    let mut series: Vec<Vec<GroupTotals>> = Vec::new();
    for (t, snapshot) in snapshots.iter().enumerate() {
        for (key, totals) in snapshot {
            let key = key.as_ref();
            let slot = *index.entry(key).or_insert_with(|| {
                keys.push(key);
                series.push(vec![GroupTotals::default(); n]);
                keys.len() - 1
            });
            let cell = &mut series[slot][t];
            cell.count += totals.count;
            cell.bytes = cell.bytes.saturating_add(totals.bytes);
        }
    }
    let mut out: Vec<Trend> = keys
        .into_iter()
        .zip(series)
        .map(|(key, series)| {
            let bytes: Vec<f64> = series.iter().map(|g| g.bytes as f64).collect();
            let counts: Vec<f64> = series.iter().map(|g| g.count as f64).collect();
            let (bytes_per_snapshot, r_squared) = least_squares(&bytes);
            let (count_per_snapshot, _) = least_squares(&counts);
            let monotonic_growth = series.windows(2).all(|w| w[1].bytes >= w[0].bytes)
                && series.last().map(|g| g.bytes) > series.first().map(|g| g.bytes);
            Trend {
                key: key.to_string(),
                series,
                bytes_per_snapshot,
                count_per_snapshot,
                r_squared,
                monotonic_growth,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.bytes_per_snapshot
            .total_cmp(&a.bytes_per_snapshot)
            .then_with(|| a.key.cmp(&b.key))
    });
    out
}

/// Slope and R² of the least-squares line through `(i, y[i])`.
fn least_squares(y: &[f64]) -> (f64, f64) {
    let n = y.len() as f64;
    if y.len() < 2 {
        return (0.0, 1.0);
    }
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = y.iter().sum::<f64>() / n;
    let mut sxx = 0.0;
    let mut sxy = 0.0;
    let mut syy = 0.0;
    for (i, &yi) in y.iter().enumerate() {
        let dx = i as f64 - mean_x;
        let dy = yi - mean_y;
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    let slope = sxy / sxx;
    let r_squared = if syy == 0.0 {
        1.0
    } else {
        (sxy * sxy) / (sxx * syy)
    };
    (slope, r_squared)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(count: u64, bytes: u64) -> GroupTotals {
        GroupTotals { count, bytes }
    }

    #[test]
    fn growing_groups_rank_first_and_steady_ones_are_not_flagged() {
        let snapshots = vec![
            vec![
                ("Leak", totals(10, 100)),
                ("Steady", totals(5, 500)),
                ("Noise", totals(3, 30)),
            ],
            vec![
                ("Leak", totals(20, 200)),
                ("Steady", totals(5, 500)),
                ("Noise", totals(1, 10)),
            ],
            vec![
                ("Leak", totals(30, 300)),
                ("Steady", totals(5, 500)),
                ("Noise", totals(4, 40)),
            ],
            vec![("Leak", totals(40, 400)), ("Steady", totals(5, 500))],
        ];
        let result = trends(&snapshots);
        assert_eq!(result[0].key, "Leak");
        assert!((result[0].bytes_per_snapshot - 100.0).abs() < 1e-9);
        assert!((result[0].count_per_snapshot - 10.0).abs() < 1e-9);
        assert!((result[0].r_squared - 1.0).abs() < 1e-9);
        assert!(result[0].is_growing());
        let steady = result.iter().find(|t| t.key == "Steady").unwrap();
        assert_eq!(steady.bytes_per_snapshot, 0.0);
        assert!(!steady.is_growing());
        let noise = result.iter().find(|t| t.key == "Noise").unwrap();
        assert_eq!(noise.series[3], GroupTotals::default());
        assert!(!noise.monotonic_growth);
        assert!(!noise.is_growing());
    }

    #[test]
    fn least_squares_matches_hand_computation() {
        // y = 1, 3, 2: mean_x = 1, mean_y = 2, sxy = (-1)(-1) + 0 + (1)(0) = 1,
        // sxx = 2, syy = 2 → slope 0.5, R² = 1 / 4.
        let (slope, r2) = least_squares(&[1.0, 3.0, 2.0]);
        assert!((slope - 0.5).abs() < 1e-12);
        assert!((r2 - 0.25).abs() < 1e-12);
        assert_eq!(least_squares(&[7.0]), (0.0, 1.0));
    }
}

//! Peer groups of the outlier rules: a subject is compared with the subjects of the same
//! kind in its region when the region has at least `min_peers` of them (the subject itself
//! counted), and otherwise with those of the same kind in the whole country; when even the
//! country has too few, the subject is not compared (and the rule says so).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::stats::{mad, median, robust_log_z};

/// The group a subject was compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerGroup {
    Region,
    /// The region had too few peers of the kind: the country's peers of the kind.
    Country,
}

impl PeerGroup {
    pub fn as_str(self) -> &'static str {
        match self {
            PeerGroup::Region => "region",
            PeerGroup::Country => "country",
        }
    }
}

/// A subject to compare: its region, its kind and its positive figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    pub region_id: i64,
    pub kind: String,
    pub value: f64,
}

/// How one subject compared with its group.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub group: PeerGroup,
    /// Indices (into the subjects) of the group's members, the subject itself included.
    pub members: Vec<usize>,
    /// Robust z on the log scale; `None` when the group's values do not spread (MAD 0).
    pub z: Option<f64>,
    pub median: f64,
    pub log_median: f64,
    pub log_mad: f64,
}

/// The statistics of one group, shared by its members.
struct Stats {
    members: Vec<usize>,
    scores: Vec<Option<f64>>,
    median: f64,
    log_median: f64,
    log_mad: f64,
}

fn stats(subjects: &[Subject], members: Vec<usize>, min_peers: usize) -> Stats {
    let values: Vec<f64> = members.iter().map(|&i| subjects[i].value).collect();
    let logs: Vec<f64> = values.iter().map(|v| v.max(f64::MIN_POSITIVE).ln()).collect();
    Stats {
        scores: robust_log_z(&values, min_peers),
        median: median(&values).unwrap_or(0.0),
        log_median: median(&logs).unwrap_or(0.0),
        log_mad: mad(&logs).unwrap_or(0.0),
        members,
    }
}

/// Each subject's comparison, in input order: within its region and kind when that group
/// has at least `min_peers` members, else within its kind across the country when that has
/// at least `min_peers`, else `None` (too few peers).
pub fn compare(subjects: &[Subject], min_peers: usize) -> Vec<Option<Comparison>> {
    let mut regional: BTreeMap<(&str, i64), Vec<usize>> = BTreeMap::new();
    let mut national: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, s) in subjects.iter().enumerate() {
        regional.entry((s.kind.as_str(), s.region_id)).or_default().push(i);
        national.entry(s.kind.as_str()).or_default().push(i);
    }
    let national: BTreeMap<&str, Stats> =
        national.into_iter().filter(|(_, m)| m.len() >= min_peers).map(|(k, m)| (k, stats(subjects, m, min_peers))).collect();
    let mut out = vec![None; subjects.len()];
    for ((kind, _), members) in regional {
        if members.len() >= min_peers {
            let st = stats(subjects, members, min_peers);
            for (pos, &i) in st.members.iter().enumerate() {
                out[i] = Some(Comparison {
                    group: PeerGroup::Region,
                    members: st.members.clone(),
                    z: st.scores[pos],
                    median: st.median,
                    log_median: st.log_median,
                    log_mad: st.log_mad,
                });
            }
        } else if let Some(st) = national.get(kind) {
            for i in members {
                let pos = st.members.iter().position(|&m| m == i).unwrap_or_default();
                out[i] = Some(Comparison {
                    group: PeerGroup::Country,
                    members: st.members.clone(),
                    z: st.scores.get(pos).copied().flatten(),
                    median: st.median,
                    log_median: st.log_median,
                    log_mad: st.log_mad,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(region_id: i64, kind: &str, value: f64) -> Subject {
        Subject { region_id, kind: kind.to_owned(), value }
    }

    #[test]
    fn a_region_with_enough_peers_keeps_its_own_group() {
        let subjects: Vec<Subject> = [10.0, 11.0, 12.0, 13.0, 50.0].iter().map(|v| subject(1, "pharmacy", *v)).collect();
        let out = compare(&subjects, 5);
        let c = out[4].as_ref().unwrap();
        assert_eq!(c.group, PeerGroup::Region);
        assert_eq!(c.members, vec![0, 1, 2, 3, 4]);
        assert!(c.z.unwrap() > 3.5);
    }

    #[test]
    fn small_regions_fall_back_to_the_country_of_the_same_kind() {
        // Three regions of three pharmacies: 100 to 140 per patient, and one at 4 × 120.
        let values = [[100.0, 110.0, 120.0], [120.0, 130.0, 140.0], [105.0, 125.0, 480.0]];
        let mut subjects: Vec<Subject> =
            values.iter().enumerate().flat_map(|(r, vs)| vs.iter().map(move |v| subject(r as i64, "pharmacy", *v))).collect();
        // A hospital alone in its kind is never compared with pharmacies.
        subjects.push(subject(0, "hospital", 900.0));
        let out = compare(&subjects, 5);
        let c = out[8].as_ref().unwrap();
        assert_eq!(c.group, PeerGroup::Country);
        assert_eq!(c.members, (0..9).collect::<Vec<_>>());
        // ln 480 against the median ln 120 and a MAD of ln(120/110) ≈ 0.0870: z = 0.6745 × 1.386 ÷ 0.0870 ≈ 10.7.
        assert!(c.z.unwrap() > 3.5, "{:?}", c.z);
        assert!(out[0].as_ref().unwrap().z.unwrap().abs() < 3.5);
        assert_eq!(out[9], None);
    }

    #[test]
    fn too_few_in_the_country_is_not_compared() {
        let subjects: Vec<Subject> = [10.0, 11.0, 40.0].iter().enumerate().map(|(r, v)| subject(r as i64, "pharmacy", *v)).collect();
        assert!(compare(&subjects, 5).iter().all(Option::is_none));
    }
}

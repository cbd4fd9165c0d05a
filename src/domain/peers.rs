//! Peer groups of the outlier rules: a subject is compared with the subjects of the same
//! kind in its region when the region has at least `min_peers` of them (the subject itself
//! counted), and otherwise with those of the same kind in the whole country; when even the
//! country has too few, the subject is not compared (and the rule says so).

use std::collections::BTreeMap;
use std::rc::Rc;

use serde::Serialize;

use crate::domain::ids::RegionId;
use crate::domain::stats::{LogSpread, log_spread, median};

/// The group a subject was compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerGroup {
    Region,
    /// The region had too few peers of the kind: the country's peers of the kind.
    Country,
}

impl PeerGroup {
    /// Where the peers are, as a flag's title says it.
    pub fn place(self) -> &'static str {
        match self {
            PeerGroup::Region => "of the region",
            PeerGroup::Country => "of the country (too few in the region)",
        }
    }
}

/// A subject to compare: its region, its kind and its positive figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    pub region_id: RegionId,
    pub kind: String,
    pub value: f64,
}

/// How one subject compared with its group.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub group: PeerGroup,
    /// Indices (into the subjects) of the group's members, the subject itself included
    /// (shared by every member's comparison).
    pub members: Rc<[usize]>,
    /// Robust z on the log scale; `None` when the group's values do not spread (MAD 0).
    pub z: Option<f64>,
    pub median: f64,
    pub log_median: f64,
    pub log_mad: f64,
}

/// The statistics of one group, shared by its members.
struct Stats {
    members: Rc<[usize]>,
    spread: LogSpread,
    median: f64,
}

impl Stats {
    fn of(subjects: &[Subject], members: Vec<usize>) -> Stats {
        let values: Vec<f64> = members.iter().map(|&i| subjects[i].value).collect();
        // Groups are never empty: every member is a subject that made the group.
        let spread = log_spread(&values).unwrap_or(LogSpread { median: 0.0, mad: 0.0, z: vec![None; values.len()] });
        Stats { median: median(&values).unwrap_or(0.0), spread, members: members.into() }
    }

    /// The comparison of the group's `pos`-th member.
    fn comparison(&self, group: PeerGroup, pos: usize) -> Comparison {
        Comparison {
            group,
            members: Rc::clone(&self.members),
            z: self.spread.z[pos],
            median: self.median,
            log_median: self.spread.median,
            log_mad: self.spread.mad,
        }
    }
}

/// Each subject's comparison, in input order: within its region and kind when that group
/// has at least `min_peers` members, else within its kind across the country when that has
/// at least `min_peers`, else `None` (too few peers).
pub fn compare(subjects: &[Subject], min_peers: usize) -> Vec<Option<Comparison>> {
    let mut regional: BTreeMap<(&str, RegionId), Vec<usize>> = BTreeMap::new();
    let mut national: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    // Each subject's position among its kind's national members (pushed in index order).
    let mut national_pos = vec![0; subjects.len()];
    for (i, s) in subjects.iter().enumerate() {
        regional.entry((s.kind.as_str(), s.region_id)).or_default().push(i);
        let members = national.entry(s.kind.as_str()).or_default();
        national_pos[i] = members.len();
        members.push(i);
    }
    let national: BTreeMap<&str, Stats> =
        national.into_iter().filter(|(_, m)| m.len() >= min_peers).map(|(k, m)| (k, Stats::of(subjects, m))).collect();
    let mut out = vec![None; subjects.len()];
    for ((kind, _), members) in regional {
        if members.len() >= min_peers {
            let st = Stats::of(subjects, members);
            for (pos, &i) in st.members.iter().enumerate() {
                out[i] = Some(st.comparison(PeerGroup::Region, pos));
            }
        } else if let Some(st) = national.get(kind) {
            for i in members {
                out[i] = Some(st.comparison(PeerGroup::Country, national_pos[i]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(region: i64, kind: &str, value: f64) -> Subject {
        Subject { region_id: RegionId(region), kind: kind.to_owned(), value }
    }

    #[test]
    fn a_region_with_enough_peers_keeps_its_own_group() {
        let subjects: Vec<Subject> = [10.0, 11.0, 12.0, 13.0, 50.0].iter().map(|v| subject(1, "pharmacy", *v)).collect();
        let out = compare(&subjects, 5);
        let c = out[4].as_ref().unwrap();
        assert_eq!(c.group, PeerGroup::Region);
        assert_eq!(c.members.to_vec(), vec![0, 1, 2, 3, 4]);
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
        assert_eq!(c.members.to_vec(), (0..9).collect::<Vec<_>>());
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

//! The dispensing generator: each dispensing facility's patients and their fills over the
//! demo's months, drawn from a generator seeded with the facility's place in the world, so the
//! same scale always gives the same records.
//!
//! As in practice, a patient keeps to one facility, one prescriber and one product for a
//! course: acute courses are one fill; cancer and palliative courses are refilled when the
//! last supply runs out (never early, a day late at most) for up to eight fills; chronic
//! non-cancer courses stay at or below 60 MME a day. New courses follow the season (about
//! 20 % more in January than in July). Fentanyl patches are prescribed for cancer and
//! palliative care only.

use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::enums::{AgeBand, FacilityKind, Indication, PatientSex};
use crate::demo::catalogue::{PRODUCT_COUNT, PRODUCTS};
use crate::domain::period::{Month, local_midnight};

/// One month of the demo in a country's own time.
#[derive(Debug, Clone, Copy)]
pub struct MonthWindow {
    pub month: Month,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The demo's months in `zone`, from `first` on, `count` of them.
pub fn months(zone: Tz, first: Month, count: usize) -> Vec<MonthWindow> {
    let mut out = Vec::with_capacity(count);
    let mut m = first;
    for _ in 0..count {
        out.push(MonthWindow { month: m, start: local_midnight(zone, m.first_day()), end: local_midnight(zone, m.next().first_day()) });
        m = m.next();
    }
    out
}

/// Who a fill is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientRef {
    /// The facility's own patient number.
    Local(u32),
    /// A planted story's patient, numbered per country.
    Story(u32),
}

/// One dispensing, before it becomes a batch record.
#[derive(Debug, Clone)]
pub struct Visit {
    pub at: DateTime<Utc>,
    pub product: usize,
    pub units: i64,
    pub days: i32,
    pub patient: PatientRef,
    /// The prescriber's number at the facility (a story's prescribers are numbered from 100).
    pub prescriber: u32,
    pub indication: Indication,
    pub sex: PatientSex,
    pub age: AgeBand,
}

/// What the generator needs to know about a facility.
pub struct FacilityProfile {
    /// Seed: the same facility gets the same patients.
    pub seed: u64,
    pub kind: FacilityKind,
    /// Weight of each product in new courses.
    pub mix: [u32; PRODUCT_COUNT],
    /// New courses in an average month.
    pub courses_per_month: f64,
    /// Prescribers working with the facility.
    pub prescribers: u32,
}

fn pick<T: Copy>(rng: &mut StdRng, weighted: &[(T, u32)]) -> T {
    let total: u32 = weighted.iter().map(|w| w.1).sum();
    let mut x = rng.random_range(0..total.max(1));
    for (v, w) in weighted {
        if x < *w {
            return *v;
        }
        x -= w;
    }
    weighted[0].0
}

/// Seasonal factor of new courses: +20 % in January, −20 % in July.
pub fn season(month: Month) -> f64 {
    let m0 = f64::from(month.first_day().month0());
    1.0 + 0.2 * (2.0 * std::f64::consts::PI * m0 / 12.0).cos()
}

fn indication(rng: &mut StdRng, product: usize) -> Indication {
    use Indication::*;
    let p = &PRODUCTS[product];
    match (p.form, p.inn) {
        (crate::db::enums::DosageForm::TransdermalPatch, _) => pick(rng, &[(Cancer, 70), (Palliative, 30)]),
        (crate::db::enums::DosageForm::Injection, _) => pick(rng, &[(Acute, 40), (Cancer, 40), (Palliative, 20)]),
        (crate::db::enums::DosageForm::OralSolution, _) => pick(rng, &[(Palliative, 60), (Cancer, 40)]),
        (_, "tramadol") => pick(rng, &[(Acute, 40), (ChronicNonCancer, 40), (Cancer, 20)]),
        _ => pick(rng, &[(Cancer, 50), (Palliative, 25), (ChronicNonCancer, 15), (Acute, 10)]),
    }
}

fn age(rng: &mut StdRng, indication: Indication) -> AgeBand {
    let weights: [u32; 6] = match indication {
        Indication::Acute => [3, 20, 30, 25, 15, 7],
        _ => [1, 3, 10, 25, 35, 26],
    };
    let options: Vec<(AgeBand, u32)> = AgeBand::ALL.iter().copied().zip(weights).collect();
    pick(rng, &options)
}

/// Months before the first whose courses are drawn too, so the first months already hold
/// the refills of patients treated for a while (no ramp-up that would read as a spike).
pub const LEAD_MONTHS: usize = 8;

/// The facility's fills over `months` (the first `LEAD_MONTHS` only start courses), in time
/// order, from the end of the lead-in on.
pub fn visits(profile: &FacilityProfile, months: &[MonthWindow]) -> Vec<Visit> {
    let mut rng = StdRng::seed_from_u64(profile.seed);
    let (Some(start), Some(end)) = (months.get(LEAD_MONTHS).map(|m| m.start), months.last().map(|m| m.end)) else {
        return Vec::new();
    };
    let mix: Vec<(usize, u32)> = profile
        .mix
        .iter()
        .enumerate()
        .map(|(i, w)| (i, if profile.kind == FacilityKind::Hospital { w * PRODUCTS[i].hospital_weight } else { *w }))
        .filter(|(_, w)| *w > 0)
        .collect();
    let mut out = Vec::new();
    let mut patient = 0u32;
    for window in months {
        let expected = profile.courses_per_month * season(window.month) * rng.random_range(0.8..1.2);
        let courses = expected.floor() as u32 + u32::from(rng.random_bool(expected.fract().clamp(0.0, 1.0)));
        let length = (window.end - window.start).num_minutes();
        for _ in 0..courses {
            let product = pick(&mut rng, &mix);
            let spec = &PRODUCTS[product];
            let indication = indication(&mut rng, product);
            let mut per_day = rng.random_range(spec.units_per_day.0..=spec.units_per_day.1);
            if indication == Indication::ChronicNonCancer && spec.inn == "morphine" {
                per_day = per_day.min(2);
            }
            let days = spec.fill_days[rng.random_range(0..spec.fill_days.len())];
            let fills = match indication {
                Indication::Acute => 1,
                Indication::ChronicNonCancer => rng.random_range(2..=6),
                _ => 1 + (0..7).take_while(|_| rng.random_bool(0.75)).count() as u32,
            };
            let sex = if rng.random_bool(0.5) { PatientSex::Female } else { PatientSex::Male };
            let age = age(&mut rng, indication);
            let prescriber = rng.random_range(0..profile.prescribers.max(1));
            // Opening hours: 10:00 to 18:00 local (the window starts at local midnight).
            let day = rng.random_range(0..length / 1440);
            let mut at = window.start + Duration::minutes(day * 1440 + 600 + rng.random_range(0..480));
            for _ in 0..fills {
                if at >= end {
                    break;
                }
                if at < start {
                    at += Duration::days(i64::from(days) + rng.random_range(0..=1));
                    continue;
                }
                out.push(Visit {
                    at,
                    product,
                    units: spec.units(per_day, days),
                    days,
                    patient: PatientRef::Local(patient),
                    prescriber,
                    indication,
                    sex,
                    age,
                });
                // The next fill when this one runs out, or a day later.
                at += Duration::days(i64::from(days) + rng.random_range(0..=1));
            }
            patient += 1;
        }
    }
    out.sort_by_key(|v| v.at);
    out
}

/// The month of `months` an instant falls in.
pub fn month_index(months: &[MonthWindow], at: DateTime<Utc>) -> Option<usize> {
    months.iter().position(|m| m.start <= at && at < m.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(seed: u64) -> FacilityProfile {
        FacilityProfile { seed, kind: FacilityKind::Pharmacy, mix: [30, 15, 5, 10, 30, 10, 0], courses_per_month: 8.0, prescribers: 4 }
    }

    #[test]
    fn the_same_facility_gets_the_same_fills() {
        let zone: Tz = "Asia/Almaty".parse().unwrap();
        let m = months(zone, Month::parse("2024-05").unwrap(), 24 + LEAD_MONTHS);
        let a = visits(&profile(7), &m);
        let b = visits(&profile(7), &m);
        assert_eq!(a.len(), b.len());
        assert!(a.iter().zip(&b).all(|(x, y)| x.at == y.at && x.units == y.units && x.patient == y.patient));
        assert_ne!(visits(&profile(8), &m).len(), 0);
        assert!(a.iter().all(|v| v.at >= m[LEAD_MONTHS].start && v.at < m[LEAD_MONTHS + 23].end));
        assert!(a.windows(2).all(|w| w[0].at <= w[1].at));
        // Patches only for cancer and palliative care; chronic non-cancer morphine ≤ 2 a day.
        assert!(a.iter().filter(|v| v.product == 4 || v.product == 5).all(|v| matches!(v.indication, Indication::Cancer | Indication::Palliative)));
    }

    #[test]
    fn winter_has_more_courses_than_summer() {
        assert!(season(Month::parse("2025-01").unwrap()) > 1.19);
        assert!(season(Month::parse("2025-07").unwrap()) < 0.81);
    }
}

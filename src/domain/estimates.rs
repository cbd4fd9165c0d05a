//! Estimate proposals by the methods of the INCB–WHO Guide on Estimating Requirements for
//! Substances under International Control (2012), exact until the final rounding.
//!
//! - Consumption-based: the consumption of the years that have data (a year before the
//!   first record is no data, not zero), projected to the estimate year by its least-squares
//!   trend when there are two years or more (one year is taken as it is), plus a reserve of
//!   `reserve_months` of that consumption, less the stock already held at the national
//!   wholesale level (retail stock is not a reserve the country can draw on).
//! - Morbidity-based: Σ over causes of deaths × share needing opioid treatment × days of
//!   treatment, × the mean daily dose (mg of the substance).

use bigdecimal::{BigDecimal, Zero};

/// Least-squares slope of (x, y) points; `None` with fewer than two.
pub fn slope(points: &[(i32, BigDecimal)]) -> Option<BigDecimal> {
    if points.len() < 2 {
        return None;
    }
    let n = BigDecimal::from(points.len() as i64);
    let mean_x = points.iter().map(|(x, _)| BigDecimal::from(*x)).sum::<BigDecimal>() / &n;
    let mean_y = points.iter().map(|(_, y)| y.clone()).sum::<BigDecimal>() / &n;
    let (mut num, mut den) = (BigDecimal::zero(), BigDecimal::zero());
    for (x, y) in points {
        let dx = BigDecimal::from(*x) - &mean_x;
        num += &dx * (y - &mean_y);
        den += &dx * &dx;
    }
    (!den.is_zero()).then(|| num / den)
}

/// The consumption-based proposal's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumptionProjection {
    pub trend_per_year: Option<BigDecimal>,
    pub projected: BigDecimal,
    pub reserve: BigDecimal,
    pub proposed: BigDecimal,
}

/// Projects `history` (the years with data only, oldest first) to `year` and adds the
/// reserve, less `wholesale_stock`; `None` without any year of data.
pub fn consumption_based(
    history: &[(i32, BigDecimal)],
    year: i32,
    reserve_months: &BigDecimal,
    wholesale_stock: &BigDecimal,
) -> Option<ConsumptionProjection> {
    let (last_year, last) = history.last()?;
    let trend = slope(history);
    let projected = match &trend {
        Some(t) => (last + t * BigDecimal::from(year - last_year)).max(BigDecimal::zero()),
        None => last.clone(),
    };
    let reserve = &projected * reserve_months / BigDecimal::from(12);
    let proposed = (&projected + &reserve - wholesale_stock).max(BigDecimal::zero());
    Some(ConsumptionProjection { trend_per_year: trend, projected, reserve, proposed })
}

/// One cause of death with the parameters of the morbidity method.
#[derive(Debug, Clone)]
pub struct CauseNeed {
    pub deaths: i64,
    /// Share of the decedents who needed opioid treatment (0–1).
    pub share_needing_opioids: BigDecimal,
    pub treatment_days: BigDecimal,
}

/// Patient-days of opioid treatment a cause stands for: deaths × share × days.
pub fn patient_days(cause: &CauseNeed) -> BigDecimal {
    BigDecimal::from(cause.deaths) * &cause.share_needing_opioids * &cause.treatment_days
}

/// mg of the substance needed: Σ patient-days × the mean daily dose.
pub fn morbidity_need_mg(causes: &[CauseNeed], daily_dose_mg: &BigDecimal) -> BigDecimal {
    causes.iter().map(patient_days).sum::<BigDecimal>() * daily_dose_mg
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn d(s: &str) -> BigDecimal {
        BigDecimal::from_str(s).unwrap()
    }

    #[test]
    fn slope_of_a_straight_line() {
        let points = vec![(2023, d("100")), (2024, d("120")), (2025, d("140"))];
        assert_eq!(slope(&points), Some(d("20")));
        assert_eq!(slope(&points[..1]), None);
    }

    #[test]
    fn one_year_of_data_is_taken_as_it_is() {
        // 549 g in 2024, the only year with data: projected 549, reserve 6 months 274.5,
        // less 451 g held by wholesalers = 372.5 g. (A trend through two "zero" years before
        // the first record would have projected 823.5 g.)
        let p = consumption_based(&[(2024, d("549"))], 2025, &d("6"), &d("451")).unwrap();
        assert_eq!(p.trend_per_year, None);
        assert_eq!(p.projected, d("549"));
        assert_eq!(p.reserve, d("274.5"));
        assert_eq!(p.proposed, d("372.5"));
        assert!(consumption_based(&[], 2025, &d("6"), &d("0")).is_none());
    }

    #[test]
    fn two_years_or_more_follow_their_trend_and_never_go_negative() {
        // 100, 120, 140 g: +20 a year; 2026 is two years past 2024: 180 g, reserve 3 months 45.
        let p = consumption_based(&[(2022, d("100")), (2023, d("120")), (2024, d("140"))], 2026, &d("3"), &d("25")).unwrap();
        assert_eq!(p.projected, d("180"));
        assert_eq!(p.proposed, d("200"));
        let falling = consumption_based(&[(2023, d("100")), (2024, d("10"))], 2026, &d("0"), &d("0")).unwrap();
        assert_eq!(falling.projected, d("0"));
        // A stock above the need proposes nothing, not a negative estimate.
        assert_eq!(consumption_based(&[(2024, d("10"))], 2025, &d("0"), &d("50")).unwrap().proposed, d("0"));
    }

    #[test]
    fn morbidity_hand_check() {
        // 3 500 cancer deaths × 0.8 × 90 days × 66.7 mg = 16 808 400 mg = 16.81 kg of morphine.
        let causes = vec![CauseNeed { deaths: 3500, share_needing_opioids: d("0.8"), treatment_days: d("90") }];
        assert_eq!(morbidity_need_mg(&causes, &d("66.7")), d("16808400"));
        // With 400 HIV/AIDS deaths × 0.5 × 90: 18 000 more patient-days.
        let both = vec![causes[0].clone(), CauseNeed { deaths: 400, share_needing_opioids: d("0.5"), treatment_days: d("90") }];
        assert_eq!(morbidity_need_mg(&both, &d("1")), d("270000"));
    }
}

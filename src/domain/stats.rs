//! Robust statistics for the outlier rules: median, median absolute deviation, and the
//! robust z-score on a log scale (Iglewicz & Hoaglin: 0.6745 × (x − median) ÷ MAD).
//! Scores are not quantities of medicine, so they are floating point.

/// The median of `values` (`None` when empty).
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

/// Median absolute deviation from the median.
pub fn mad(values: &[f64]) -> Option<f64> {
    let m = median(values)?;
    median(&values.iter().map(|x| (x - m).abs()).collect::<Vec<_>>())
}

/// Positive values seen on the natural-log scale: the median and MAD of their logs, and each
/// value's robust z-score in input order (`None` for every value when the MAD is zero: the
/// values do not spread). `None` when there are no values.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSpread {
    pub median: f64,
    pub mad: f64,
    pub z: Vec<Option<f64>>,
}

pub fn log_spread(values: &[f64]) -> Option<LogSpread> {
    let logs: Vec<f64> = values.iter().map(|x| x.max(f64::MIN_POSITIVE).ln()).collect();
    let (m, d) = (median(&logs)?, mad(&logs)?);
    let z = logs.iter().map(|l| (d > f64::EPSILON).then(|| 0.6745 * (l - m) / d)).collect();
    Some(LogSpread { median: m, mad: d, z })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_takes_the_middle_value_of_an_odd_count_and_the_mean_of_the_two_middle_ones_of_an_even_count() {
        assert_eq!(median(&[5.0, 1.0, 4.0, 2.0, 3.0]), Some(3.0));
        assert_eq!(median(&[3.0, 1.0]), Some(2.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn median_and_mad() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(mad(&[1.0, 2.0, 3.0, 4.0, 100.0]), Some(1.0));
    }

    #[test]
    fn one_far_value_stands_out() {
        let mut values = vec![10.0, 11.0, 9.0, 12.0, 10.5, 9.5, 11.5, 10.2];
        values.push(400.0);
        let z = log_spread(&values).unwrap().z;
        assert!(z[8].unwrap() > 3.5, "{:?}", z[8]);
        assert!(z[..8].iter().all(|s| s.unwrap().abs() < 3.5));
        let flat = log_spread(&[5.0, 5.0, 5.0, 5.0, 5.0]).unwrap();
        assert_eq!((flat.median, flat.mad), (5.0f64.ln(), 0.0));
        assert!(flat.z.iter().all(Option::is_none));
        assert_eq!(log_spread(&[]), None);
    }
}

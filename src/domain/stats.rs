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

/// Robust z-scores of positive `values` on a natural-log scale, in input order. `None` for
/// every value when there are fewer than `min_peers` values or the MAD is zero.
pub fn robust_log_z(values: &[f64], min_peers: usize) -> Vec<Option<f64>> {
    let logs: Vec<f64> = values.iter().map(|x| x.max(f64::MIN_POSITIVE).ln()).collect();
    let (Some(m), Some(d)) = (median(&logs), mad(&logs)) else {
        return vec![None; values.len()];
    };
    if values.len() < min_peers || d <= f64::EPSILON {
        return vec![None; values.len()];
    }
    logs.iter().map(|l| Some(0.6745 * (l - m) / d)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let z = robust_log_z(&values, 5);
        assert!(z[8].unwrap() > 3.5, "{:?}", z[8]);
        assert!(z[..8].iter().all(|s| s.unwrap().abs() < 3.5));
        assert!(robust_log_z(&values[..3], 5).iter().all(Option::is_none));
        assert!(robust_log_z(&[5.0, 5.0, 5.0, 5.0, 5.0], 3).iter().all(Option::is_none));
    }
}

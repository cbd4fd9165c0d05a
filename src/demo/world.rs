//! The demo world's layout: the five countries' regions (oblasts and cities of republican
//! significance, with their real names) and how many dispensing facilities each country has.
//!
//! Region populations are the latest official regional estimates as rounded shares (about
//! 2024–2025), scaled so that every year's figures add up exactly to the national population
//! shipped in `reference/countries.csv` (largest remainder). The facilities and everything
//! they record are synthetic.

/// One country of the demo: its regions and the shape of its supply chain and dispensing.
pub struct CountryPlan {
    pub code: &'static str,
    /// (name, short code, approximate population) of each region.
    pub regions: &'static [(&'static str, &'static str, i64)],
    /// Dispensing facilities (pharmacies and hospital pharmacies) at scale 1.
    pub facilities: usize,
    /// Wholesalers (the importer supplies them; each pharmacy buys from one).
    pub wholesalers: usize,
    /// Courses of treatment a dispensing facility starts in an average month at scale 1.
    pub courses_per_month: f64,
    /// Weight of each catalogue product (`catalogue::PRODUCTS`, same order) in new courses;
    /// 0 where the country does not use the product.
    pub mix: [u32; crate::demo::catalogue::PRODUCT_COUNT],
    /// Deaths in a year: cancer, HIV/AIDS, all other causes (synthetic, of realistic size).
    pub deaths: (i64, i64, i64),
}

/// The five countries. Product mix order: morphine 30 mg tablet, morphine 10 mg/ml ampoule,
/// morphine oral solution, trimeperidine ampoule, fentanyl 25 mcg/h patch, fentanyl 50 mcg/h
/// patch, tramadol capsule (only Uzbekistan controls tramadol nationally).
pub const COUNTRIES: [CountryPlan; 5] = [
    CountryPlan {
        code: "KZ",
        regions: &[
            ("Abai Region", "ABA", 604_000),
            ("Akmola Region", "AKM", 785_000),
            ("Aktobe Region", "AKT", 937_000),
            ("Almaty Region", "ALM", 1_530_000),
            ("Atyrau Region", "ATY", 704_000),
            ("East Kazakhstan Region", "VOS", 698_000),
            ("Jambyl Region", "ZHA", 1_220_000),
            ("Jetisu Region", "ZHE", 699_000),
            ("Karaganda Region", "KAR", 1_130_000),
            ("Kostanay Region", "KUS", 829_000),
            ("Kyzylorda Region", "KZY", 834_000),
            ("Mangystau Region", "MAN", 791_000),
            ("North Kazakhstan Region", "SEV", 525_000),
            ("Pavlodar Region", "PAV", 747_000),
            ("Turkistan Region", "YUZ", 2_150_000),
            ("Ulytau Region", "ULT", 221_000),
            ("West Kazakhstan Region", "ZAP", 696_000),
            ("Astana", "AST", 1_570_000),
            ("Almaty", "ALA", 2_300_000),
            ("Shymkent", "SHY", 1_260_000),
        ],
        facilities: 80,
        wholesalers: 2,
        courses_per_month: 8.0,
        mix: [30, 15, 5, 10, 30, 10, 0],
        deaths: (14_800, 350, 135_000),
    },
    CountryPlan {
        code: "KG",
        regions: &[
            ("Batken Region", "B", 560_000),
            ("Chüy Region", "C", 1_000_000),
            ("Issyk-Kul Region", "Y", 520_000),
            ("Jalal-Abad Region", "J", 1_330_000),
            ("Naryn Region", "N", 300_000),
            ("Osh Region", "O", 1_400_000),
            ("Talas Region", "T", 280_000),
            ("Bishkek", "GB", 1_180_000),
            ("Osh", "GO", 370_000),
        ],
        facilities: 35,
        wholesalers: 1,
        courses_per_month: 8.0,
        mix: [30, 20, 5, 15, 25, 5, 0],
        deaths: (4_300, 160, 34_000),
    },
    CountryPlan {
        code: "TJ",
        regions: &[
            ("Sughd Region", "SU", 2_900_000),
            ("Khatlon Region", "KT", 3_700_000),
            ("Gorno-Badakhshan Autonomous Region", "GB", 230_000),
            ("Districts of Republican Subordination", "RA", 2_500_000),
            ("Dushanbe", "DU", 1_200_000),
        ],
        facilities: 25,
        wholesalers: 1,
        courses_per_month: 6.0,
        mix: [35, 38, 0, 25, 2, 0, 0],
        deaths: (4_600, 280, 40_000),
    },
    CountryPlan {
        code: "TM",
        regions: &[
            ("Ahal Region", "A", 938_000),
            ("Balkan Region", "B", 548_000),
            ("Daşoguz Region", "D", 1_370_000),
            ("Lebap Region", "L", 1_447_000),
            ("Mary Region", "M", 1_722_000),
            ("Ashgabat", "S", 1_030_000),
        ],
        facilities: 25,
        wholesalers: 1,
        courses_per_month: 8.0,
        mix: [30, 15, 5, 12, 30, 8, 0],
        deaths: (4_000, 60, 32_000),
    },
    CountryPlan {
        code: "UZ",
        regions: &[
            ("Republic of Karakalpakstan", "QR", 2_000_000),
            ("Andijan Region", "AN", 3_300_000),
            ("Bukhara Region", "BU", 2_000_000),
            ("Jizzakh Region", "JI", 1_500_000),
            ("Kashkadarya Region", "QA", 3_500_000),
            ("Navoiy Region", "NW", 1_060_000),
            ("Namangan Region", "NG", 3_000_000),
            ("Samarkand Region", "SA", 4_200_000),
            ("Surkhandarya Region", "SU", 2_900_000),
            ("Syrdarya Region", "SI", 900_000),
            ("Tashkent Region", "TO", 3_000_000),
            ("Fergana Region", "FA", 4_000_000),
            ("Khorezm Region", "XO", 1_950_000),
            ("Tashkent", "TK", 3_100_000),
        ],
        facilities: 85,
        wholesalers: 2,
        courses_per_month: 8.0,
        mix: [17, 10, 5, 10, 40, 15, 10],
        deaths: (14_500, 900, 170_000),
    },
];

/// `weights` scaled to integers adding up to exactly `total` (largest remainder, ties to the
/// earlier entry), each at least `floor` when `total` allows.
pub fn apportion(weights: &[i64], total: i64, floor: i64) -> Vec<i64> {
    let n = weights.len() as i64;
    let floor = if floor * n <= total { floor } else { 0 };
    let rest = total - floor * n;
    let sum: i64 = weights.iter().sum::<i64>().max(1);
    let mut shares: Vec<i64> = weights.iter().map(|w| floor + (i128::from(*w) * i128::from(rest) / i128::from(sum)) as i64).collect();
    let mut remainders: Vec<(i128, usize)> =
        weights.iter().enumerate().map(|(i, w)| ((i128::from(*w) * i128::from(rest)) % i128::from(sum), i)).collect();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let missing = total - shares.iter().sum::<i64>();
    for (_, i) in remainders.into_iter().take(missing.max(0) as usize) {
        shares[i] += 1;
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_adds_up_and_keeps_the_floor() {
        let shares = apportion(&[604_000, 785_000, 2_300_000], 20_495_975, 0);
        assert_eq!(shares.iter().sum::<i64>(), 20_495_975);
        let facilities = apportion(&[10, 1, 1, 1], 7, 1);
        assert_eq!(facilities.iter().sum::<i64>(), 7);
        assert!(facilities.iter().all(|f| *f >= 1));
        assert_eq!(facilities[0], 4);
    }

    #[test]
    fn every_mix_names_a_product() {
        for c in &COUNTRIES {
            assert!(c.mix.iter().sum::<u32>() > 0, "{}", c.code);
            assert!(c.regions.len() >= 5);
        }
    }
}

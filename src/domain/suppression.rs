//! Small-cell suppression of counts of people or facilities before they leave the country.
//!
//! A table here is one line of non-negative counts (one per region, per rule, ...) and the
//! total published beside it. A count from 1 to 4 is a *small cell*: it is sent as
//! suppressed (primary suppression). A zero is shown: it names nobody.
//!
//! Suppressing one cell alone is not enough when the total is published: the cell would be
//! the total minus the others. So, while the suppressed cells are fewer than two or add up
//! to less than [`THRESHOLD`], the smallest other non-zero cells are suppressed too
//! (complementary suppression). Then a reader who subtracts learns only the sum of the
//! suppressed cells, which is at least `THRESHOLD` and spread over at least two cells, so no
//! small cell can be pinned down. When even that cannot be reached (the total is itself a
//! small cell, or the cells do not add up to it), the total is suppressed as well.

/// Counts below this are small cells.
pub const THRESHOLD: i64 = 5;

/// What to send of a table: per cell whether it is suppressed, and whether the total is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub cells: Vec<bool>,
    pub total: bool,
}

/// Whether one count is a small cell.
pub fn is_small(count: i64) -> bool {
    (1..THRESHOLD).contains(&count)
}

/// Decides which cells of `cells` (with their published `total`) are suppressed.
pub fn protect(cells: &[i64], total: i64) -> Suppression {
    let mut suppressed: Vec<bool> = cells.iter().map(|c| is_small(*c)).collect();
    if is_small(total) {
        // Every non-zero cell of a small total is small itself; the total goes too.
        return Suppression { cells: suppressed, total: true };
    }
    let sum_of = |s: &[bool]| cells.iter().zip(s).filter(|(_, x)| **x).map(|(c, _)| *c).sum::<i64>();
    let count_of = |s: &[bool]| s.iter().filter(|x| **x).count();
    if count_of(&suppressed) == 0 {
        return Suppression { cells: suppressed, total: false };
    }
    // Complements: the smallest non-zero cells not yet suppressed, one at a time.
    let mut order: Vec<usize> = (0..cells.len()).filter(|i| !suppressed[*i] && cells[*i] > 0).collect();
    order.sort_by_key(|i| (cells[*i], *i));
    let mut next = order.into_iter();
    while count_of(&suppressed) < 2 || sum_of(&suppressed) < THRESHOLD {
        match next.next() {
            Some(i) => suppressed[i] = true,
            None => return Suppression { cells: suppressed, total: true },
        }
    }
    Suppression { cells: suppressed, total: false }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_lone_small_cell_takes_the_smallest_other_cell_with_it() {
        // 3 + 0 + 12 + 7 = 22: the 3 is small; alone it would be 22 − 0 − 12 − 7; the 7 goes
        // with it, so subtraction gives only 3 + 7 = 10.
        assert_eq!(protect(&[3, 0, 12, 7], 22), Suppression { cells: vec![true, false, false, true], total: false });
    }

    #[test]
    fn two_small_cells_that_add_up_to_less_than_five_take_a_third() {
        // 1 + 2 = 3 < 5: the 6 goes too (1 + 2 + 6 = 9).
        assert_eq!(protect(&[1, 2, 6, 10], 19), Suppression { cells: vec![true, true, true, false], total: false });
        // 4 + 1 = 5: enough.
        assert_eq!(protect(&[4, 1, 9], 14), Suppression { cells: vec![true, true, false], total: false });
    }

    #[test]
    fn zeros_and_large_cells_are_shown() {
        assert_eq!(protect(&[0, 5, 9], 14), Suppression { cells: vec![false, false, false], total: false });
    }

    #[test]
    fn a_small_total_is_suppressed_with_its_cells() {
        assert_eq!(protect(&[3, 0], 3), Suppression { cells: vec![true, false], total: true });
    }

    #[test]
    fn the_total_goes_when_no_complement_is_left() {
        // A non-additive total (distinct patients across regions): 3 alone, nothing to pair.
        assert_eq!(protect(&[3, 0], 8), Suppression { cells: vec![true, false], total: true });
    }

    proptest! {
        /// Whatever the table, a reader of the published cells and total cannot pin down a
        /// small cell: each is suppressed, and either the total is suppressed or the
        /// suppressed cells are at least two and add up to at least five.
        #[test]
        fn no_small_cell_can_be_recovered(cells in proptest::collection::vec(0i64..40, 1..8), extra in 0i64..3) {
            let total: i64 = cells.iter().sum::<i64>() + extra;
            let s = protect(&cells, total);
            prop_assert_eq!(s.cells.len(), cells.len());
            for (c, x) in cells.iter().zip(&s.cells) {
                if is_small(*c) {
                    prop_assert!(*x, "small cell {} shown", c);
                }
            }
            if s.cells.iter().any(|x| *x) && !s.total {
                let hidden: Vec<i64> = cells.iter().zip(&s.cells).filter(|(_, x)| **x).map(|(c, _)| *c).collect();
                prop_assert!(hidden.len() >= 2);
                prop_assert!(hidden.iter().sum::<i64>() >= THRESHOLD);
            }
            if is_small(total) {
                prop_assert!(s.total);
            }
        }
    }
}

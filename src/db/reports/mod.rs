//! Read-only report queries: ledger flows and dispensed quantities of a country and date
//! range, read from the maintained monthly aggregates (whole months) and from the raw rows
//! (the partial months at either end, or everything when asked for `Source::Raw`).

pub mod flows;

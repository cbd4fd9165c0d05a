//! Diversion monitoring: the rules a regulator tunes, and the scans that run them over a
//! country and period.

pub mod run_scan;
pub mod start_scan;
pub mod update_rule;

//! Planted cases and near misses of diversion rules (rules_a).

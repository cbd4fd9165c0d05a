//! Typed ids: one newtype per table key, an `i64` inside, so passing one kind of id where
//! another is expected does not compile.
//!
//! On the wire an id is a bare integer (`serde(transparent)`; the OpenAPI document keeps
//! `integer`/`int64`, see `views::ids`); in the database a `bigint` (`db::ids` gives them
//! diesel's `ToSql`/`FromSql`/`AsExpression`). This module stays pure: no diesel, no utoipa.
//! The inner value is public for the places that must cross the boundary on purpose (SQL
//! lock keys, audit resource ids, CSV cells): `FacilityId(7)`, `id.get()`.
//!
//! Stock events and dispensings are both ledger entries and draw their ids from one sequence
//! (`ledger_entry_id_seq`): a reversal names either, so they share [`LedgerEntryId`]
//! (`StockEventId` and `DispensingId` name it where one kind is meant).
//!
//! ```compile_fail,E0308
//! use tarozi::domain::ids::{FacilityId, ProductId};
//! fn stock_of(facility: FacilityId) -> i64 { facility.get() }
//! stock_of(ProductId(3)); // a product's id where a facility's is expected: refused
//! ```
//!
//! ```
//! use tarozi::domain::ids::FacilityId;
//! fn stock_of(facility: FacilityId) -> i64 { facility.get() }
//! assert_eq!(stock_of(FacilityId(3)), 3);
//! assert_eq!(serde_json::to_string(&FacilityId(3)).unwrap(), "3");
//! ```

use std::fmt;
use std::num::ParseIntError;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Calls `$then!` with every id type: `db::ids` and `views::ids` implement their traits for
/// the same list this module declares.
macro_rules! for_each_id {
    ($then:ident) => {
        $then!(
            ApiKeyId,
            AuditEventId,
            EstimateId,
            ExchangeKeyId,
            ExchangePackageId,
            ExchangePushId,
            ExportAuthorizationId,
            FacilityId,
            FlagEventId,
            FlagId,
            ImportAuthorizationId,
            InventoryCountId,
            LedgerEntryId,
            ProductId,
            RefusedAttemptId,
            RegionId,
            ScanId,
            SubstanceId,
            SubstanceReferenceValueId,
            TransferId,
            UserId
        );
    };
}
pub(crate) use for_each_id;

macro_rules! declare_ids {
    ($($id:ident),+ $(,)?) => {$(
        #[doc = concat!("The key of one row (`", stringify!($id), "`): a database `bigint`, a JSON integer.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $id(pub i64);

        impl $id {
            /// The bare number, for SQL keys, audit entries and text.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl From<$id> for i64 {
            fn from(id: $id) -> i64 {
                id.0
            }
        }

        impl FromStr for $id {
            type Err = ParseIntError;

            fn from_str(s: &str) -> Result<Self, ParseIntError> {
                s.parse().map($id)
            }
        }

        impl fmt::Display for $id {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )+};
}

for_each_id!(declare_ids);

/// A stock event's id: a ledger entry's (see the module note).
pub type StockEventId = LedgerEntryId;
/// A dispensing's id: a ledger entry's (see the module note).
pub type DispensingId = LedgerEntryId;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_a_bare_integer_on_the_wire() {
        assert_eq!(serde_json::to_string(&FlagId(42)).unwrap(), "42");
        assert_eq!(serde_json::from_str::<RegionId>("7").unwrap(), RegionId(7));
        assert!(serde_json::from_str::<RegionId>("\"7\"").is_err());
        assert_eq!(FacilityId(9).to_string(), "9");
        assert_eq!(i64::from(UserId(5)), 5);
    }
}

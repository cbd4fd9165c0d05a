//! The typed ids (`domain::ids`) in the OpenAPI document: each is an `integer` of format
//! `int64`, inline, exactly as the bare `i64` it replaced. A wire type's id field says so
//! with `#[schema(value_type = i64)]` (`Option<i64>`, `Vec<i64>`); the `PartialSchema`
//! below serves the places that ask the type itself.

use utoipa::PartialSchema;
use utoipa::openapi::{RefOr, schema::Schema};

use crate::domain::ids::*;

macro_rules! schema_ids {
    ($($id:ident),+ $(,)?) => {$(
        impl PartialSchema for $id {
            fn schema() -> RefOr<Schema> {
                i64::schema()
            }
        }
    )+};
}

for_each_id!(schema_ids);

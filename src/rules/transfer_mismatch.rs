//! `transfer_mismatch`: not implemented yet.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::rules::{Finding, ScanContext};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

pub fn evaluate(_conn: &mut PgConnection, _ctx: &ScanContext, _params: &Params) -> QueryResult<Vec<Finding>> {
    Ok(Vec::new())
}

//! JSON wire types: what clients send and receive. A single resource travels wrapped
//! (`{"facility": {...}}`), a list as `{"facilities": [...], "meta": {...}}`.

pub mod analytics;
pub mod auth;
pub mod dispensing;
pub mod exchange;
pub mod exports;
pub mod flags;
pub mod ids;
pub mod reference;
pub mod supply;
pub mod text;

use serde::Serialize;
use utoipa::ToSchema;

use crate::extract::Page;

/// Paging of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListMeta {
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl ListMeta {
    pub fn new(total: i64, page: Page) -> Self {
        ListMeta { total, page: page.page, per_page: page.per_page }
    }
}

/// Declares `{"<field>": T}`, the wrapper of one resource.
macro_rules! envelope {
    ($name:ident, $field:ident, $inner:ty) => {
        #[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub $field: $inner,
        }
    };
}

/// Declares `{"<field>": [T], "meta": ListMeta}`, a page of a list.
macro_rules! list_page {
    ($name:ident, $field:ident, $inner:ty) => {
        #[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub $field: Vec<$inner>,
            pub meta: $crate::views::ListMeta,
        }
    };
}

pub(crate) use {envelope, list_page};

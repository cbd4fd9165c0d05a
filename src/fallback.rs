//! What a request no route takes gets: 405 `method_not_allowed` with `Allow` when its path
//! is an operation of the OpenAPI document under other methods, else 404.
//!
//! actix registers each `#[get]`/`#[post]` handler as its own resource guarded by its
//! method, so a path served under other methods falls through to the default service; the
//! document (built from the same routes) knows which methods each path template has.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::app::error::{DomainError, ProblemCode};
use crate::operations::PathTable;

/// The default service: 405 with `Allow` for a known path, 404 otherwise.
pub async fn no_route(req: HttpRequest, table: web::Data<PathTable>) -> HttpResponse {
    let allowed = table.allowed(req.path());
    if allowed.is_empty() {
        return crate::error::respond(&DomainError::not_found("route"));
    }
    let allow = allowed.join(", ");
    let detail = format!("this path does not support {}; it supports {allow}", req.method());
    let mut response = crate::error::respond(&DomainError::new(ProblemCode::MethodNotAllowed, detail));
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

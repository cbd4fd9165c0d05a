//! What a request no route takes gets: 405 `method_not_allowed` with `Allow` when its path
//! is an operation of the OpenAPI document under other methods, else 404.
//!
//! actix registers each `#[get]`/`#[post]` handler as its own resource guarded by its
//! method, so a path served under other methods falls through to the default service; the
//! document (built from the same routes) knows which methods each path template has.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::app::error::{DomainError, ProblemCode};

enum Segment {
    Literal(String),
    Parameter,
}

/// The path templates of the document and the methods each answers, built once.
pub struct PathTable {
    templates: Vec<(Vec<Segment>, Vec<&'static str>)>,
}

/// The order methods are listed in `Allow`.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

impl PathTable {
    pub fn from_spec(spec: &utoipa::openapi::OpenApi) -> PathTable {
        let templates = spec
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let segments = template
                    .split('/')
                    .map(|s| if s.starts_with('{') && s.ends_with('}') { Segment::Parameter } else { Segment::Literal(s.to_owned()) })
                    .collect();
                let present = [item.get.is_some(), item.post.is_some(), item.put.is_some(), item.patch.is_some(), item.delete.is_some()];
                let methods = METHODS.iter().zip(present).filter(|(_, p)| *p).map(|(m, _)| *m).collect();
                (segments, methods)
            })
            .collect();
        PathTable { templates }
    }

    /// The methods `path` answers to (in `Allow` order), empty when no template matches it.
    pub fn allowed(&self, path: &str) -> Vec<&'static str> {
        let parts: Vec<&str> = path.split('/').collect();
        let mut allowed: Vec<&'static str> = Vec::new();
        for (segments, methods) in &self.templates {
            let matches = segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(segment, part)| match segment {
                    Segment::Literal(literal) => literal == part,
                    Segment::Parameter => !part.is_empty(),
                });
            if matches {
                for method in methods {
                    if !allowed.contains(method) {
                        allowed.push(method);
                    }
                }
            }
        }
        allowed.sort_by_key(|m| METHODS.iter().position(|x| x == m));
        allowed
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_templates_segment_by_segment() {
        let table = PathTable::from_spec(&crate::openapi::spec());
        assert_eq!(table.allowed("/api/v1/facilities"), ["GET", "POST"]);
        assert_eq!(table.allowed("/api/v1/facilities/12"), ["GET", "PATCH"]);
        assert_eq!(table.allowed("/health"), ["GET"]);
        assert!(table.allowed("/api/v1/facilities/12/nothing").is_empty());
        assert!(table.allowed("/api/v1/facilities/").is_empty());
        assert!(table.allowed("/nowhere").is_empty());
    }
}

//! The operations of the OpenAPI document by method and path template: the methods a path
//! answers (for 405 `Allow`) and the operation a matched route is (for the policy).

use std::collections::HashMap;

enum Segment {
    Literal(String),
    Parameter,
}

/// The path templates of the document, the methods each answers and the operation of
/// each, built once.
pub struct PathTable {
    templates: Vec<(Vec<Segment>, Vec<&'static str>)>,
    operations: HashMap<(String, String), String>,
}

/// The order methods are listed in `Allow`.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

impl PathTable {
    pub fn from_spec(spec: &utoipa::openapi::OpenApi) -> PathTable {
        let mut operations = HashMap::new();
        for (template, item) in &spec.paths.paths {
            let ops = [("GET", &item.get), ("POST", &item.post), ("PUT", &item.put), ("PATCH", &item.patch), ("DELETE", &item.delete)];
            for (method, op) in ops {
                if let Some(id) = op.as_ref().and_then(|o| o.operation_id.clone()) {
                    operations.insert((method.to_owned(), template.clone()), id);
                }
            }
        }
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
        PathTable { templates, operations }
    }

    /// The `operationId` of `method` on the route template `template` (as actix matched it).
    pub fn operation(&self, method: &str, template: &str) -> Option<&str> {
        self.operations.get(&(method.to_owned(), template.to_owned())).map(String::as_str)
    }

    /// The `operationId` of `method` on a concrete `path` (`/api/v1/facilities/12`).
    pub fn resolve(&self, method: &str, path: &str) -> Option<&str> {
        let parts: Vec<&str> = path.split('/').collect();
        self.operations.iter().find_map(|((m, template), id)| {
            let segments: Vec<&str> = template.split('/').collect();
            let matches = m == method
                && segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(s, p)| if s.starts_with('{') && s.ends_with('}') { !p.is_empty() } else { s == p });
            matches.then_some(id.as_str())
        })
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
        assert_eq!(table.operation("POST", "/api/v1/facilities/{id}/dispensings"), Some("record_dispensings"));
        assert_eq!(table.operation("DELETE", "/api/v1/facilities/{id}/dispensings"), None);
        assert_eq!(table.resolve("GET", "/api/v1/facilities/12"), Some("get_facility"));
        assert_eq!(table.resolve("GET", "/api/v1/countries/KZ/regions"), Some("list_regions"));
        assert_eq!(table.resolve("PUT", "/api/v1/facilities/12"), None);
    }
}

//! The operations of the OpenAPI document by method and path template: the methods a path
//! answers (for 405 `Allow`) and the operation a matched route is (for the policy).

use std::collections::HashMap;

enum Segment {
    Literal(String),
    Parameter,
}

/// One path template of the document and the methods it answers.
struct Template {
    template: String,
    segments: Vec<Segment>,
    methods: Vec<&'static str>,
}

impl Template {
    fn matches(&self, parts: &[&str]) -> bool {
        self.segments.len() == parts.len()
            && self.segments.iter().zip(parts).all(|(segment, part)| match segment {
                Segment::Literal(literal) => literal == part,
                Segment::Parameter => !part.is_empty(),
            })
    }
}

/// The path templates of the document, the methods each answers and the operation of
/// each, built once.
pub struct PathTable {
    templates: Vec<Template>,
    /// `(method, template)` to `operationId`, for the route a request matched.
    operations: HashMap<(String, String), String>,
}

/// The order methods are listed in `Allow`.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

impl PathTable {
    pub fn from_spec(spec: &utoipa::openapi::OpenApi) -> PathTable {
        let mut operations = HashMap::new();
        let mut templates = Vec::new();
        for (template, item) in &spec.paths.paths {
            let ops = [&item.get, &item.post, &item.put, &item.patch, &item.delete];
            let mut methods = Vec::new();
            for (method, op) in METHODS.iter().zip(ops) {
                let Some(op) = op else { continue };
                methods.push(*method);
                if let Some(id) = &op.operation_id {
                    operations.insert(((*method).to_owned(), template.clone()), id.clone());
                }
            }
            let segments = template
                .split('/')
                .map(|s| if s.starts_with('{') && s.ends_with('}') { Segment::Parameter } else { Segment::Literal(s.to_owned()) })
                .collect();
            templates.push(Template { template: template.clone(), segments, methods });
        }
        PathTable { templates, operations }
    }

    /// The `operationId` of `method` on the route template `template` (as actix matched it).
    pub fn operation(&self, method: &str, template: &str) -> Option<&str> {
        self.operations.get(&(method.to_owned(), template.to_owned())).map(String::as_str)
    }

    /// The templates the segments of a concrete path (`/api/v1/facilities/12`) match.
    fn matching<'a>(&'a self, parts: &'a [&'a str]) -> impl Iterator<Item = &'a Template> {
        self.templates.iter().filter(move |t| t.matches(parts))
    }

    /// The `operationId` of `method` on a concrete `path`.
    pub fn resolve(&self, method: &str, path: &str) -> Option<&str> {
        let parts: Vec<&str> = path.split('/').collect();
        self.matching(&parts).find_map(|t| self.operation(method, &t.template))
    }

    /// The methods `path` answers to (in `Allow` order), empty when no template matches it.
    pub fn allowed(&self, path: &str) -> Vec<&'static str> {
        let parts: Vec<&str> = path.split('/').collect();
        let mut allowed: Vec<&'static str> = Vec::new();
        for method in self.matching(&parts).flat_map(|t| t.methods.iter()) {
            if !allowed.contains(method) {
                allowed.push(method);
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

//! The served OpenAPI document is a contract client generators rely on: every check here
//! reads the document the server serves and compares it with what the server does.

use std::collections::{BTreeMap, BTreeSet};

use awc::http::Method;
use serde_json::{Value, json};

use tarozi::app::policy;
use tarozi::db::enums::Role;

use crate::helpers::TestApp;

async fn served_document(app: &TestApp) -> Value {
    app.request(Method::GET, "/openapi.json", None, None).await.expect(200).body
}

/// Every `(method, path template, operation)` of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                out.push((method.clone(), path.clone(), op.clone()));
            }
        }
    }
    out
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected $ref {r}"));
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

fn walk<'a>(value: &'a Value, at: &str, visit: &mut dyn FnMut(&str, &'a Value)) {
    visit(at, value);
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| walk(v, &format!("{at}/{k}"), visit)),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| walk(v, &format!("{at}/{i}"), visit)),
        _ => {}
    }
}

fn template_variables(path: &str) -> BTreeSet<String> {
    path.split('{').skip(1).filter_map(|s| s.split_once('}')).map(|(name, _)| name.to_owned()).collect()
}

/// A concrete path for a template: ids 1, periods a month, codes a country.
fn concrete(path: &str) -> String {
    let mut out = path.to_owned();
    for var in template_variables(path) {
        let value = match var.as_str() {
            "period" => "2025-01",
            "code" => "KZ",
            _ => "1",
        };
        out = out.replace(&format!("{{{var}}}"), value);
    }
    out
}

#[actix_web::test]
async fn every_reference_resolves_and_every_parameter_sits_where_the_server_reads_it() {
    let app = TestApp::spawn().await;
    let doc = served_document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut dangling = Vec::new();
    walk(&doc, "", &mut |at, v| {
        if let Some(r) = v.get("$ref").and_then(Value::as_str)
            && !r.strip_prefix("#/components/schemas/").is_some_and(|name| schemas.contains_key(name))
        {
            dangling.push(format!("{at}: {r}"));
        }
    });
    assert!(dangling.is_empty(), "references to schemas the document lacks: {dangling:#?}");

    for (method, path, op) in operations(&doc) {
        let vars = template_variables(&path);
        let mut declared = BTreeSet::new();
        for p in op["parameters"].as_array().cloned().unwrap_or_default() {
            let name = p["name"].as_str().unwrap().to_owned();
            match p["in"].as_str().unwrap() {
                "path" => {
                    assert!(vars.contains(&name), "{method} {path}: `{name}` is declared in the path, which does not hold it");
                    assert_eq!(p["required"], true, "{method} {path}: path parameter `{name}` must be required");
                    declared.insert(name);
                }
                "query" | "header" => {}
                other => panic!("{method} {path}: parameter `{name}` in {other}"),
            }
        }
        assert_eq!(declared, vars, "{method} {path}: every template variable is a path parameter");
        // The server sends every problem as application/problem+json.
        for (status, response) in op["responses"].as_object().unwrap() {
            for (media, content) in response["content"].as_object().cloned().unwrap_or_default() {
                if content["schema"]["$ref"] == "#/components/schemas/ProblemDocument" {
                    assert_eq!(media, "application/problem+json", "{method} {path} {status}: a problem documented as {media}");
                }
            }
        }
    }
}

#[actix_web::test]
async fn every_enum_lists_exactly_the_values_the_server_writes_and_reads() {
    let app = TestApp::spawn().await;
    let doc = served_document(&app).await;
    let vocabularies: BTreeMap<&str, BTreeSet<String>> =
        tarozi::openapi::vocabularies().into_iter().map(|(name, values)| (name, values.into_iter().collect())).collect();
    let mut seen = 0;
    walk(&doc, "", &mut |at, v| {
        let Some(values) = v.get("enum").and_then(Value::as_array) else { return };
        seen += 1;
        let values: BTreeSet<String> =
            values.iter().map(|x| x.as_str().unwrap_or_else(|| panic!("{at}: non-string enum value {x}")).to_owned()).collect();
        match at.strip_prefix("/components/schemas/") {
            Some(name) => {
                let expected = vocabularies.get(name).unwrap_or_else(|| panic!("enum schema {name} has no Rust vocabulary"));
                assert_eq!(&values, expected, "enum schema {name}");
            }
            None => assert!(vocabularies.values().any(|e| *e == values), "{at}: inline enum {values:?} matches no Rust vocabulary"),
        }
    });
    assert!(seen >= vocabularies.len(), "every vocabulary appears in the document");
    // The server reads what it writes: a value of the document is accepted where the
    // document offers it (`kind` of a facility list), one outside it is refused naming it.
    let admin = app.admin();
    for kind in &vocabularies["FacilityKind"] {
        app.get(&format!("/api/v1/facilities?kind={kind}"), &admin).await.expect(200);
    }
    let refused = app.get("/api/v1/facilities?kind=Pharmacy", &admin).await.expect(422);
    assert_eq!(refused.body["errors"][0]["parameter"], "kind", "{}", refused.text);
}

#[actix_web::test]
async fn a_required_query_parameter_is_one_the_server_cannot_do_without() {
    let app = TestApp::spawn().await;
    let doc = served_document(&app).await;
    let admin = app.admin();
    let mut checked = 0;
    for (method, path, op) in operations(&doc) {
        if method != "get" || path.contains('{') {
            continue;
        }
        let required: Vec<String> = op["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p["in"] == "query" && p["required"] == true)
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        if required.is_empty() {
            continue;
        }
        let r = app.get(&concrete(&path), &admin).await;
        assert_eq!(r.status, 422, "GET {path} without its required {required:?}: {}", r.text);
        let named: Vec<&str> = r.body["errors"].as_array().unwrap().iter().filter_map(|e| e["parameter"].as_str()).collect();
        assert!(named.iter().any(|n| required.iter().any(|q| q == n)), "GET {path}: the problem names {named:?}, not {required:?}");
        checked += 1;
    }
    assert!(checked > 5, "only {checked} operations with required query parameters");
}

#[actix_web::test]
async fn unknown_body_fields_are_refused_exactly_where_the_document_says_so() {
    let app = TestApp::spawn().await;
    let doc = served_document(&app).await;
    // Each operation is called by a role the policy grants it: others are refused before
    // their body is read.
    let region = app.region("KZ", "Almaty").await;
    let pharmacy = app.facility(region, tarozi::db::enums::FacilityKind::Pharmacy, "Pharmacy").await;
    let wholesaler = app.facility(region, tarozi::db::enums::FacilityKind::Wholesaler, "Wholesaler").await;
    let users = [
        (Role::Admin, app.admin()),
        (Role::Regulator, app.regulator("KZ")),
        (Role::Ministry, app.ministry("KZ")),
        (Role::Wholesaler, app.facility_user(&wholesaler)),
        (Role::Pharmacy, app.facility_user(&pharmacy)),
        (Role::Regional, app.regional()),
        (Role::Exchange, app.user(Role::Exchange, Some("KZ"), None)),
    ];
    let mut checked = 0;
    for (method, path, op) in operations(&doc) {
        let Some(schema) = op["requestBody"]["content"]["application/json"].get("schema") else { continue };
        let closed = resolve(&doc, schema).get("additionalProperties") == Some(&Value::Bool(false));
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let access = policy::access_of(op["operationId"].as_str().unwrap()).unwrap();
        let token = users.iter().find(|(role, _)| access.scope_of(*role).is_some()).map(|(_, u)| u.token.clone());
        let r = app.request(method.clone(), &concrete(&path), token.as_deref(), Some(&json!({"zz_not_a_field": 1}))).await;
        let refused = r.status == 422 && r.pointers().iter().any(|p| p == "/zz_not_a_field");
        assert_eq!(refused, closed, "{method} {path}: document says additionalProperties false = {closed}; server answered {}", r.text);
        checked += 1;
    }
    assert!(checked > 20, "only {checked} request bodies checked");
}

//! Request extractors that turn every bad input into a problem naming the field:
//! `JsonBody<T>` (body, with a fingerprint for idempotency) and `QueryParams<T>`.
//! Syntax errors are 400 `malformed_json`; wrong types, unknown or missing fields and
//! `validator` failures are 422 `validation_failed` with JSON pointers.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::app::error::{AppError, AppResult, DomainError, FieldError, ProblemCode};

/// Largest accepted body: a batch of 10 000 dispensing records fits with room to spare.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Largest body of every other request (login, single writes).
pub const DEFAULT_BODY_BYTES: usize = 64 * 1024;

/// A parsed and shape-validated JSON body of at most `LIMIT` bytes (413 beyond). `WHOLE` is
/// false for a body whose parts are parsed later one by one (a dispensing batch): NUL
/// characters are then refused part by part, so one record holding one never refuses the
/// batch.
pub struct JsonBody<T, const LIMIT: usize = DEFAULT_BODY_BYTES, const WHOLE: bool = true> {
    pub value: T,
    /// SHA-256 of method, path and body bytes: what an idempotency key is bound to.
    pub fingerprint: [u8; 32],
}

/// A JSON pointer from a serde path (`records[3].quantity_units` -> `/records/3/quantity_units`).
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        out.push('/');
        match segment {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => out.push_str(variant),
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

/// Serde's message, with a missing field's name moved into the pointer.
fn data_error(pointer: String, message: &str) -> FieldError {
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some(field) = rest.split('`').next()
    {
        return FieldError::at(format!("{pointer}/{field}"), "is required");
    }
    let message = message.split(" at line ").next().unwrap_or(message);
    FieldError::at(if pointer.is_empty() { "/".to_owned() } else { pointer }, message)
}

const NUL_DETAIL: &str = "must not contain the NUL character (U+0000)";

/// The pointer of the first string (or member name) in `bytes` holding a NUL character,
/// which PostgreSQL text cannot store. JSON can only carry one escaped, so bodies without
/// the escape `\u0000` are not parsed twice.
fn nul_pointer(bytes: &[u8]) -> Option<String> {
    let escaped = bytes.iter().enumerate().any(|(i, b)| *b == b'\\' && bytes[i..].starts_with(b"\\u0000"));
    if !escaped {
        return None;
    }
    fn find(value: &serde_json::Value, at: &str) -> Option<String> {
        match value {
            serde_json::Value::String(s) => s.contains('\0').then(|| if at.is_empty() { "/".to_owned() } else { at.to_owned() }),
            serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| find(v, &format!("{at}/{i}"))),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
                let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                if k.contains('\0') { Some(here) } else { find(v, &here) }
            }),
            _ => None,
        }
    }
    find(&serde_json::from_slice(bytes).ok()?, "")
}

/// Parses JSON text into `T`, reporting the failing field's pointer; a NUL character in
/// any string is refused.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DomainError> {
    if let Some(pointer) = nul_pointer(bytes) {
        return Err(DomainError::field(pointer, NUL_DETAIL));
    }
    parse_json_parts(bytes)
}

/// Parses JSON text whose parts are parsed later, one by one, with `parse_json` (a batch's
/// records, as raw values): their NUL characters are refused there, part by part.
fn parse_json_parts<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DomainError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let pointer = pointer_of(e.path());
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => DomainError::validation(vec![data_error(pointer, &inner.to_string())]),
            _ => DomainError::new(ProblemCode::MalformedJson, format!("the body is not valid JSON: {inner}")),
        }
    })?;
    de.end().map_err(|e| DomainError::new(ProblemCode::MalformedJson, format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// Flattens `validator` errors into field errors under `prefix` (a JSON pointer).
pub fn field_errors(prefix: &str, errors: &ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    collect(prefix, errors, &mut out);
    out.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    out
}

fn collect(prefix: &str, errors: &ValidationErrors, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let pointer = if field == "__all__" { prefix.to_owned() } else { format!("{prefix}/{field}") };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let detail = match &e.message {
                        Some(m) => m.to_string(),
                        None => describe(e),
                    };
                    out.push(FieldError::at(pointer.clone(), detail));
                }
            }
            ValidationErrorsKind::Struct(inner) => collect(&pointer, inner, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    collect(&format!("{pointer}/{i}"), inner, out);
                }
            }
        }
    }
}

fn describe(e: &validator::ValidationError) -> String {
    let param = |name: &str| e.params.get(name).map(|v| v.to_string());
    match e.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must have {min} to {max} characters or items"),
            (Some(min), None) => format!("must have at least {min} characters or items"),
            (None, Some(max)) => format!("must have at most {max} characters or items"),
            _ => "has the wrong length".to_owned(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "is out of range".to_owned(),
        },
        code => format!("is invalid ({code})"),
    }
}

/// 422 if `value` fails its `validator` rules.
pub fn validate<T: Validate>(value: &T) -> Result<(), DomainError> {
    value.validate().map_err(|e| DomainError::validation(field_errors("", &e)))
}

fn is_json(req: &HttpRequest) -> bool {
    match req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(ct) => {
            let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            essence == "application/json" || essence.ends_with("+json")
        }
    }
}

impl<T: DeserializeOwned + Validate + 'static, const LIMIT: usize, const WHOLE: bool> FromRequest for JsonBody<T, LIMIT, WHOLE> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = web::Payload::from_request(&req, payload);
        Box::pin(async move {
            let body = read_json::<T, LIMIT, WHOLE>(&req, payload).await;
            if body.is_err() {
                crate::auth::caller::authorize(&req).await?;
            }
            body
        })
    }
}

/// Reads, parses and validates the body of `req`.
async fn read_json<T: DeserializeOwned + Validate, const LIMIT: usize, const WHOLE: bool>(
    req: &HttpRequest,
    payload: impl Future<Output = Result<web::Payload, actix_web::Error>>,
) -> AppResult<JsonBody<T, LIMIT, WHOLE>> {
    if !is_json(req) {
        return Err(DomainError::new(ProblemCode::UnsupportedMediaType, "send the body as application/json").into());
    }
    let too_large = || DomainError::new(ProblemCode::PayloadTooLarge, format!("the body could not be read or is larger than {LIMIT} bytes"));
    let payload = payload.await.map_err(|_| too_large())?;
    let body = payload.to_bytes_limited(LIMIT).await.map_err(|_| too_large())?.map_err(|_| too_large())?;
    // An empty body is an empty object: optional-only requests may send nothing.
    let bytes: &[u8] = if body.is_empty() { b"{}" } else { &body };
    let value: T = if WHOLE { parse_json(bytes)? } else { parse_json_parts(bytes)? };
    validate(&value)?;
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(req.path().as_bytes());
    hasher.update(b"\n");
    hasher.update(&body);
    Ok(JsonBody { value, fingerprint: hasher.finalize().into() })
}

/// Middleware: a path holding an encoded NUL (`%00`) names no resource (404), before any
/// handler hands the segment to the database, which cannot store NUL.
pub async fn refuse_nul_in_path(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let path = req.uri().path();
    if path.contains("%00") || path.contains('\0') {
        return Ok(req.into_response(crate::error::respond(&DomainError::not_found("resource at this path"))));
    }
    next.call(req).await.map(actix_web::dev::ServiceResponse::map_into_boxed_body)
}

/// Parsed and validated query parameters.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for QueryParams<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = parse_query(req.query_string());
        let req = req.clone();
        Box::pin(async move {
            match parsed {
                Ok(value) => Ok(QueryParams(value)),
                Err(e) => {
                    crate::auth::caller::authorize(&req).await?;
                    Err(e.into())
                }
            }
        })
    }
}

pub fn parse_query<T: DeserializeOwned + Validate>(query: &str) -> Result<T, DomainError> {
    if let Some((name, _)) = form_urlencoded_parse(query).find(|(k, v)| k.contains('\0') || v.contains('\0')) {
        return Err(DomainError::parameter(name.replace('\0', ""), NUL_DETAIL));
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
    let value: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let name = e.path().to_string();
        let message = e.into_inner().to_string();
        if let Some(rest) = message.strip_prefix("missing field `")
            && let Some(field) = rest.split('`').next()
        {
            return DomainError::parameter(field, "is required");
        }
        if let Some(rest) = message.strip_prefix("unknown field `")
            && let Some(field) = rest.split('`').next()
        {
            return DomainError::parameter(field, message.clone());
        }
        DomainError::parameter(if name == "." { String::new() } else { name }, message)
    })?;
    value.validate().map_err(|e| {
        let errors = field_errors("", &e)
            .into_iter()
            .map(|f| FieldError::parameter(f.pointer.unwrap_or_default().trim_start_matches('/').to_owned(), f.detail))
            .collect();
        DomainError::validation(errors)
    })?;
    Ok(value)
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// The last page a listing serves: 100 000 pages of 1 000 reach 10^8 rows, past every list
/// here, and keep the offset far from overflowing.
pub const MAX_PAGE: i64 = 100_000;

/// `page` and `per_page` of a listing (defaults 1 and 50; at most 1000 per page and
/// `MAX_PAGE` pages).
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub page: i64,
    pub per_page: i64,
}

impl Page {
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Result<Page, DomainError> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(50);
        if !(1..=MAX_PAGE).contains(&page) {
            return Err(DomainError::parameter("page", format!("must be between 1 and {MAX_PAGE}")));
        }
        if !(1..=1000).contains(&per_page) {
            return Err(DomainError::parameter("per_page", "must be between 1 and 1000"));
        }
        Ok(Page { page, per_page })
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    pub fn limit(&self) -> i64 {
        self.per_page
    }
}

//! Request ids, structured logging and Prometheus metrics for every request.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use tracing::Instrument;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// What an error response needs to know about the request it answers.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub path: String,
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

impl RequestContext {
    /// The context of the request being served on this task, if any.
    pub fn current() -> Option<RequestContext> {
        CONTEXT.try_with(Clone::clone).ok()
    }
}

/// The request id of a request, stored in its extensions by [`observe`].
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn accept_client_request_id(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    let ok = !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| s.to_owned())
}

/// Middleware: assigns a request id (or keeps a well-formed client one), runs the request
/// inside a tracing span carrying it, echoes it in `X-Request-Id`, logs one line per request
/// and records the request in the metrics.
pub async fn observe(req: ServiceRequest, next: Next<impl MessageBody>) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = req.headers().get(REQUEST_ID_HEADER).and_then(accept_client_request_id).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().to_string();
    let method_label = method_label(req.method());
    let path = req.path().to_owned();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let span = tracing::info_span!("request", request_id = %request_id, method = %method, path = %path);
    let context = RequestContext { request_id: request_id.clone(), path };
    let started = Instant::now();
    let result = CONTEXT.scope(context, next.call(req)).instrument(span.clone()).await;
    let elapsed = started.elapsed().as_secs_f64();
    let mut response = result?;
    let status = response.status().as_u16();
    let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    if let Some(metrics) = metrics {
        metrics.observe(method_label, &route, status, elapsed);
    }
    span.in_scope(|| tracing::info!(status, route = %route, elapsed_ms = elapsed * 1000.0, "request served"));
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(response)
}

/// The method as a metrics label: the standard methods by name, any other (invented) one as
/// `other`, so clients cannot add series at will. Routes are labelled by their template
/// (or `unmatched`), statuses are a small fixed set: the series stay bounded.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Request counts and latency histograms by method, route pattern and status.
#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(&'static str, String, u16), Series>>,
}

impl Metrics {
    pub fn observe(&self, method: &'static str, route: &str, status: u16, seconds: f64) {
        let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let s = series.entry((method, route.to_owned(), status)).or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                s.buckets[i] += 1;
            }
        }
    }

    /// The Prometheus text exposition of all series.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str("# HELP tarozi_http_requests_total HTTP requests served.\n# TYPE tarozi_http_requests_total counter\n");
        for ((method, route, status), s) in series.iter() {
            let _ = writeln!(out, "tarozi_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}", s.count);
        }
        out.push_str("# HELP tarozi_http_request_duration_seconds HTTP request latency.\n# TYPE tarozi_http_request_duration_seconds histogram\n");
        for ((method, route, status), s) in series.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(out, "tarozi_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}", s.buckets[i]);
            }
            let _ = writeln!(out, "tarozi_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "tarozi_http_request_duration_seconds_sum{{{labels}}} {}", s.sum);
            let _ = writeln!(out, "tarozi_http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
        out
    }
}

/// Installs the global tracing subscriber: JSON lines unless `TAROZI_LOG_FORMAT=text`.
pub fn init_logging(format_text: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TAROZI_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    init_logging_to(format_text, filter, std::io::stderr);
}

/// Installs the global tracing subscriber writing to `writer` (tests capture the service's
/// log this way). False if a global subscriber was already installed.
pub fn init_logging_to<W>(format_text: bool, filter: tracing_subscriber::EnvFilter, writer: W) -> bool
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    let installed = if format_text { builder.try_init() } else { builder.json().flatten_event(true).with_current_span(true).try_init() };
    installed.is_ok()
}

/// Runs `f` (on a blocking thread) with `context` as the current request context.
pub fn with_context<T>(context: RequestContext, f: impl FnOnce() -> T) -> T {
    CONTEXT.sync_scope(context, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::OPTIONS), "OPTIONS");
        assert_eq!(method_label(&Method::from_bytes(b"FOOBAR").unwrap()), "other");
        assert_eq!(method_label(&Method::CONNECT), "other");
    }
}

//! The headers every answer carries, and the browser's reports of what they blocked.
//!
//! The Content-Security-Policy is the one the app runs under: its own scripts and the
//! WebAssembly they compile, nothing inline, nothing from elsewhere, never in a frame. A page
//! that tries anything else (an injected script, a style attribute, a foreign image) is blocked
//! by the browser, which reports it to `POST /api/v1/csp-report`: the report is counted and
//! logged by its directive only (a blocked address may carry a family's name in its query).

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::{AppError, AppState};

/// The policy of every answer (pages, files, API, errors).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
     script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; \
     img-src 'self'; \
     connect-src 'self'; \
     object-src 'none'; \
     base-uri 'none'; \
     form-action 'self'; \
     frame-ancestors 'none'; \
     report-uri /api/v1/csp-report";

/// Powerful features the app never uses, refused to it and to anything injected into it.
pub const PERMISSIONS_POLICY: &str = "camera=(), microphone=(), geolocation=(), payment=(), \
     usb=(), serial=(), bluetooth=(), hid=(), midi=(), display-capture=(), \
     browsing-topics=()";

/// HTTPS answers only: browsers that once reached the server over HTTPS never try plain HTTP
/// again for a year (a worker in a café cannot be sent to an impostor's plain page).
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// A CSP report is a few hundred bytes.
pub const MAX_REPORT_BYTES: usize = 16 * 1024;

/// Marks a request that arrived over TLS (set by the listener, read for HSTS).
#[derive(Debug, Clone, Copy)]
pub struct OverTls;

/// How many policy violations browsers reported since the server started.
#[derive(Debug, Default)]
pub struct CspReports(AtomicU64);

impl CspReports {
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// The count, started again from zero.
    pub fn take(&self) -> u64 {
        self.0.swap(0, Ordering::Relaxed)
    }
}

/// Adds the security headers to every answer (a handler's own value wins where it set one).
pub async fn headers(request: Request, next: Next) -> Response {
    let over_tls = request.extensions().get::<OverTls>().is_some();
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        h.entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::REFERRER_POLICY, "no-referrer");
    set(
        HeaderName::from_static("permissions-policy"),
        PERMISSIONS_POLICY,
    );
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    if over_tls {
        set(header::STRICT_TRANSPORT_SECURITY, STRICT_TRANSPORT_SECURITY);
    }
    response
}

/// `POST /api/v1/csp-report`: a browser's report of a blocked load or script (the body of
/// `report-uri`, `application/csp-report`, or of the Reporting API, a JSON array).
pub async fn report(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, AppError> {
    let body = body.map_err(AppError::from_body)?;
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| AppError::BadRequest(format!("a CSP report is JSON: {e}")))?;
    let found = directives(&value);
    if found.is_empty() {
        return Err(AppError::BadRequest(
            "no CSP violation in this report".to_owned(),
        ));
    }
    for (directive, blocked) in found {
        let n = state.csp_reports.0.fetch_add(1, Ordering::Relaxed) + 1;
        // Anyone may post reports: a flood of them does not flood the log as well.
        if n <= 20 || n.is_power_of_two() {
            tracing::warn!(
                directive,
                blocked,
                reports = n,
                "a browser blocked what the CSP forbids"
            );
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The violated directive and the kind of what was blocked (`inline`, `eval`, a scheme or
/// `self`; never the address itself) of each report in `value`.
fn directives(value: &serde_json::Value) -> Vec<(String, &'static str)> {
    let one = |body: &serde_json::Value, directive: &str, blocked: &str| {
        let directive = body.get(directive)?.as_str()?;
        let directive: String = directive
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(40)
            .collect();
        let blocked = body.get(blocked).and_then(|b| b.as_str()).unwrap_or("");
        Some((directive, kind_of(blocked)))
    };
    match value {
        serde_json::Value::Array(reports) => reports
            .iter()
            .filter_map(|r| one(r.get("body")?, "effectiveDirective", "blockedURL"))
            .collect(),
        _ => value
            .get("csp-report")
            .and_then(|r| {
                one(r, "effective-directive", "blocked-uri")
                    .or_else(|| one(r, "violated-directive", "blocked-uri"))
            })
            .into_iter()
            .collect(),
    }
}

fn kind_of(blocked: &str) -> &'static str {
    match blocked {
        "inline" => "inline",
        "eval" => "eval",
        "wasm-eval" => "wasm-eval",
        "" => "none",
        b if b.starts_with("data:") => "data",
        b if b.starts_with("blob:") => "blob",
        b if b.starts_with("https:") => "https",
        b if b.starts_with("http:") => "http",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_read_by_directive_and_kind_only() {
        let legacy = serde_json::json!({"csp-report": {
            "document-uri": "https://cris.example/cases/1",
            "violated-directive": "script-src-elem",
            "effective-directive": "script-src-elem",
            "blocked-uri": "inline",
        }});
        assert_eq!(
            directives(&legacy),
            vec![("script-src-elem".to_owned(), "inline")]
        );
        let reporting = serde_json::json!([{
            "type": "csp-violation",
            "body": {"effectiveDirective": "img-src", "blockedURL": "https://elsewhere.example/x?name=Ayse"},
        }]);
        assert_eq!(
            directives(&reporting),
            vec![("img-src".to_owned(), "https")]
        );
        // A directive with more than a name in it keeps the name only.
        let odd = serde_json::json!({"csp-report": {"violated-directive": "style-src 'self'"}});
        assert_eq!(directives(&odd), vec![("style-src".to_owned(), "none")]);
        assert!(directives(&serde_json::json!({"something": 1})).is_empty());
    }
}

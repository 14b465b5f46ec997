//! The server's API as the phone calls it, through the browser's `fetch`. Requests and
//! answers are the types of `cris_core`, the same the server uses.

use cris_core::api::{
    ApiError, ConsentSetup, Dashboard, ErrorCode, ExportList, Inbox, LoginRequest, LoginResponse,
    ReviewDetail, ReviewOutcome, ReviewPage, ReviewRequest,
};
use cris_core::record::Operation;
use cris_core::sync::{PullResponse, PushRequest, PushResponse};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

/// Why a call did not give an answer to use.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// No connection to the server (or it did not answer).
    Offline,
    /// The session has ended: log in again.
    Unauthorized,
    /// The login and password do not match.
    WrongLogin,
    /// The account is disabled.
    Disabled,
    /// This device was revoked (reported lost or stolen): it wipes what it holds.
    DeviceRevoked,
    /// Too many wrong passwords: the next try is let in after this many minutes.
    Throttled(u32),
    /// The server answered with an error, named by its code (its English message is for
    /// programs; the phone words the code in the worker's language).
    Refused(ErrorCode),
    /// No answer the phone can read: a proxy's page, an HTTP status without a CRIS error
    /// (`Some(status)`), or a request the browser could not make (`None`).
    Broken(Option<u16>),
}

/// One request to the server (same origin): `body` is JSON, gzipped when `gzip` says so.
async fn call(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(Vec<u8>, bool)>,
) -> Result<Response, Failure> {
    call_as(method, path, token, body, "application/json").await
}

/// [`call`] with a body of the type `kind`.
async fn call_as(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(Vec<u8>, bool)>,
    kind: &str,
) -> Result<Response, Failure> {
    let broken = |_: JsValue| Failure::Broken(None);
    let headers = Headers::new().map_err(broken)?;
    if let Some(token) = token {
        headers
            .set("authorization", &format!("Bearer {token}"))
            .map_err(broken)?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    if let Some((bytes, gzipped)) = body {
        headers.set("content-type", kind).map_err(broken)?;
        if gzipped {
            headers.set("content-encoding", "gzip").map_err(broken)?;
        }
        init.set_body(&js_sys::Uint8Array::from(bytes.as_slice()));
    }
    init.set_headers(&headers);
    let request = Request::new_with_str_and_init(path, &init).map_err(broken)?;
    let window = web_sys::window().ok_or(Failure::Offline)?;
    let response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| Failure::Offline)?;
    response.dyn_into().map_err(broken)
}

async fn text(response: &Response) -> Option<String> {
    JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()
}

/// JSON text into `T`, with serde_json as records read from IndexedDB (one copy of each
/// type's decoder in the wasm, not two).
fn parse<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_slice(text.as_bytes()).ok()
}

/// The answer read as `T`, or what went wrong in terms the phone acts on.
async fn answer<T: DeserializeOwned>(sent: Result<Response, Failure>) -> Result<T, Failure> {
    let (body, status) = answer_text(sent).await?;
    parse(&body).ok_or(Failure::Broken(Some(status)))
}

/// The body of a successful answer as it came, with its status, or what went wrong.
async fn answer_text(sent: Result<Response, Failure>) -> Result<(String, u16), Failure> {
    let response = sent?;
    let status = response.status();
    let retry_after_s: Option<u32> = response
        .headers()
        .get("retry-after")
        .ok()
        .flatten()
        .and_then(|s| s.trim().parse().ok());
    let body = text(&response).await;
    if response.ok() {
        return Ok((body.ok_or(Failure::Offline)?, status));
    }
    let error: Option<ApiError> = body.and_then(|b| parse(&b));
    Err(match error {
        Some(e) if e.code == ErrorCode::Unauthorized => Failure::Unauthorized,
        Some(e) if e.code == ErrorCode::AccountDisabled => Failure::Disabled,
        Some(e) if e.code == ErrorCode::DeviceRevoked => Failure::DeviceRevoked,
        Some(e) if e.code == ErrorCode::TooManyAttempts => {
            Failure::Throttled(retry_after_s.unwrap_or(60).div_ceil(60).max(1))
        }
        // A request that reached the server too slowly: as if there were no signal.
        Some(e) if e.code == ErrorCode::RequestTimeout => Failure::Offline,
        Some(e) => Failure::Refused(e.code),
        // A proxy's page or a server that is starting: not an answer from CRIS.
        None if status >= 500 => Failure::Offline,
        None => Failure::Broken(Some(status)),
    })
}

/// `value` as JSON bytes, with serde_json as records written to IndexedDB.
fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, Failure> {
    serde_json::to_vec(value).map_err(|_| Failure::Broken(None))
}

pub async fn login(request: &LoginRequest) -> Result<LoginResponse, Failure> {
    let sent = call(
        "POST",
        "/api/v1/session",
        None,
        Some((json(request)?, false)),
    )
    .await;
    answer(sent).await.map_err(|f| match f {
        Failure::Unauthorized => Failure::WrongLogin,
        other => other,
    })
}

/// Ends the session on the server. An offline phone forgets its token all the same.
/// An administrator revokes a device (from the overview).
pub async fn revoke_device(token: &str, device_id: &str) -> Result<(), Failure> {
    let path = format!(
        "/api/v1/devices/{}/revoke",
        js_sys::encode_uri_component(device_id)
    );
    match call("POST", &path, Some(token), None).await {
        Ok(response) if response.status() == 204 => Ok(()),
        other => answer::<serde_json::Value>(other).await.map(drop),
    }
}

pub async fn logout(token: &str) -> Result<(), Failure> {
    let response = call("DELETE", "/api/v1/session", Some(token), None).await?;
    match response.status() {
        200..=299 | 401 => Ok(()),
        status => Err(Failure::Broken(Some(status))),
    }
}

/// Pushes a batch, gzipped where the browser can.
pub async fn push(token: &str, ops: &[Operation]) -> Result<PushResponse, Failure> {
    let plain = json(&PushRequest {
        ops: ops.iter().collect::<Vec<&Operation>>(),
    })?;
    let body = match super::gzip::compress(&plain).await {
        Some(packed) => (packed, true),
        None => (plain, false),
    };
    answer(call("POST", "/api/v1/ops", Some(token), Some(body)).await).await
}

/// A page, and the server's clock by its `Date` header (to the second), when it sent one.
pub async fn pull(token: &str, since: i64) -> Result<(PullResponse, Option<f64>), Failure> {
    let path = format!("/api/v1/ops?since={since}");
    let response = call("GET", &path, Some(token), None).await?;
    let server_ms = response
        .headers()
        .get("date")
        .ok()
        .flatten()
        .map(|date| js_sys::Date::parse(&date))
        .filter(|ms| ms.is_finite());
    Ok((answer(Ok(response)).await?, server_ms))
}

/// The agency's details and the newest consent texts.
pub async fn consent_setup(token: &str) -> Result<ConsentSetup, Failure> {
    answer(call("GET", "/api/v1/consent-texts", Some(token), None).await).await
}

/// The forms the supervisor sent back to this worker.
pub async fn inbox(token: &str) -> Result<Inbox, Failure> {
    answer(call("GET", "/api/v1/inbox", Some(token), None).await).await
}

/// A page of the review queue; `query` is the query string (`status=new&after=...`).
pub async fn review_queue(token: &str, query: &str) -> Result<ReviewPage, Failure> {
    let path = format!("/api/v1/review?{query}");
    answer(call("GET", &path, Some(token), None).await).await
}

/// The workers of the reviewer's teams, to filter the queue by.
pub async fn review_workers(token: &str) -> Result<cris_core::api::TeamWorkers, Failure> {
    answer(call("GET", "/api/v1/review/workers", Some(token), None).await).await
}

/// A household's log on the server (its own and that of the households merged into it), with
/// who pushed each operation.
pub async fn case_history(
    token: &str,
    case_id: &str,
) -> Result<cris_core::sync::CaseHistory, Failure> {
    let path = format!("/api/v1/cases/{case_id}/history");
    answer(call("GET", &path, Some(token), None).await).await
}

/// The family's copy of everything held about a household (supervisors and admins), in
/// `lang` and German (without `lang`, in the language the family signed in), and the JSON
/// text it came as (the file the family gets).
pub async fn family_copy(
    token: &str,
    case_id: &str,
    lang: Option<cris_core::Lang>,
) -> Result<(cris_core::copy::FamilyCopy, String), Failure> {
    let lang = lang.map_or_else(String::new, |l| format!("?lang={}", l.code()));
    let path = format!("/api/v1/cases/{case_id}/copy{lang}");
    let (text, status) = answer_text(call("GET", &path, Some(token), None).await).await?;
    let copy = parse(&text).ok_or(Failure::Broken(Some(status)))?;
    Ok((copy, text))
}

/// The letter for the service a household was referred to, in `lang`. The server records
/// each letter made, and refuses one the household's consent no longer releases.
pub async fn referral_letter(
    token: &str,
    case_id: &str,
    referral_id: &str,
    lang: cris_core::Lang,
) -> Result<cris_core::referral::ReferralLetter, Failure> {
    let path = format!(
        "/api/v1/cases/{case_id}/referrals/{referral_id}/letter?lang={}",
        lang.code()
    );
    answer(call("GET", &path, Some(token), None).await).await
}

/// Publishes a form (administrators): an XLSForm (`.xlsx`) or a JSON definition. The form
/// served from now on, or every problem the server found, as it wrote them.
pub async fn publish_form(
    token: &str,
    bytes: Vec<u8>,
    xlsx: bool,
) -> Result<Result<cris_core::api::FormSummary, String>, Failure> {
    let kind = if xlsx {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else {
        "application/json"
    };
    let sent = call_as(
        "POST",
        "/api/v1/forms",
        Some(token),
        Some((bytes, false)),
        kind,
    )
    .await?;
    if matches!(sent.status(), 400 | 409) {
        let body = text(&sent).await.unwrap_or_default();
        return match parse::<ApiError>(&body) {
            Some(e) => Ok(Err(e.message)),
            None => Err(Failure::Broken(Some(sent.status()))),
        };
    }
    answer(Ok(sent)).await.map(Ok)
}

pub async fn review_detail(token: &str, submission_id: &str) -> Result<ReviewDetail, Failure> {
    let path = format!("/api/v1/review/{submission_id}");
    answer(call("GET", &path, Some(token), None).await).await
}

pub async fn review_decide(
    token: &str,
    submission_id: &str,
    request: &ReviewRequest,
) -> Result<ReviewOutcome, Failure> {
    let path = format!("/api/v1/review/{submission_id}");
    let body = Some((json(request)?, false));
    answer(call("POST", &path, Some(token), body).await).await
}

/// What erasing a household would remove (administrators).
pub async fn erasure_preview(
    token: &str,
    case_id: &str,
) -> Result<cris_core::api::ErasurePreview, Failure> {
    let path = format!("/api/v1/cases/{case_id}/erasure");
    answer(call("GET", &path, Some(token), None).await).await
}

/// Erases a household on the server (administrators); phones follow at their next sync.
pub async fn erase(
    token: &str,
    case_id: &str,
    request: &cris_core::api::ErasureRequest,
) -> Result<cris_core::api::ErasureDone, Failure> {
    let path = format!("/api/v1/cases/{case_id}/erasure");
    let body = Some((json(request)?, false));
    answer(call("POST", &path, Some(token), body).await).await
}

/// What the supervisor's teams did and where they stand; `query` is the query string
/// (`team=...&weeks=8`).
pub async fn dashboard(token: &str, query: &str) -> Result<Dashboard, Failure> {
    let path = format!("/api/v1/dashboard?{query}");
    answer(call("GET", &path, Some(token), None).await).await
}

/// The exports made from the supervisor's teams, newest first.
pub async fn exports(token: &str) -> Result<ExportList, Failure> {
    answer(call("GET", "/api/v1/exports", Some(token), None).await).await
}

/// A file the server makes (an export): its bytes, as a blob the browser can save, and the
/// name the server gives it; `query` is the query string.
pub async fn export(token: &str, query: &str) -> Result<(web_sys::Blob, String), Failure> {
    let path = format!("/api/v1/export?{query}");
    let response = call("GET", &path, Some(token), None).await?;
    if !response.ok() {
        return Err(answer::<serde_json::Value>(Ok(response))
            .await
            .err()
            .unwrap_or(Failure::Offline));
    }
    let name = response
        .headers()
        .get("content-disposition")
        .ok()
        .flatten()
        .and_then(|d| {
            let (_, rest) = d.split_once("filename=\"")?;
            Some(rest.split('"').next()?.to_owned())
        })
        .unwrap_or_else(|| "cris-export".to_owned());
    let blob = JsFuture::from(response.blob().map_err(|_| Failure::Offline)?)
        .await
        .map_err(|_| Failure::Offline)?;
    Ok((blob.unchecked_into(), name))
}

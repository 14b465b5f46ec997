//! Requests as a phone or a browser sends them, and waiting for what happens later.

use super::*;

/// A GET over HTTP, with the token if one is given.
pub async fn get(server: &TestServer, token: Option<&str>, path: &str) -> reqwest::Response {
    let mut req = server.client.get(server.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

/// The error an answer carries, its status and code checked: its message, to check further.
pub async fn error(
    res: reqwest::Response,
    status: reqwest::StatusCode,
    code: cris_core::api::ErrorCode,
) -> String {
    assert_eq!(res.status(), status);
    let body: cris_core::api::ApiError = res.json().await.unwrap();
    assert_eq!(body.code, code, "{}", body.message);
    body.message
}

/// Sends `body` to the push endpoint as it is.
pub async fn push_raw(
    server: &TestServer,
    token: &str,
    body: &serde_json::Value,
) -> reqwest::Response {
    server
        .client
        .post(server.url("/api/v1/ops"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Pushes `ops`: answered with one result per operation, in order, and the server's time.
pub async fn push(
    server: &TestServer,
    token: &str,
    ops: &[cris_core::record::Operation],
) -> Vec<cris_core::sync::Outcome> {
    let res = push_raw(server, token, &serde_json::json!({ "ops": ops })).await;
    assert_eq!(res.status(), reqwest::StatusCode::OK, "{}", kind(server));
    let body: cris_core::sync::PushResponse = res.json().await.unwrap();
    let ids: Vec<&str> = body.results.iter().map(|r| r.op_id.as_str()).collect();
    let sent: Vec<&str> = ops.iter().map(|o| o.op_id.as_str()).collect();
    assert_eq!(ids, sent, "one result per operation, in order");
    assert!((body.server_time_ms as u64).abs_diff(now()) < 60_000);
    body.results.into_iter().map(|r| r.outcome).collect()
}

/// Pushes `ops`, every one of which must be applied.
pub async fn push_applied(server: &TestServer, token: &str, ops: &[cris_core::record::Operation]) {
    for outcome in push(server, token, ops).await {
        assert_eq!(
            outcome,
            cris_core::sync::Outcome::Applied,
            "{}",
            kind(server)
        );
    }
}

/// Polls `check` until it returns `Some`, failing after a minute with `what`.
pub async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(50));
    loop {
        tick.tick().await;
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
    }
}

/// A GET as the account of `token` that must be answered 200, read as `T`.
pub async fn get_json<T: serde::de::DeserializeOwned>(
    server: &TestServer,
    token: &str,
    path: &str,
) -> T {
    let res = get(server, Some(token), path).await;
    assert_eq!(
        res.status(),
        reqwest::StatusCode::OK,
        "{path} on {}",
        kind(server)
    );
    res.json().await.unwrap()
}

/// The operations a phone of the account of `token` pulls after `since`, every page, with
/// the last cursor.
pub async fn pulled(
    server: &TestServer,
    token: &str,
    since: i64,
) -> (Vec<cris_core::record::Operation>, i64) {
    let (mut ops, mut cursor) = (Vec::new(), since);
    loop {
        let page: cris_core::sync::PullResponse =
            get_json(server, token, &format!("/api/v1/ops?since={cursor}")).await;
        ops.extend(page.ops);
        cursor = page.next_cursor;
        if !page.more {
            return (ops, cursor);
        }
    }
}

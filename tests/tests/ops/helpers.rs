//! Requests the typed helpers do not cover (arbitrary headers) and reading `/metrics`.
use reqwest::Method;
use serde_json::Value;
use tests::{Api, Reply};

/// A request to `path` with `key` as bearer (if any), extra `headers` and an optional JSON body.
pub async fn send(
    api: &Api,
    method: Method,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Reply {
    let what = format!("{method} {path} {headers:?}");
    let mut request = api.client.request(method, api.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: no response: {e}"));
    Reply::read(what, response).await
}

/// `GET path` with the given key and headers.
pub async fn get(api: &Api, path: &str, key: Option<&str>, headers: &[(&str, &str)]) -> Reply {
    send(api, Method::GET, path, key, headers, None).await
}

/// The `/metrics` text, asserting its status and content type.
pub async fn metrics(api: &Api) -> String {
    let reply = get(api, "/metrics", None, &[]).await;
    reply.assert_status(200);
    let content_type = reply.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("text/plain") && content_type.contains("version=0.0.4"),
        "/metrics content type {content_type:?}"
    );
    reply.text
}

/// The value of the sample `series` (name plus labels exactly as exposed, e.g.
/// `apikeyd_store_up` or `x_total{code="VALID"}`), if exposed.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .find_map(|value| value.trim().parse().ok())
}

/// Like [`sample`], 0 when the series is not exposed yet (counters appear on first use).
pub fn count(text: &str, series: &str) -> f64 {
    sample(text, series).unwrap_or(0.0)
}

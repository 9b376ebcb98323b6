//! The HTTP side: one request helper that adds the bearer key, retries 429s a bounded number of
//! times, and turns every answer into JSON or a [`ClientError`].
use super::error::{ClientError, ClientResult};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::time::Duration;

/// Retries after a 429 before giving up (so at most four requests).
const MAX_RETRIES: u32 = 3;
/// Longest `Retry-After` honoured; a server asking for more gets this.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);
/// Waiting for a connection; past it the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Whole request, body included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A key to send and where it came from (for messages; never the key itself).
pub struct Token {
    /// The key.
    pub secret: SecretString,
    /// `profile 'default'` or `APIKEYD_TOKEN`.
    pub source: String,
}

/// A server at a base URL, optionally with a key.
pub struct Api {
    client: reqwest::Client,
    base: String,
    token: Option<Token>,
}

impl Api {
    /// A client for `base` (no trailing `/`).
    pub fn new(base: &str, token: Option<Token>) -> ClientResult<Self> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("apikeyd-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| ClientError::Refused(format!("cannot start the HTTP client: {e}")))?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            token,
        })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET base+path`.
    pub async fn get(&self, path: &str) -> ClientResult<Value> {
        self.send(Method::GET, path, &[], None).await
    }

    /// Sends one request (retrying 429s) and returns the JSON body of a 2xx answer.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> ClientResult<Value> {
        let url = format!("{}{path}", self.base);
        let mut attempt = 0;
        loop {
            let mut request = self.client.request(method.clone(), &url).query(query);
            if let Some(body) = body {
                request = request.json(body);
            }
            if let Some(token) = &self.token {
                request = request.bearer_auth(token.secret.expose_secret());
            }
            let response = request.send().await.map_err(|e| unreachable(&url, &e))?;
            if response.status() == StatusCode::TOO_MANY_REQUESTS && attempt < MAX_RETRIES {
                tokio::time::sleep(retry_wait(response.headers(), attempt)).await;
                attempt += 1;
                continue;
            }
            return self.decode(response, &url).await;
        }
    }

    async fn decode(&self, response: reqwest::Response, url: &str) -> ClientResult<Value> {
        let status = response.status();
        let text = response.text().await.map_err(|e| unreachable(url, &e))?;
        let json = serde_json::from_str::<Value>(&text).ok();
        if status.is_success() {
            return json.ok_or_else(|| {
                ClientError::Refused(format!(
                    "{url} answered {status} with a body that is not JSON"
                ))
            });
        }
        let message = json
            .as_ref()
            .and_then(|v| v.get("message"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
        Err(ClientError::Server {
            status: status.as_u16(),
            message,
            hint: self.hint(status),
        })
    }

    fn hint(&self, status: StatusCode) -> Option<String> {
        let source = &self.token.as_ref()?.source;
        match status {
            StatusCode::UNAUTHORIZED => Some(format!(
                "the server refused the API key from {source} (unknown, disabled, expired or its user has no roles)"
            )),
            StatusCode::FORBIDDEN => Some(format!(
                "the API key from {source} is valid but its roles do not allow this"
            )),
            _ => None,
        }
    }
}

/// `raw` as one URL path segment: everything but unreserved characters percent-encoded (role names
/// may hold spaces, user ids `+` and `@`).
pub fn segment(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// How long to wait before retry number `attempt + 1`: the server's integer `Retry-After` (capped),
/// else 1 s, 2 s, 4 s.
fn retry_wait(headers: &HeaderMap, attempt: u32) -> Duration {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(1 << attempt), Duration::from_secs)
        .min(MAX_RETRY_WAIT)
}

/// A transport failure, described by its innermost cause (which names no key).
fn unreachable(url: &str, e: &reqwest::Error) -> ClientError {
    let cause = if e.is_timeout() {
        "timed out".to_owned()
    } else {
        let mut inner: &dyn std::error::Error = e;
        while let Some(source) = inner.source() {
            inner = source;
        }
        inner.to_string()
    };
    ClientError::Unreachable {
        url: url.to_owned(),
        cause,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(segment("a b+c@d/e"), "a%20b%2Bc%40d%2Fe");
        assert_eq!(segment("Role-1_x.y~"), "Role-1_x.y~");
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_wait(&headers, 0), Duration::from_secs(1));
        assert_eq!(retry_wait(&headers, 2), Duration::from_secs(4));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_wait(&headers, 0), Duration::from_secs(3));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3600"));
        assert_eq!(retry_wait(&headers, 0), MAX_RETRY_WAIT);
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_wait(&headers, 1), Duration::from_secs(2));
    }
}

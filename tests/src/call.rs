//! One request to the app and its response, read whole.
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use serde_json::Value;

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    /// `Authorization: Bearer <bootstrap admin key>`.
    Admin,
    /// `Authorization: Bearer <key>`.
    Bearer(String),
    /// The `Authorization` header exactly as given (bare keys, odd schemes, lower-case `bearer`).
    Header(String),
    /// No `Authorization` header.
    None,
}

/// A running apikeyd seen from outside: its address, the admin key and a client. Every typed request
/// helper (`create_key`, `verify`, `assign_roles`, …) is a method of this type, so they work the same
/// on the in-process app ([`crate::TestApp`] derefs to it) and on a running binary.
#[derive(Debug, Clone)]
pub struct Api {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub address: String,
    /// Plaintext key of an admin (the bootstrap key).
    pub admin_key: String,
    /// One client (with its connection pool) for every request.
    pub client: reqwest::Client,
}

/// A request being put together; [`Call::send`] sends it.
pub struct Call<'a> {
    app: &'a Api,
    method: Method,
    path: String,
    auth: Auth,
    body: Option<(Vec<u8>, &'static str)>,
}

impl Api {
    /// An `Api` for the server at `address` (no trailing slash) administered with `admin_key`.
    pub fn new(address: impl Into<String>, admin_key: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            admin_key: admin_key.into(),
            client: client(),
        }
    }

    /// Absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A request to `path` authenticated with the admin key unless told otherwise.
    pub fn call(&self, method: Method, path: &str) -> Call<'_> {
        Call {
            app: self,
            method,
            path: path.to_owned(),
            auth: Auth::Admin,
            body: None,
        }
    }

    /// `GET path` as admin.
    pub fn get(&self, path: &str) -> Call<'_> {
        self.call(Method::GET, path)
    }

    /// `POST path` as admin.
    pub fn post(&self, path: &str) -> Call<'_> {
        self.call(Method::POST, path)
    }

    /// `PUT path` as admin.
    pub fn put(&self, path: &str) -> Call<'_> {
        self.call(Method::PUT, path)
    }

    /// `DELETE path` as admin.
    pub fn delete(&self, path: &str) -> Call<'_> {
        self.call(Method::DELETE, path)
    }
}

impl Call<'_> {
    /// Sends `value` as `application/json`.
    pub fn json(self, value: &Value) -> Self {
        self.raw(value.to_string(), "application/json")
    }

    /// Sends `bytes` as they are, with the given content type.
    pub fn raw(mut self, bytes: impl Into<Vec<u8>>, content_type: &'static str) -> Self {
        self.body = Some((bytes.into(), content_type));
        self
    }

    /// Authenticates as given.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Authenticates with `Authorization: Bearer <key>`.
    pub fn key(self, key: &str) -> Self {
        self.auth(Auth::Bearer(key.to_owned()))
    }

    /// Sends no `Authorization` header.
    pub fn anonymous(self) -> Self {
        self.auth(Auth::None)
    }

    /// Sends the request and reads the whole response.
    pub async fn send(self) -> Reply {
        let what = format!("{} {}", self.method, self.path);
        let mut request = self
            .app
            .client
            .request(self.method, self.app.url(&self.path));
        request = match self.auth {
            Auth::Admin => request.bearer_auth(&self.app.admin_key),
            Auth::Bearer(key) => request.bearer_auth(key),
            Auth::Header(value) => request.header(AUTHORIZATION, value),
            Auth::None => request,
        };
        if let Some((bytes, content_type)) = self.body {
            request = request.header(CONTENT_TYPE, content_type).body(bytes);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: no response: {e}"));
        Reply::read(what, response).await
    }
}

/// A response read whole: status, headers, raw text and the JSON body (`Null` when not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    /// `METHOD /path`, for failure messages.
    pub what: String,
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub text: String,
    /// The body parsed as JSON, or `Value::Null` if it is not JSON.
    pub body: Value,
}

impl Reply {
    /// Reads `response` to the end.
    pub async fn read(what: String, response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("{what}: reading the body failed: {e}"));
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            what,
            status,
            headers,
            text,
            body,
        }
    }

    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `body.message` when it is a string.
    pub fn message(&self) -> Option<&str> {
        self.body.get("message").and_then(Value::as_str)
    }

    /// Asserts the status and returns the reply for chaining.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "{}: expected {status}, got {} {}",
            self.what, self.status, self.text
        );
        self
    }

    /// Asserts 200 with a JSON body and returns the body.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        self.assert_status(200);
        assert!(
            !self.body.is_null(),
            "{}: 200 without a JSON body: {:?}",
            self.what,
            self.text
        );
        &self.body
    }

    /// Asserts an error answer: this status, `Content-Type: application/json` and exactly
    /// `{"message": message}`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, message: &str) {
        self.assert_json_error(status);
        assert_eq!(
            self.body,
            serde_json::json!({ "message": message }),
            "{}: wrong error body",
            self.what
        );
    }

    /// Asserts an error answer with this status, `Content-Type: application/json` and a non-empty
    /// string `message`; returns the message.
    #[track_caller]
    pub fn assert_json_error(&self, status: u16) -> String {
        self.assert_status(status);
        self.assert_json_message()
    }

    /// Asserts any 4xx with a JSON `{"message": …}` body; returns the message.
    #[track_caller]
    pub fn assert_client_error(&self) -> String {
        assert!(
            (400..500).contains(&self.status),
            "{}: expected a 4xx, got {} {}",
            self.what,
            self.status,
            self.text
        );
        self.assert_json_message()
    }

    #[track_caller]
    fn assert_json_message(&self) -> String {
        let content_type = self.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "{}: error Content-Type is {content_type:?}, body {:?}",
            self.what,
            self.text
        );
        let message = self.message().unwrap_or_else(|| {
            panic!(
                "{}: error body has no string message: {:?}",
                self.what, self.text
            )
        });
        assert!(!message.trim().is_empty(), "{}: empty message", self.what);
        message.to_owned()
    }
}

/// Percent-encodes one path segment or query value (everything but RFC 3986 unreserved characters).
pub fn encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A client that never follows redirects (a redirect is an answer under test) and never hangs a test.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        // Below the server's keep-alive, so the pool never reuses a connection the server is closing.
        .pool_idle_timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("build the HTTP client")
}

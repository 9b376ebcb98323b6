//! `/openapi.json`: an OpenAPI 3 document that describes exactly the routes the app serves, with a
//! bearer scheme and `{"message"}` errors. The paths the app registers are read from the route
//! sources; which methods each path answers is asked of the running app (a method a path does not
//! serve gets 405, or the default 404 where the route was registered with its method guard).
use crate::helpers::send;
use reqwest::Method;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use tests::{spawn_app, TestApp};

const METHODS: [&str; 6] = ["get", "head", "post", "put", "delete", "patch"];

async fn document(app: &TestApp) -> Value {
    let reply = crate::helpers::get(app, "/openapi.json", None, &[]).await;
    assert!(
        reply
            .header("content-type")
            .unwrap_or_default()
            .starts_with("application/json"),
        "content type"
    );
    reply.ok().clone()
}

/// `{name}` → `{}`, so `/x/{api_key_id}` and `/x/{apiKeyId}` compare equal.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// Every path literal the app registers: string literals starting with `/` on `route(` /
/// `resource(` lines of `api/src`.
fn registered_paths() -> BTreeSet<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/src");
    let mut paths = BTreeSet::new();
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read api/src") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read a source file");
                for line in text.lines().filter(|l| {
                    (l.contains("route(") || l.contains("resource(")) && !l.trim().starts_with("//")
                }) {
                    for literal in line.split('"').skip(1).step_by(2) {
                        if literal.starts_with('/') {
                            paths.insert(shape(literal));
                        }
                    }
                }
            }
        }
    }
    paths
}

/// A concrete URL for a documented path: parameters get values that exist nowhere, so probes never
/// change anything.
fn concrete(path: &str) -> String {
    path.replace("{api_key_id}", "00000000-0000-4000-8000-000000000000")
        .replace("{role_name}", "no-such-role-ops")
        .replace("{user_id}", "admin")
}

fn documented(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .map(|(path, item)| {
            let methods = METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| m.to_string())
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

#[tokio::test]
async fn document_is_openapi_3_with_bearer_auth_and_message_errors() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "openapi version {}",
        doc["openapi"]
    );
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["type"], "http");
    assert_eq!(bearer["scheme"], "bearer");
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], serde_json::json!(["message"]));
    assert_eq!(error["properties"]["message"]["type"], "string");

    let mut operation_ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(
                operation_ids.insert(id.to_owned()),
                "{method} {path}: operationId {id:?} missing or not unique"
            );
            let responses = op["responses"].as_object().expect("responses");
            assert!(responses.contains_key("431"), "{method} {path}: no 431");
            for (status, response) in responses.iter().filter(|(s, _)| s.as_str() >= "400") {
                if path == "/readyz" {
                    continue; // its 503 carries the readiness body, not an error
                }
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(
                    schema, "#/components/schemas/ErrorBody",
                    "{method} {path} {status}: errors are {{\"message\"}}"
                );
            }
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            assert_eq!(
                secured,
                responses.contains_key("401"),
                "{method} {path}: bearer security declared iff it can answer 401"
            );
            if responses.contains_key("429") {
                assert!(
                    responses["429"]["headers"]["Retry-After"].is_object(),
                    "{method} {path}: 429 documents Retry-After"
                );
            }
        }
    }
}

#[tokio::test]
async fn document_covers_exactly_the_routes_the_app_serves() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let documented = documented(&doc);
    let documented_shapes: BTreeSet<String> = documented.keys().map(|p| shape(p)).collect();
    let registered = registered_paths();
    assert!(registered.len() >= 20, "source scan found {registered:?}");
    assert_eq!(
        registered, documented_shapes,
        "paths registered in api/src vs paths in /openapi.json"
    );

    for (path, methods) in &documented {
        let url = concrete(path);
        for method in METHODS {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let reply = send(&app, m, &url, Some(&app.admin_key), &[], None).await;
            // HEAD answers carry no body to tell the default 404 from a handler's.
            let default_404 = method == "head" || reply.message() == Some("Not Found");
            let unrouted = reply.status == 405 || (reply.status == 404 && default_404);
            if methods.contains(method) {
                assert!(
                    !unrouted,
                    "{method} {path} is documented but not served: {}",
                    reply.status
                );
            } else {
                assert!(
                    unrouted,
                    "{method} {path} is served but not documented: {} {}",
                    reply.status, reply.text
                );
            }
        }
    }
}

#[tokio::test]
async fn operations_declaring_bearer_auth_refuse_anonymous_callers() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let reply = send(&app, m, &concrete(path), None, &[], None).await;
            if secured {
                reply.assert_error(401, "Unauthorized");
            } else {
                assert_ne!(reply.status, 401, "{method} {path} is documented as open");
            }
        }
    }
}

/// Every `$ref` in `value`, recursively.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (name, v) in map {
                match (name.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn every_reference_resolves_and_key_settings_are_described() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{r} does not resolve"
        );
    }
    let schemas = &doc["components"]["schemas"];
    for request in ["CreateRequest", "UpdateRequest"] {
        for field in ["roles", "rateLimit", "allowedCidrs", "meta"] {
            assert!(
                schemas[request]["properties"].get(field).is_some(),
                "{request}.{field} undocumented"
            );
        }
    }
    let codes = schemas["VerifyCode"]["enum"].to_string();
    for code in ["IP_NOT_ALLOWED", "RATE_LIMITED", "NO_ROLES"] {
        assert!(codes.contains(code), "{code} missing from {codes}");
    }
    assert!(schemas["RateLimitItem"]["properties"]
        .get("periodSeconds")
        .is_some());
}

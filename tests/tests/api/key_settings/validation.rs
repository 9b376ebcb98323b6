//! Every malformed setting is refused with 400 `{"message"}` naming the problem, on create and on
//! update, and nothing is written; the boundaries are accepted.
use super::{app_with_user, body_with, create_with, USER};
use serde_json::{json, Value};
use tests::Expect;

/// One invalid setting (merged into a create body, or sent alone as an update) and its message.
type Case = (&'static str, Value, Expect);

fn not_held(role: &str) -> Expect {
    Expect::exact(format!(
        "role '{role}' is not held by user '{USER}'; a key's roles must be roles of its user"
    ))
}

fn invalid_roles() -> Vec<Case> {
    use Expect::{Any, Mentions};
    let many: Vec<String> = (0..51).map(|n| format!("role-{n}")).collect();
    vec![
        (
            "roles empty (null means all)",
            json!({ "roles": [] }),
            Mentions("role"),
        ),
        ("roles a string", json!({ "roles": "viewer" }), Any),
        (
            "roles an object",
            json!({ "roles": { "viewer": true } }),
            Any,
        ),
        ("a role that is a number", json!({ "roles": [5] }), Any),
        ("51 roles", json!({ "roles": many }), Mentions("role")),
        (
            "a role the user lacks",
            json!({ "roles": ["admin"] }),
            not_held("admin"),
        ),
        (
            "a role nobody has",
            json!({ "roles": ["viewer", "ghost"] }),
            not_held("ghost"),
        ),
    ]
}

fn invalid_rate_limits() -> Vec<Case> {
    use Expect::{Any, Mentions};
    let limit = |l: Value, p: Value| json!({ "rateLimit": { "limit": l, "periodSeconds": p } });
    vec![
        ("limit 0", limit(json!(0), json!(60)), Mentions("limit")),
        (
            "limit above a million",
            limit(json!(1_000_001), json!(60)),
            Mentions("limit"),
        ),
        ("limit negative", limit(json!(-1), json!(60)), Any),
        ("limit fractional", limit(json!(1.5), json!(60)), Any),
        ("limit a string", limit(json!("3"), json!(60)), Any),
        (
            "period 0",
            limit(json!(3), json!(0)),
            Mentions("periodSeconds"),
        ),
        (
            "period above a day",
            limit(json!(3), json!(86_401)),
            Mentions("periodSeconds"),
        ),
        (
            "period missing",
            json!({ "rateLimit": { "limit": 3 } }),
            Any,
        ),
        (
            "limit missing",
            json!({ "rateLimit": { "periodSeconds": 60 } }),
            Any,
        ),
        ("rateLimit empty", json!({ "rateLimit": {} }), Any),
        ("rateLimit a number", json!({ "rateLimit": 3 }), Any),
        ("rateLimit a list", json!({ "rateLimit": [3, 60] }), Any),
        (
            "rateLimit with an unknown field",
            json!({ "rateLimit": { "limit": 3, "periodSeconds": 60, "burst": 9 } }),
            Any,
        ),
    ]
}

fn invalid_cidrs() -> Vec<Case> {
    use Expect::{Any, Mentions};
    let cidrs = |list: Value| json!({ "allowedCidrs": list });
    let many: Vec<String> = (0..51).map(|n| format!("10.0.{n}.0/24")).collect();
    vec![
        (
            "allowlist empty (null means any)",
            cidrs(json!([])),
            Mentions("cidr"),
        ),
        ("allowlist a string", cidrs(json!("10.0.0.0/8")), Any),
        ("an entry that is a number", cidrs(json!([10])), Any),
        (
            "IPv4 prefix 33",
            cidrs(json!(["10.0.0.0/33"])),
            Mentions("cidr"),
        ),
        (
            "IPv6 prefix 129",
            cidrs(json!(["2001:db8::/129"])),
            Mentions("cidr"),
        ),
        ("octet 256", cidrs(json!(["256.0.0.1"])), Mentions("cidr")),
        ("a host name", cidrs(json!(["localhost"])), Mentions("cidr")),
        (
            "two prefixes",
            cidrs(json!(["10.0.0.0/8/8"])),
            Mentions("cidr"),
        ),
        ("an empty entry", cidrs(json!([""])), Mentions("cidr")),
        ("51 entries", cidrs(json!(many)), Mentions("cidr")),
    ]
}

fn invalid_meta() -> Vec<Case> {
    use Expect::Mentions;
    let key_shaped = format!("{}{}", tests::secrets::KEY_PREFIX, "k".repeat(43));
    vec![
        (
            "meta a string",
            json!({ "meta": "team data" }),
            Mentions("meta"),
        ),
        ("meta a list", json!({ "meta": [1, 2] }), Mentions("meta")),
        ("meta a number", json!({ "meta": 7 }), Mentions("meta")),
        ("meta a boolean", json!({ "meta": true }), Mentions("meta")),
        (
            "meta of 4097 bytes",
            json!({ "meta": meta_of_size(4097) }),
            Mentions("meta"),
        ),
        (
            "meta holding a key",
            json!({ "meta": { "a": [{ "b": key_shaped }] } }),
            Mentions("meta"),
        ),
    ]
}

/// An object whose compact JSON is exactly `bytes` long: `{"b":"xx…"}` is 8 bytes besides the x's.
fn meta_of_size(bytes: usize) -> Value {
    json!({ "b": "x".repeat(bytes - 8) })
}

fn all_cases() -> Vec<Case> {
    [
        invalid_roles(),
        invalid_rate_limits(),
        invalid_cidrs(),
        invalid_meta(),
    ]
    .concat()
}

#[tokio::test]
async fn given_invalid_settings_when_creating_then_400_and_nothing_is_written() {
    let app = app_with_user().await;
    let before = app.snapshot().await;
    for (why, settings, expect) in all_cases() {
        let reply = app.create_key(&body_with(why, settings)).await;
        expect.check(&reply, 400, why);
        assert_eq!(app.snapshot().await, before, "case {why:?} wrote something");
    }
}

#[tokio::test]
async fn given_invalid_settings_when_updating_then_400_and_the_key_is_unchanged() {
    let app = app_with_user().await;
    let key = create_with(&app, "target", json!({ "roles": ["viewer"] })).await;
    let before = app.snapshot().await;
    for (why, settings, expect) in all_cases() {
        let reply = app.update_key(&key.id, &settings).await;
        expect.check(&reply, 400, why);
        assert_eq!(
            app.snapshot().await,
            before,
            "case {why:?} changed something"
        );
    }
}

#[tokio::test]
async fn given_the_boundary_values_when_creating_then_they_are_accepted() {
    let app = app_with_user().await;
    // Ascending both as text and as addresses, so any order the server keeps reads the same.
    let fifty: Vec<String> = (100..150).map(|n| format!("10.{n}.0.0/16")).collect();
    let cases = [
        (
            "the smallest limit",
            json!({ "rateLimit": { "limit": 1, "periodSeconds": 1 } }),
        ),
        (
            "the largest limit",
            json!({ "rateLimit": { "limit": 1_000_000, "periodSeconds": 86_400 } }),
        ),
        ("50 allowlist entries", json!({ "allowedCidrs": fifty })),
        ("meta of 4096 bytes", json!({ "meta": meta_of_size(4096) })),
        (
            "every role the user holds",
            json!({ "roles": super::USER_ROLES }),
        ),
    ];
    for (why, settings) in cases {
        let reply = app.create_key(&body_with(why, settings.clone())).await;
        assert_eq!(reply.status, 200, "{why}: {}", reply.text);
        let (field, value) = settings.as_object().unwrap().iter().next().unwrap();
        assert_eq!(&reply.body[field], value, "{why}: stored as sent");
    }
    // A role named twice is one role of the scope ("distinct" is what is kept, not a refusal).
    let reply = app
        .create_key(&body_with(
            "twice",
            json!({ "roles": ["viewer", "viewer"] }),
        ))
        .await;
    assert_eq!(reply.ok()["roles"], json!(["viewer"]), "{}", reply.text);
}

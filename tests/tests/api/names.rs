//! Names and user ids refuse control and invisible format characters (`bob-key\u{200b}` is not
//! `bob-key`); descriptions refuse control characters other than newline and tab, and bidi controls.
//! Every input VAMS accepts that shows as what it is stays accepted, and a log that already holds such
//! characters still loads.
use crate::seed::{app_with_bot, edit_sqlite};
use serde_json::{json, Value};
use tests::backend::Backend;
use tests::keys::{created, key_body};
use tests::Expect;

const NAME_RULE: &str = "apiKeyName must not contain control or invisible formatting characters";
const USER_RULE: &str = r"userId is invalid. Must follow the regexp ^[\w\-\.\+\@]{3,256}$";
const ROLE_RULE: &str = r"roleName is invalid. Must follow the regexp ^[a-zA-Z0-9\-._\s]{1,256}$";
const CONTROL_RULE: &str =
    "description must not contain control characters other than newline and tab";
const BIDI_RULE: &str = "description must not contain bidirectional control characters";

/// Characters no name or user id may hold, each with why.
const HIDDEN: [(&str, &str); 12] = [
    ("\u{200b}", "zero-width space"),
    ("\u{200c}", "zero-width non-joiner"),
    ("\u{200d}", "zero-width joiner"),
    ("\u{2060}", "word joiner"),
    ("\u{feff}", "byte order mark"),
    ("\u{ad}", "soft hyphen"),
    ("\u{202e}", "right-to-left override"),
    ("\u{2066}", "left-to-right isolate"),
    ("\u{200f}", "right-to-left mark"),
    ("\u{1b}[31m", "ESC sequence"),
    ("\u{9b}", "C1 control"),
    ("\u{2028}", "line separator"),
];

/// Characters a description may not hold, with the rule each breaks.
const BAD_IN_DESCRIPTIONS: [(&str, &str, &str); 9] = [
    ("\u{0}", "NUL", CONTROL_RULE),
    ("\u{1b}[2J", "ESC clear screen", CONTROL_RULE),
    ("\u{7}", "bell", CONTROL_RULE),
    ("\r", "carriage return", CONTROL_RULE),
    ("\u{7f}", "DEL", CONTROL_RULE),
    ("\u{9b}31m", "C1 CSI", CONTROL_RULE),
    ("\u{202e}", "right-to-left override", BIDI_RULE),
    ("\u{202a}", "left-to-right embedding", BIDI_RULE),
    ("\u{2067}", "right-to-left isolate", BIDI_RULE),
];

/// Asserts a 400 whose message starts with `rule` and names the code point of `bad`'s first char.
#[track_caller]
fn refused(reply: &tests::Reply, rule: &str, bad: &str, why: &str) {
    let message = reply.assert_json_error(400);
    let first = bad.chars().next().unwrap() as u32;
    assert!(
        message.starts_with(rule) && message.contains(&format!("U+{first:04X}")),
        "case {why:?}: {message:?}"
    );
}

#[tokio::test]
async fn key_names_refuse_hidden_characters() {
    let app = app_with_bot().await;
    let before = app.snapshot().await;
    for (bad, why) in HIDDEN {
        // Surrounding whitespace (U+2028 is some) is trimmed like spaces; inside, it is refused.
        let suffix = (!bad.trim().is_empty()).then(|| format!("bob-key{bad}"));
        for name in suffix.into_iter().chain([format!("bob{bad}-key")]) {
            let reply = app.create_key(&key_body(&name, "bot", "d")).await;
            refused(&reply, NAME_RULE, bad, why);
        }
    }
    assert_eq!(app.snapshot().await, before, "nothing written");
}

#[tokio::test]
async fn user_ids_and_role_names_refuse_hidden_characters() {
    let app = app_with_bot().await;
    let before = app.snapshot().await;
    for (bad, why) in HIDDEN {
        let user = format!("bot{bad}");
        let reply = app.create_key(&key_body("k", &user, "d")).await;
        Expect::exact(USER_RULE).check(&reply, 400, why);
        Expect::exact(USER_RULE).check(&app.assign_roles(&user, &["viewer"]).await, 400, why);
        let role = json!({ "roleName": format!("viewer{bad}"), "description": "d" });
        Expect::exact(ROLE_RULE).check(&app.create_role_body(&role).await, 400, why);
    }
    assert_eq!(app.snapshot().await, before, "nothing written");
}

#[tokio::test]
async fn descriptions_refuse_control_and_bidi_characters() {
    let app = app_with_bot().await;
    let key = app.create_key_ok("described", "bot").await;
    let before = app.snapshot().await;
    for (bad, why, rule) in BAD_IN_DESCRIPTIONS {
        let description = format!("deploys {bad}prod");
        let create = app.create_key(&key_body("new", "bot", &description)).await;
        refused(&create, rule, bad, why);
        let update = app
            .update_key(&key.id, &json!({ "description": description }))
            .await;
        refused(&update, rule, bad, why);
        let role = json!({ "roleName": "viewer", "description": description });
        refused(&app.update_role(&role).await, rule, bad, why);
        let role = json!({ "roleName": "other", "description": description });
        refused(&app.create_role_body(&role).await, rule, bad, why);
    }
    assert_eq!(app.snapshot().await, before, "nothing written");
}

#[tokio::test]
async fn what_shows_as_itself_stays_accepted() {
    let app = app_with_bot().await;
    let cases = [
        ("bad/name!", "bot", "VAMS accepts any printable name"),
        ("déploiement 日本 😀", "bot", "letters of any script, emoji"),
        ("nbsp\u{a0}name", "bot", "a no-break space shows as a space"),
        ("ünïcode user", "ünïcode", "a Unicode user id"),
    ];
    for (name, user, why) in cases {
        if user != "bot" {
            app.assign_roles(user, &["viewer"]).await.ok();
        }
        let description = "line one\n\tline two 👩\u{200d}💻 می\u{200c}خواهم";
        let new = created(&app.create_key(&key_body(name, user, description)).await);
        assert_eq!(new.item["apiKeyName"], name, "{why}");
        assert_eq!(new.item["description"], description, "{why}");
        let updated = app
            .update_key(&new.id, &json!({ "description": "tab\there" }))
            .await;
        assert_eq!(updated.ok()["description"], "tab\there", "{why}");
    }
    let role = json!({ "roleName": "read only.v2_x-y", "description": "two\nlines" });
    app.create_role_body(&role).await.ok();
}

/// Rewrites one key's name in the log and its view, as an older version that accepted it left them.
async fn rename_in_store(data: &std::path::Path, key_id: &str, from: &str, to: &str) {
    let edits = [
        "UPDATE events SET payload = replace(payload, ?1, ?2), chain_hash = '' WHERE aggregate_id = ?3",
        "UPDATE api_key_view SET body = replace(body, ?1, ?2) WHERE api_key_id = ?3",
    ];
    edit_sqlite(data, &edits, &[from, to, key_id]).await;
}

#[tokio::test]
async fn a_log_holding_hidden_characters_still_loads() {
    let app = app_with_bot().await;
    if app.backend != Backend::Embedded {
        eprintln!("skipped: edits the SQLite file directly");
        return;
    }
    let mut body = key_body("old-key", "bot", "old description");
    body["expiresAt"] = json!("2999-01-01");
    let key = created(&app.create_key(&body).await);
    let data = app.data_dir.clone();
    let named = "\"old-key\"";
    rename_in_store(data.path(), &key.id, named, "\"old-key\\u200b\\u001b[31m\"").await;
    rename_in_store(
        data.path(),
        &key.id,
        "old description",
        "old\\u202edescription",
    )
    .await;
    let app = app.restart().await;
    let listed: Value = app.get_key(&key.id).await.ok().clone();
    assert_eq!(listed["apiKeyName"], "old-key\u{200b}\u{1b}[31m");
    assert_eq!(listed["description"], "old\u{202e}description");
    assert_eq!(app.verify_code(&key.key).await, "VALID");
    let edited = app
        .update_key(&key.id, &json!({ "isActive": "false" }))
        .await;
    assert_eq!(edited.ok()["apiKeyName"], "old-key\u{200b}\u{1b}[31m");
}

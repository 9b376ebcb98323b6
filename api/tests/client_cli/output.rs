//! What people see: server data with control and invisible characters is escaped in tables, fields,
//! messages and errors, and `--json` stays the server's exact JSON.
use crate::helpers::Client;
use crate::stub::{self, json_type};
use serde_json::{json, Value};

/// Values a VAMS server (or an old log) may hold, and how each must be shown to people.
const HOSTILE: [(&str, &str); 5] = [
    ("\u{1b}[2J\u{1b}[31mred", "\\u{1b}[2J\\u{1b}[31mred"),
    ("bob-key\u{200b}", "bob-key\\u{200b}"),
    ("abc\u{202e}fed", "abc\\u{202e}fed"),
    ("bell\u{7}nul\u{0}c1\u{9b}", "bell\\u{7}nul\\u{0}c1\\u{9b}"),
    ("two\nlines", "two\\nlines"),
];

/// A stored key as VAMS lists it, with `value` in every free-text field.
fn item(n: usize, value: &str) -> Value {
    json!({
        "apiKeyId": format!("00000000-0000-4000-8000-{n:012}"),
        "apiKeyName": format!("{n} {value}"),
        "userId": "bot",
        "description": value,
        "createdBy": value,
        "createdAt": "2026-11-26T12:00:00+00:00",
        "updatedAt": "2026-11-26T12:00:00+00:00",
        "expiresAt": "",
        "isActive": "true",
    })
}

/// Raw text a terminal would act on.
fn has_raw_hidden(text: &str) -> bool {
    text.chars()
        .any(|c| c != '\n' && domain::characters::is_hidden(c))
}

/// The client environment for talking to `stub`.
fn stub_env(stub: &stub::Stub) -> [(&'static str, &str); 2] {
    [
        ("APIKEYD_TOKEN", "vams_stubkey"),
        ("APIKEYD_API_URL", stub.url.as_str()),
    ]
}

async fn stub_answering(body: String) -> stub::Stub {
    stub::start(Box::new(move |_, _: &str| (200, json_type(), body.clone()))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_data_is_escaped_for_people_and_exact_in_json() {
    let listing = json!({ "Items": HOSTILE.iter().enumerate().map(|(n, (raw, _))| item(n, raw)).collect::<Vec<_>>() });
    let server = stub_answering(listing.to_string()).await;
    let client = Client::new("vams_stubkey");
    let env = stub_env(&server);
    let table = client.run_with(&["api-key", "list"], &env).await;
    table.expect(0);
    assert!(!has_raw_hidden(&table.stdout), "{table:#?}");
    for (_, shown) in HOSTILE {
        table.out_has(shown);
    }
    let exact = client.run_with(&["--json", "api-key", "list"], &env).await;
    assert_eq!(
        exact.expect(0).json(),
        listing,
        "--json is the server's JSON"
    );

    let (raw, shown) = HOSTILE[0];
    let one = stub_answering(item(7, raw).to_string()).await;
    let env = stub_env(&one);
    let fields = client
        .run_with(&["api-key", "get", "--api-key-id", "x"], &env)
        .await;
    fields.expect(0).out_has(&format!("Description:  {shown}"));
    assert!(!has_raw_hidden(&fields.stdout), "{fields:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_messages_and_errors_are_escaped_too() {
    let (raw, shown) = HOSTILE[2];
    let roles = json!({ "message": { "Items": [{
        "roleName": raw, "description": HOSTILE[0].0, "mfaRequired": false,
        "createdOn": "2026-11-26T12:00:00+00:00", "source": raw,
    }], "NextToken": null } });
    let server = stub_answering(roles.to_string()).await;
    let client = Client::new("vams_stubkey");
    let env = stub_env(&server);
    let listed = client.run_with(&["role", "list"], &env).await;
    listed.expect(0).out_has(shown).out_has(HOSTILE[0].1);
    assert!(!has_raw_hidden(&listed.stdout), "{listed:#?}");

    let refusal = json!({ "message": format!("An API key with the name '{raw}' already exists") });
    let refusing = stub::start(Box::new(move |_, _: &str| {
        (400, json_type(), refusal.to_string())
    }))
    .await;
    let env = stub_env(&refusing);
    let args = [
        "api-key",
        "create",
        "--name",
        "x",
        "--user-id",
        "bot",
        "--description",
        "d",
    ];
    let error = client.run_with(&args, &env).await;
    error.expect(1).err_has(shown);
    assert!(!has_raw_hidden(&error.stderr), "{error:#?}");
}

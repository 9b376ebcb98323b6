//! One VAMS deployment holding a key of every kind VAMS can hold, and the `/auth/verify` code each
//! must get from apikeyd after the import.
use crate::vams::{key_item, vams_key, Vams};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use std::path::Path;
use std::process::Output;
use tests::{Backend, TestApp};

/// A key in VAMS and what apikeyd must answer for it.
pub struct Case {
    pub label: &'static str,
    pub id: String,
    pub name: String,
    /// The plaintext, known only to this test (as only VAMS's caller knew it).
    pub plaintext: String,
    /// `/auth/verify` code after the import.
    pub code: &'static str,
}

/// The description and `updatedAt` of the key [`Fixture::pause_in_vams`] changes.
pub const PAUSED: &str = "paused in VAMS";
/// See [`PAUSED`].
pub const PAUSED_AT: &str = "2026-05-01T09:00:00.000001+00:00";

/// The name of the key created in apikeyd before the import, which a VAMS key also uses.
pub const TAKEN: &str = "taken-here";

/// `(label, expiresAt, isActive, user, code)` of every key that is imported (named `vams-<label>`).
const KEYS: [(&str, &str, &str, &str, &str); 10] = [
    ("exact", "2099-01-31T12:00:00Z", "true", "alice", "VALID"),
    (
        "offset",
        "2099-01-31T12:00:00+02:00",
        "true",
        "alice",
        "VALID",
    ),
    ("naive", "2099-01-31T12:00:00", "true", "alice", "VALID"),
    ("date", "2099-01-31", "true", "alice", "VALID"),
    ("never", "", "true", "alice", "VALID"),
    ("inactive", "", "false", "alice", "DISABLED"),
    ("python-bool", "", "True", "alice", "DISABLED"),
    (
        "expired",
        "2020-01-01T00:00:00Z",
        "true",
        "alice",
        "EXPIRED",
    ),
    ("expired-date", "2020-01-01", "true", "alice", "EXPIRED"),
    ("no-roles", "", "true", "carol", "NO_ROLES"),
];

/// The deployment: roles, user roles, the ten keys above, one key named [`TAKEN`] and one item
/// without `apiKeyHash`.
pub struct Fixture {
    pub vams: Vams,
    pub imported: Vec<Case>,
    pub colliding: Case,
    pub broken_id: String,
}

impl Fixture {
    pub async fn fill() -> Self {
        let vams = Vams::create().await;
        vams.put_role("vams-reader", "Reads assets").await;
        vams.put_role("admin", "VAMS administrators").await;
        vams.put_user_role("alice", "vams-reader").await;
        vams.put_user_role("admin", "admin").await;
        vams.put_user_role("bob", "vams-reader").await;
        vams.put_user_role("bob", "admin").await;
        let mut imported = Vec::new();
        for (label, expires, active, user, code) in KEYS {
            let case = case(label, format!("vams-{label}"), code);
            let item = key_item(&case.id, &case.name, &case.plaintext, user, expires, active);
            vams.put(&vams.api_keys, item).await;
            imported.push(case);
        }
        let colliding = case("collision", TAKEN.to_owned(), "NOT_FOUND");
        let item = key_item(
            &colliding.id,
            TAKEN,
            &colliding.plaintext,
            "alice",
            "",
            "true",
        );
        vams.put(&vams.api_keys, item).await;
        let broken_id = uuid::Uuid::new_v4().to_string();
        let mut broken = key_item(&broken_id, "vams-broken", &vams_key(), "alice", "", "true");
        broken.remove("apiKeyHash");
        vams.put(&vams.api_keys, broken).await;
        Self {
            vams,
            imported,
            colliding,
            broken_id,
        }
    }

    /// The import's arguments for this deployment.
    pub fn args<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            "import",
            "vams",
            "--api-keys-table",
            &self.vams.api_keys,
            "--user-roles-table",
            &self.vams.user_roles,
            "--roles-table",
            &self.vams.roles,
        ];
        args.extend_from_slice(extra);
        args
    }

    /// The case labelled `label`.
    pub fn case(&self, label: &str) -> &Case {
        self.imported
            .iter()
            .find(|c| c.label == label)
            .expect("a known case")
    }

    /// Changes the "never" key in VAMS as an operator would: deactivated, with a new description and
    /// `updatedAt`. Returns that case.
    pub async fn pause_in_vams(&self) -> &Case {
        let case = self.case("never");
        let mut item = key_item(&case.id, &case.name, &case.plaintext, "alice", "", "false");
        item.insert("description".into(), AttributeValue::S(PAUSED.into()));
        item.insert("updatedAt".into(), AttributeValue::S(PAUSED_AT.into()));
        self.vams.put(&self.vams.api_keys, item).await;
        case
    }

    /// Every plaintext of the deployment.
    pub fn plaintexts(&self) -> Vec<&str> {
        self.imported
            .iter()
            .chain([&self.colliding])
            .map(|c| c.plaintext.as_str())
            .collect()
    }
}

fn case(label: &'static str, name: String, code: &'static str) -> Case {
    Case {
        label,
        id: uuid::Uuid::new_v4().to_string(),
        name,
        plaintext: vams_key(),
        code,
    }
}

/// Runs `apikeyd <args>` against the app's store.
pub async fn run(app: &TestApp, args: &[&str]) -> Output {
    tests::binary::run(app.backend, app.data_path(), args, &[]).await
}

/// Runs the import with `--json` and returns its exit code and summary object.
pub async fn import_json(
    app: &TestApp,
    fixture: &Fixture,
    extra: &[&str],
) -> (Option<i32>, Value, Output) {
    import_json_into(app.backend, app.data_path(), fixture, extra).await
}

/// [`import_json`] into the store of `backend` in `data_dir` (a server running as its own process).
pub async fn import_json_into(
    backend: Backend,
    data_dir: &Path,
    fixture: &Fixture,
    extra: &[&str],
) -> (Option<i32>, Value, Output) {
    let mut args = fixture.args(extra);
    args.push("--json");
    let output = tests::binary::run(backend, data_dir, &args, &[]).await;
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "import printed no JSON object ({e}):\n{}",
            tests::binary::describe(&output)
        )
    });
    (output.status.code(), report, output)
}

/// The store's bytes and the audit file, for the plaintext scan.
pub async fn stored_bytes(backend: Backend, data_dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut dump = backend.store_dump(data_dir).await;
    let audit = tests::backend::audit_log(data_dir);
    dump.push((
        audit.display().to_string(),
        tests::secrets::read_or_empty(&audit),
    ));
    dump
}

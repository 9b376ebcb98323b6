//! What deploy/ ships for audit review: the CloudFormation template holds the audit log groups,
//! saved queries, metric filters and alarms docs/AUDIT.md describes, and the Prometheus rules hold
//! the same alarms. `scripts/deploy-lint.sh` (a stage of scripts/test.sh) lints both with cfn-lint and
//! promtool; this test runs them too when they are installed, and checks the structure either way.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative))
        .unwrap_or_else(|e| panic!("read {relative}: {e}"))
}

/// Logical id → (type, the resource's text) of every resource in the template (block YAML: ids at
/// two spaces under `Resources:`, their `Type:` at four).
fn resources(template: &str) -> BTreeMap<String, (String, String)> {
    let body = template
        .split_once("\nResources:\n")
        .and_then(|(_, rest)| rest.split("\nOutputs:\n").next())
        .expect("a Resources section");
    let mut out = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in body.lines() {
        if let Some(id) = line
            .strip_prefix("  ")
            .filter(|l| !l.starts_with(' ') && l.ends_with(':'))
        {
            current = Some(id.trim_end_matches(':').to_owned());
            continue;
        }
        let Some(id) = &current else { continue };
        let entry = out
            .entry(id.clone())
            .or_insert_with(|| (String::new(), String::new()));
        if let Some(kind) = line.strip_prefix("    Type: ") {
            entry.0 = kind.trim().to_owned();
        }
        entry.1.push_str(line);
        entry.1.push('\n');
    }
    out
}

#[test]
fn the_template_has_the_audit_groups_queries_filters_and_alarms() {
    let template = read("deploy/cloudformation.yaml");
    let all = resources(&template);
    let of_type = |kind: &str| -> Vec<&str> {
        all.iter()
            .filter(|(_, (k, _))| k == kind)
            .map(|(id, _)| id.as_str())
            .collect()
    };
    assert_eq!(
        of_type("AWS::Logs::LogGroup"),
        ["AuditLogGroup", "AuditVamsLogGroup"]
    );
    let group = &all["AuditLogGroup"].1;
    for property in ["RetentionInDays:", "KmsKeyId:"] {
        assert!(group.contains(property), "the audit group sets {property}");
    }
    assert!(
        template.contains("    Default: 3653\n"),
        "ten years of retention by default"
    );
    // Each saved query and the field it narrows by.
    let queries = [
        ("KeyHistoryQuery", "apiKeyId = "),
        ("ActorActivityQuery", "actor = "),
        (
            "KeysCreatedForUserQuery",
            "action = \"apiKeyCreate\" and userId = ",
        ),
        (
            "DeletionsAndDeactivationsQuery",
            "action = \"apiKeyDelete\"",
        ),
        ("RefusedAndExposedBySourceIpQuery", "by sourceIp"),
        ("AdminRoleChangesQuery", "userRolesRevoke"),
    ];
    assert_eq!(of_type("AWS::Logs::QueryDefinition").len(), queries.len());
    for (id, narrows) in queries {
        let text = &all.get(id).unwrap_or_else(|| panic!("no {id}")).1;
        assert!(text.contains(narrows), "{id} filters on {narrows}");
        assert!(
            text.contains("Ref: AuditLogGroup"),
            "{id} reads the audit group"
        );
    }
    // Each alarm and the metric (from a filter on the audit group) it watches.
    let alarms = [
        ("KeyExposedAlarm", "KeysExposed"),
        ("RefusedKeysSpikeAlarm", "RefusedKeys"),
        ("AdminRoleChangeAlarm", "AdminRoleChanges"),
        ("AuditSilenceAlarm", "IncomingLogEvents"),
    ];
    assert_eq!(of_type("AWS::CloudWatch::Alarm").len(), alarms.len());
    for (id, metric) in alarms {
        let text = &all.get(id).unwrap_or_else(|| panic!("no {id}")).1;
        assert!(
            text.contains(&format!("MetricName: {metric}")),
            "{id} watches {metric}"
        );
        assert!(
            text.contains("Ref: AlarmTopicArn"),
            "{id} notifies the SNS topic parameter"
        );
    }
    let filters = of_type("AWS::Logs::MetricFilter");
    for metric in ["KeysExposed", "RefusedKeys", "AdminRoleChanges"] {
        assert!(
            filters
                .iter()
                .any(|f| all[*f].1.contains(&format!("MetricName: {metric}"))),
            "a metric filter publishes {metric}"
        );
    }
    assert!(all["KeyExposedFilter"]
        .1
        .contains("$.action = \"apiKeyExposed\""));
}

#[test]
fn the_prometheus_rules_hold_the_same_alarms_on_served_metrics() {
    let rules = read("deploy/prometheus/alerts.yaml");
    let metrics = read("api/src/metrics.rs");
    let alerts: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
        .collect();
    assert_eq!(
        alerts,
        [
            "ApikeydAuditDeliveryLagging",
            "ApikeydRefusedKeysSpike",
            "ApikeydClientsRateLimited",
            "ApikeydExposedKeyPresented",
            "ApikeydStoreDown"
        ]
    );
    let exprs: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr: "))
        .collect();
    assert_eq!(exprs.len(), alerts.len(), "every rule has an expr");
    for expr in exprs {
        let metric = expr
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .find(|w| w.starts_with("apikeyd_"))
            .unwrap_or_else(|| panic!("no apikeyd metric in {expr}"));
        assert!(
            metrics.contains(&format!("\"{metric}\"")),
            "{metric} is served by api/src/metrics.rs"
        );
    }
}

/// Runs `program args` when it is installed; `None` (with a note) when it is not.
fn run_if_installed(program: &Path, args: &[&str]) -> Option<std::process::Output> {
    match std::process::Command::new(program)
        .args(args)
        .current_dir(root())
        .output()
    {
        Ok(output) => Some(output),
        Err(e) => {
            eprintln!(
                "{}: not run ({e}); scripts/deploy-lint.sh installs it",
                program.display()
            );
            None
        }
    }
}

#[test]
fn cfn_lint_and_promtool_pass_when_installed() {
    let cfn_lint = root().join(".tools/cfn-lint/bin/cfn-lint");
    let checks = [
        (cfn_lint.as_path(), vec!["deploy/cloudformation.yaml"]),
        (
            Path::new("promtool"),
            vec!["check", "rules", "deploy/prometheus/alerts.yaml"],
        ),
    ];
    for (program, args) in checks {
        if let Some(output) = run_if_installed(program, &args) {
            assert!(
                output.status.success(),
                "{} {args:?}: {}{}",
                program.display(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

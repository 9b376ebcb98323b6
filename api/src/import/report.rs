//! The import's summary: one JSON object (`--json`) or lines for a person. It names items by id and
//! name only; it never holds a hash, let alone a key.
use super::apply::Outcome;
use super::plan::{Conversion, Note, Plan};
use infra::vams::{ItemError, VamsTables};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

/// Keys, roles and (user, role) pairs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub api_keys: usize,
    pub roles: usize,
    pub user_roles: usize,
}

/// The tables read.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    api_keys_table: String,
    user_roles_table: String,
    roles_table: String,
}

/// The summary of one run.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// True when nothing was written and the counts are what a real run would do.
    dry_run: bool,
    source: Source,
    /// Items read per table.
    read: Counts,
    /// Imported (or, in a dry run, to import).
    imported: Counts,
    /// Brought up to date with VAMS (`--update-changed`).
    updated: Counts,
    /// Skipped items per `kind.reason` (e.g. `apiKey.unchanged`).
    skipped: BTreeMap<String, usize>,
    /// Every skipped item except the unchanged ones.
    skipped_items: Vec<Note>,
    /// Items changed in VAMS since they were imported.
    changed: Vec<Note>,
    /// Keys not imported because a different key here holds the name or the id.
    collisions: Vec<Note>,
    /// Keys imported although already expired (refused as expired, as before).
    expired: Vec<Note>,
    /// Values apikeyd had to interpret.
    conversions: Vec<Conversion>,
    /// Items that could not be imported.
    errors: Vec<ItemError>,
    /// Wall time of the run (reading VAMS included).
    seconds: f64,
    /// Time spent scanning VAMS's three tables.
    read_seconds: f64,
    /// Time spent writing into apikeyd (0 in a dry run).
    write_seconds: f64,
    /// Keys written (or planned) per second of the run.
    keys_per_second: f64,
}

impl Report {
    /// The report of a dry run.
    pub fn planned(tables: &VamsTables, plan: &Plan) -> Self {
        let users = plan.new_users.iter().chain(&plan.user_additions);
        let imported = Counts {
            api_keys: plan.new_keys.len(),
            roles: plan.new_roles.len(),
            user_roles: users.map(|u| u.roles.len()).sum(),
        };
        let updated = Counts {
            api_keys: plan.key_updates.len(),
            roles: plan.role_updates.len(),
            user_roles: 0,
        };
        Self::new(tables, plan, true, imported, updated, vec![])
    }

    /// The report of a run that wrote.
    pub fn applied(tables: &VamsTables, plan: &Plan, outcome: Outcome) -> Self {
        let imported = Counts {
            api_keys: outcome.keys,
            roles: outcome.roles,
            user_roles: outcome.user_roles,
        };
        let updated = Counts {
            api_keys: outcome.key_updates,
            roles: outcome.role_updates,
            user_roles: 0,
        };
        Self::new(tables, plan, false, imported, updated, outcome.refused)
    }

    fn new(
        tables: &VamsTables,
        plan: &Plan,
        dry_run: bool,
        imported: Counts,
        updated: Counts,
        refused: Vec<ItemError>,
    ) -> Self {
        let mut skipped = BTreeMap::new();
        for note in &plan.skipped {
            *skipped
                .entry(format!("{}.{}", note.kind, note.reason))
                .or_default() += 1;
        }
        Self {
            dry_run,
            source: Source {
                api_keys_table: tables.api_keys.clone(),
                user_roles_table: tables.user_roles.clone(),
                roles_table: tables.roles.clone(),
            },
            read: Counts {
                api_keys: plan.read.0,
                roles: plan.read.1,
                user_roles: plan.read.2,
            },
            imported,
            updated,
            skipped,
            skipped_items: plan
                .skipped
                .iter()
                .filter(|n| n.reason != "unchanged")
                .cloned()
                .collect(),
            changed: plan.changed.clone(),
            collisions: plan.collisions.clone(),
            expired: plan.expired.clone(),
            conversions: plan.conversions.clone(),
            errors: plan.errors.iter().cloned().chain(refused).collect(),
            seconds: 0.0,
            read_seconds: 0.0,
            write_seconds: 0.0,
            keys_per_second: 0.0,
        }
    }

    /// Records the run's duration and the parts of it spent reading VAMS and writing.
    pub fn finish(&mut self, elapsed: Duration, reading: Duration, writing: Duration) {
        self.seconds = elapsed.as_secs_f64();
        self.read_seconds = reading.as_secs_f64();
        self.write_seconds = writing.as_secs_f64();
        self.keys_per_second =
            (self.imported.api_keys + self.updated.api_keys) as f64 / self.seconds.max(1e-9);
    }

    /// True when an item could not be imported.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Prints the report to stdout.
    pub fn print(&self, json: bool) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        if json {
            let text = serde_json::to_string(self).map_err(std::io::Error::other)?;
            return writeln!(out, "{text}");
        }
        self.print_text(&mut out)
    }

    fn print_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        let counts = |c: &Counts| {
            format!(
                "{} API keys, {} roles, {} user roles",
                c.api_keys, c.roles, c.user_roles
            )
        };
        if self.dry_run {
            writeln!(out, "VAMS import plan (dry run: nothing was written)")?;
        }
        writeln!(out, "read:      {}", counts(&self.read))?;
        let verb = if self.dry_run {
            "to import"
        } else {
            "imported"
        };
        writeln!(out, "{verb:<10} {}", counts(&self.imported))?;
        let verb = if self.dry_run { "to update" } else { "updated" };
        writeln!(
            out,
            "{verb:<10} {} API keys, {} roles",
            self.updated.api_keys, self.updated.roles
        )?;
        let skipped: Vec<String> = self
            .skipped
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        writeln!(
            out,
            "skipped:   {}",
            if skipped.is_empty() {
                "none".to_owned()
            } else {
                skipped.join(", ")
            }
        )?;
        section(out, "skipped items", &self.skipped_items)?;
        let hint = if self.updated.api_keys + self.updated.roles == 0 && !self.changed.is_empty() {
            " (run with --update-changed to apply)"
        } else {
            ""
        };
        section(
            out,
            &format!("changed in VAMS since imported{hint}"),
            &self.changed,
        )?;
        section(out, "name collisions (not imported)", &self.collisions)?;
        section(
            out,
            "already expired (imported, refused as expired)",
            &self.expired,
        )?;
        if !self.conversions.is_empty() {
            writeln!(out, "conversions:")?;
            for c in &self.conversions {
                writeln!(
                    out,
                    "  apiKey {} '{}' {} '{}' -> {} ({})",
                    c.api_key_id, c.api_key_name, c.field, c.from, c.to, c.note
                )?;
            }
        }
        if !self.errors.is_empty() {
            writeln!(out, "errors (not imported):")?;
            for e in &self.errors {
                writeln!(out, "  {e}")?;
            }
        }
        writeln!(
            out,
            "done in {:.2}s ({:.0} keys/s)",
            self.seconds, self.keys_per_second
        )
    }
}

fn section(out: &mut impl Write, title: &str, notes: &[Note]) -> std::io::Result<()> {
    if notes.is_empty() {
        return Ok(());
    }
    writeln!(out, "{title}:")?;
    for n in notes {
        let name = n
            .name
            .as_ref()
            .map(|n| format!(" '{n}'"))
            .unwrap_or_default();
        let fields = if n.fields.is_empty() {
            String::new()
        } else {
            format!(" [{}]", n.fields.join(", "))
        };
        let detail = n
            .detail
            .as_ref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {} {}{name} {}{fields}{detail}",
            n.kind, n.id, n.reason
        )?;
    }
    Ok(())
}

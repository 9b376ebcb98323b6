//! The VAMS items, read whole and typed; items that cannot be read are kept as errors naming them.
use crate::progress::Progress;
use infra::vams::scan::scan_all;
use infra::vams::{ItemError, VamsApiKey, VamsError, VamsRole, VamsTables, VamsUserRole};

/// Everything read from VAMS.
#[derive(Debug, Default)]
pub struct Records {
    /// API keys.
    pub keys: Vec<VamsApiKey>,
    /// Roles.
    pub roles: Vec<VamsRole>,
    /// One role of one user each.
    pub user_roles: Vec<VamsUserRole>,
    /// Items that could not be read, each named.
    pub errors: Vec<ItemError>,
    /// Items read per table: keys, roles, user roles.
    pub read: (usize, usize, usize),
}

/// Scans the three tables (segments in parallel) and types every item.
pub async fn read(
    client: &infra::vams::Client,
    tables: &VamsTables,
    progress: &Progress,
) -> Result<Records, VamsError> {
    let mut records = Records::default();
    let shown = |n: usize| progress.set(n as u64);
    progress.phase("reading roles", 0);
    let items = scan_all(client, &tables.roles, &shown).await?;
    records.read.1 = items.len();
    records.roles = typed(&items, &tables.roles, VamsRole::read, &mut records.errors);
    progress.phase("reading user roles", 0);
    let items = scan_all(client, &tables.user_roles, &shown).await?;
    records.read.2 = items.len();
    records.user_roles = typed(
        &items,
        &tables.user_roles,
        VamsUserRole::read,
        &mut records.errors,
    );
    progress.phase("reading keys", 0);
    let items = scan_all(client, &tables.api_keys, &shown).await?;
    records.read.0 = items.len();
    records.keys = typed(
        &items,
        &tables.api_keys,
        VamsApiKey::read,
        &mut records.errors,
    );
    Ok(records)
}

fn typed<T>(
    items: &[infra::vams::items::Item],
    table: &str,
    read: impl Fn(&infra::vams::items::Item, &str) -> Result<T, ItemError>,
    errors: &mut Vec<ItemError>,
) -> Vec<T> {
    items
        .iter()
        .filter_map(|item| read(item, table).map_err(|e| errors.push(e)).ok())
        .collect()
}

//! Reading a running VAMS deployment's API-key, role and user-role tables, for `apikeyd import vams`.
//!
//! VAMS 2.5.1 lays them out as `infra/lib/nestedStacks/storage/storageBuilder-nestedStack.ts` says:
//! ApiKeyStorageTable (hash `apiKeyId`, GSI `apiKeyHashIndex` on `apiKeyHash`), RolesStorageTable
//! (hash `roleName`) and UserRolesStorageTable (hash `userId`, range `roleName`). Their generated names
//! are arguments. Reads go through the standard AWS chain (region, credentials,
//! `AWS_ENDPOINT_URL_DYNAMODB`).
//!
//! - [`schema`]: checks each table exists with VAMS's key schema before anything is read.
//! - [`scan`]: paginated, parallel-segment scans.
//! - [`items`]: VAMS items → typed records, or an error naming the item.
pub mod items;
pub mod scan;
pub mod schema;

pub use items::{ItemError, VamsApiKey, VamsRole, VamsUserRole};
pub use schema::VamsTables;

use aws_config::BehaviorVersion;
/// The DynamoDB client the reader uses.
pub use aws_sdk_dynamodb::Client;

/// A VAMS table could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VamsError {
    /// No such table (wrong name, region or endpoint).
    #[error("VAMS table '{0}' does not exist (check its name, AWS_REGION and the endpoint)")]
    MissingTable(String),
    /// The table exists but is not laid out as VAMS lays it out.
    #[error("table '{table}' does not have the schema of VAMS's {role}: {problem}")]
    WrongSchema {
        /// The table.
        table: String,
        /// Which VAMS table it was given as.
        role: &'static str,
        /// What differs.
        problem: String,
    },
    /// DynamoDB could not be reached or refused the read.
    #[error("cannot read VAMS table '{table}': {cause}")]
    Unavailable {
        /// The table.
        table: String,
        /// The SDK's explanation.
        cause: String,
    },
}

/// A DynamoDB client on the standard AWS chain, with the SDK's default retries (a migration is a
/// batch job: waiting out a throttle is better than failing).
pub async fn client() -> Client {
    let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    Client::new(&config)
}

//! First start: an admin role, an admin user holding it, and one key to log in with.
//!
//! Each step is idempotent and the key has a fixed name, so a crash half-way is completed on the next
//! start and several processes starting together issue exactly one key: the store's unique-name claim
//! lets one create win. A checkpoint marks completion, so later starts print nothing.
use crate::commands::{CommandBus, Metadata};
use crate::error::ApiError;
use chrono::Utc;
use cqrs_es::AggregateError;
use domain::api_key::{ApiKeyCommand, ApiKeyError, CreateApiKey};
use domain::role::{RoleCommand, RoleDefinition, RoleError};
use domain::user_roles::{UserRolesCommand, UserRolesError};
use domain::{Actor, ApiKeyName, Description, RoleName, UserId};
use projections::audit::meta;
use projections::{Projector, ViewStore};
use secrecy::SecretString;

/// Checkpoint recording that the bootstrap finished.
const DONE: &str = "bootstrap";

/// Name of the first-start key.
pub const BOOTSTRAP_KEY_NAME: &str = "bootstrap-admin";

fn system() -> Metadata {
    Metadata::from([(meta::AUTH_METHOD.to_owned(), "system".to_owned())])
}

/// Runs the bootstrap if it never completed; returns the new key's plaintext when this call issued it.
pub async fn run(
    bus: &dyn CommandBus,
    projector: &Projector,
    views: &dyn ViewStore,
    admin_role: &str,
    admin_user: &str,
) -> Result<Option<SecretString>, anyhow::Error> {
    if !views.checkpoint(DONE).await?.is_empty() {
        return Ok(None);
    }
    let user = ensure_admin(bus, projector, admin_role, admin_user).await?;
    let issued = issue_key(bus, BOOTSTRAP_KEY_NAME, &user, "First-start admin key").await?;
    views.set_checkpoint(DONE, "done").await?;
    Ok(issued)
}

/// Makes sure the admin role exists and `admin_user` holds it (each step idempotent).
pub async fn ensure_admin(
    bus: &dyn CommandBus,
    projector: &Projector,
    admin_role: &str,
    admin_user: &str,
) -> Result<UserId, anyhow::Error> {
    let role = RoleName::parse(admin_role).map_err(|e| anyhow::anyhow!("admin role: {e}"))?;
    let user = UserId::parse(admin_user).map_err(|e| anyhow::anyhow!("admin user: {e}"))?;
    let create_role = RoleCommand::Create {
        id: uuid::Uuid::new_v4(),
        definition: RoleDefinition {
            role_name: role.clone(),
            description: Description::parse("apikeyd administrators")?,
            source: None,
            source_identifier: None,
            mfa_required: false,
        },
        actor: Actor::system(),
        at: Utc::now(),
    };
    match bus.role(role.as_ref(), create_role, system()).await {
        Ok(()) | Err(AggregateError::UserError(RoleError::AlreadyExists)) => {}
        Err(e) => return Err(anyhow::anyhow!(ApiError::from(e).to_string())),
    }
    let held = projector.read().directory.roles_of(&user).contains(&role);
    if !held {
        let assign = UserRolesCommand::Assign {
            user_id: user.clone(),
            roles: vec![role.clone()],
            actor: Actor::system(),
            at: Utc::now(),
        };
        match bus.user_roles(user.as_ref(), assign, system()).await {
            Ok(()) | Err(AggregateError::UserError(UserRolesError::AlreadyAssigned)) => {}
            Err(e) => return Err(anyhow::anyhow!(ApiError::from(e).to_string())),
        }
    }
    Ok(user)
}

/// Issues a key named `name` for `user` as the system; `None` when a live key already has the name
/// (another process won the race).
pub async fn issue_key(
    bus: &dyn CommandBus,
    name: &str,
    user: &UserId,
    description: &str,
) -> Result<Option<SecretString>, anyhow::Error> {
    let key = infra::key_material::generate()?;
    let id = uuid::Uuid::new_v4();
    let create_key = ApiKeyCommand::Create(CreateApiKey {
        api_key_id: id,
        name: ApiKeyName::parse(name)?,
        user_id: user.clone(),
        description: Description::parse(description)?,
        expires_at: None,
        key_hash: key.hash,
        policy: domain::KeyPolicy::default(),
        actor: Actor::system(),
        at: Utc::now(),
    });
    match bus.api_key(&id.to_string(), create_key, system()).await {
        Ok(()) => Ok(Some(key.plaintext)),
        Err(AggregateError::UserError(ApiKeyError::NameTaken(_))) => Ok(None),
        Err(e) => match ApiError::from(e) {
            // The store's unique-name claim: another process won the race.
            ApiError::BadRequest(_) => Ok(None),
            other => Err(anyhow::anyhow!(other.to_string())),
        },
    }
}

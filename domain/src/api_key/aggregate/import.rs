//! Imports: a key copied from another system keeps its id, hash, state and times. Decided here like
//! every other command, so a bulk import and a single one cannot disagree.
use super::{ApiKey, Lifecycle, LiveKey};
use crate::api_key::{ApiKeyError, ApiKeyEvent, ImportApiKey};
use crate::services::Services;

/// The state an `ApiKeyImported` event leaves.
pub(super) fn live_from(event: ApiKeyEvent) -> Lifecycle {
    match event {
        ApiKeyEvent::ApiKeyImported {
            api_key_id,
            api_key_name,
            user_id,
            description,
            key_hash,
            expires_at,
            is_active,
            ..
        } => Lifecycle::Live(LiveKey {
            id: api_key_id,
            name: api_key_name,
            user_id,
            description,
            expires_at,
            is_active,
            key_hash,
            previous: None,
            exposed: false,
            policy: Box::default(),
        }),
        _ => Lifecycle::New,
    }
}

impl ApiKey {
    /// New id: imported (the name must be free). Live: brought up to date with the mutable fields.
    /// Deleted here: refused, so a key an operator removed does not come back with a re-run.
    pub(super) async fn import(
        &self,
        cmd: ImportApiKey,
        services: &Services,
    ) -> Result<Option<ApiKeyEvent>, ApiKeyError> {
        match &self.state {
            Lifecycle::New => {
                if services.directory.key_name_in_use(&cmd.name).await? {
                    return Err(ApiKeyError::NameTaken(cmd.name.to_string()));
                }
                Ok(Some(imported(cmd)))
            }
            Lifecycle::Live(key) => key.reimport(cmd, services).await,
            Lifecycle::Deleted => Err(ApiKeyError::DeletedAfterImport(cmd.api_key_id.to_string())),
        }
    }
}

impl LiveKey {
    /// Only description, expiry and the active flag may follow the other system, and a change that
    /// takes the last live admin key away is refused as an update would be.
    async fn reimport(
        &self,
        cmd: ImportApiKey,
        services: &Services,
    ) -> Result<Option<ApiKeyEvent>, ApiKeyError> {
        let fixed = [
            ("apiKeyName", self.name == cmd.name),
            ("userId", self.user_id == cmd.user_id),
            ("apiKeyHash", self.key_hash == cmd.key_hash),
        ];
        let differing: Vec<&str> = fixed
            .iter()
            .filter(|(_, same)| !same)
            .map(|(f, _)| *f)
            .collect();
        if !differing.is_empty() {
            return Err(ApiKeyError::ImportConflict {
                id: self.id.to_string(),
                fields: differing.join(", "),
            });
        }
        let changes = self.changes_to(
            Some(cmd.description),
            Some(cmd.expires_at),
            Some(cmd.is_active),
        );
        if changes.is_empty() {
            return Ok(None);
        }
        self.keep_admin_access_after(&changes, cmd.source.imported_at, services, None)
            .await?;
        Ok(Some(ApiKeyEvent::ApiKeyImportUpdated {
            api_key_id: self.id,
            api_key_name: self.name.clone(),
            user_id: self.user_id.clone(),
            changes,
            updated_at: cmd.updated_at,
            source: cmd.source,
        }))
    }
}

fn imported(cmd: ImportApiKey) -> ApiKeyEvent {
    ApiKeyEvent::ApiKeyImported {
        api_key_id: cmd.api_key_id,
        api_key_name: cmd.name,
        user_id: cmd.user_id,
        description: cmd.description,
        key_hash: cmd.key_hash,
        expires_at: cmd.expires_at,
        is_active: cmd.is_active,
        created_by: cmd.created_by,
        created_at: cmd.created_at,
        updated_at: cmd.updated_at,
        source: cmd.source,
    }
}

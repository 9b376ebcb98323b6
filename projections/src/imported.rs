//! The listing row an imported key starts with: its state and times as the other system had them
//! (the fold in [`crate::read_model`] calls it for `ApiKeyImported`).
use crate::key_listing::ApiKeyView;
use domain::api_key::ApiKeyEvent;

/// The listing row of an imported key: its state and times as the other system had them.
pub(crate) fn view(event: &ApiKeyEvent, version: u64) -> Option<ApiKeyView> {
    let ApiKeyEvent::ApiKeyImported {
        api_key_id,
        api_key_name,
        user_id,
        description,
        key_hash,
        expires_at,
        is_active,
        created_by,
        created_at,
        updated_at,
        ..
    } = event
    else {
        return None;
    };
    Some(ApiKeyView {
        api_key_id: *api_key_id,
        api_key_name: api_key_name.to_string(),
        user_id: user_id.clone(),
        description: description.as_ref().to_owned(),
        key_hash: *key_hash,
        created_by: created_by.as_ref().to_owned(),
        created_at: *created_at,
        updated_at: *updated_at,
        expires_at: expires_at.map(|e| e.at()),
        is_active: *is_active,
        version,
    })
}

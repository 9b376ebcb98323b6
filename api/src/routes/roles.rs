//! `/roles`: list, create, update, delete (deleting a role takes it from every user first).
use crate::auth::AdminCaller;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::openapi::schemas::{MessageBody, RoleDone, RoleList};
use crate::openapi::{Admin, NotFound, WithBody, Writes};
use crate::routes::{bad, required, wire_time};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use domain::role::{RoleCommand, RoleDefinition};
use domain::{Description, RoleName};
use serde::Deserialize;
use serde_json::{json, Value};

/// The only `source` VAMS accepts.
const INTERNAL_SYSTEM: &str = "INTERNAL_SYSTEM";

/// Routes under `/roles`.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/roles")
            .route(web::get().to(list))
            .route(web::post().to(create))
            .route(web::put().to(update)),
    )
    .route("/roles/{role_name}", web::delete().to(delete));
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct PageQuery {
    max_items: Option<String>,
    /// Sent by vamscli; as in VAMS it sizes store pages and does not limit the rows returned.
    #[allow(dead_code)]
    page_size: Option<String>,
    starting_token: Option<String>,
}

/// Parses `maxItems` (default 30000, as VAMS); invalid values fall back silently like VAMS does.
fn max_items(q: &PageQuery) -> usize {
    q.max_items
        .as_deref()
        .and_then(|m| m.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(30_000)
}

#[utoipa::path(get, path = "/roles", tag = "roles", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, description = "Roles, by name", body = RoleList), Admin))]
async fn list(
    state: web::Data<AppState>,
    _caller: AdminCaller,
    query: web::Query<PageQuery>,
) -> HttpResponse {
    let model = state.projector.read();
    let start = query.starting_token.clone().unwrap_or_default();
    let limit = max_items(&query);
    let mut roles = model
        .directory
        .roles
        .values()
        .filter(|r| start.is_empty() || r.definition.role_name.as_ref() > start.as_str());
    let items: Vec<Value> = roles
        .by_ref()
        .take(limit)
        .map(|r| {
            json!({
                "id": r.id,
                "roleName": r.definition.role_name,
                "description": r.definition.description,
                "createdOn": wire_time(r.created_on),
                "source": r.definition.source,
                "sourceIdentifier": r.definition.source_identifier,
                "mfaRequired": r.definition.mfa_required,
            })
        })
        .collect();
    let next = match (items.last(), roles.next()) {
        (Some(last), Some(_)) => last["roleName"].clone(),
        _ => Value::Null,
    };
    HttpResponse::Ok().json(json!({ "message": { "Items": items, "NextToken": next } }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RoleRequest {
    #[schema(value_type = String, required = true, pattern = r"^[a-zA-Z0-9\-._\s]{1,256}$", example = "auditor")]
    role_name: Option<String>,
    /// No control characters but newline and tab, no bidi controls (U+202A–U+202E, U+2066–U+2069).
    #[schema(value_type = String, required = true, min_length = 1, max_length = 256, example = "Reads audit trails")]
    description: Option<String>,
    /// Only `INTERNAL_SYSTEM`.
    #[schema(value_type = Option<String>, pattern = "^INTERNAL_SYSTEM$")]
    source: Option<String>,
    source_identifier: Option<String>,
    /// A boolean, or the string `"true"`/`"false"`.
    #[schema(value_type = Option<bool>)]
    mfa_required: Option<Value>,
}

impl RoleRequest {
    fn definition(self) -> Result<RoleDefinition, ApiError> {
        if self.role_name.is_none() || self.description.is_none() {
            return Err(ApiError::BadRequest(
                "roleName and description are required".into(),
            ));
        }
        if self.source.as_deref().is_some_and(|s| s != INTERNAL_SYSTEM) {
            return Err(ApiError::BadRequest(format!(
                "Invalid source. Allowed values: {INTERNAL_SYSTEM}"
            )));
        }
        let mfa_required = match self.mfa_required {
            None | Some(Value::Null) => false,
            Some(raw) => domain::IsActive::parse(&raw)
                .map_err(|_| ApiError::BadRequest("mfaRequired must be true or false".into()))?
                .get(),
        };
        Ok(RoleDefinition {
            role_name: RoleName::parse(required(&self.role_name, "roleName")?).map_err(bad)?,
            description: Description::parse(required(&self.description, "description")?)
                .map_err(bad)?,
            source: self.source,
            source_identifier: self.source_identifier,
            mfa_required,
        })
    }
}

fn done(role: &RoleName, operation: &str, verb: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "success": true,
        "message": format!("Role {role} {verb} successfully"),
        "roleName": role,
        "operation": operation,
        "timestamp": wire_time(Utc::now()),
    }))
}

#[utoipa::path(post, path = "/roles", tag = "roles", security(("bearer" = [])), request_body = RoleRequest,
    responses((status = 200, description = "Created", body = RoleDone), Admin, WithBody, Writes))]
#[tracing::instrument(skip_all, fields(actor = %caller.0.principal.user_id))]
async fn create(
    state: web::Data<AppState>,
    caller: AdminCaller,
    body: JsonBody<RoleRequest>,
) -> Result<HttpResponse, ApiError> {
    let definition = body.0.definition()?;
    let role = definition.role_name.clone();
    let command = RoleCommand::Create {
        id: uuid::Uuid::new_v4(),
        definition,
        actor: caller.0.actor(),
        at: Utc::now(),
    };
    state
        .bus
        .role(
            role.as_ref(),
            command,
            caller.0.metadata_for("roleCreate", Value::Null),
        )
        .await?;
    Ok(done(&role, "create", "created"))
}

#[utoipa::path(put, path = "/roles", tag = "roles", security(("bearer" = [])), request_body = RoleRequest,
    responses((status = 200, description = "Updated (omitted optional fields are cleared)", body = RoleDone),
        Admin, WithBody, Writes))]
#[tracing::instrument(skip_all, fields(actor = %caller.0.principal.user_id))]
async fn update(
    state: web::Data<AppState>,
    caller: AdminCaller,
    body: JsonBody<RoleRequest>,
) -> Result<HttpResponse, ApiError> {
    let definition = body.0.definition()?;
    let role = definition.role_name.clone();
    let command = RoleCommand::Update {
        definition,
        actor: caller.0.actor(),
        at: Utc::now(),
    };
    state
        .bus
        .role(
            role.as_ref(),
            command,
            caller.0.metadata_for("roleUpdate", Value::Null),
        )
        .await?;
    Ok(done(&role, "update", "updated"))
}

/// Takes the role from every holder and deletes it, as VAMS does, in one commit: either every holder
/// loses it and it is gone, or nothing changed. A holder's key stops authenticating at once if that
/// was its only role.
#[utoipa::path(delete, path = "/roles/{role_name}", tag = "roles", security(("bearer" = [])),
    params(("role_name" = String, Path, description = "The role")),
    responses((status = 200, description = "Deleted, after being taken from every holder", body = MessageBody),
        Admin, Writes, NotFound))]
#[tracing::instrument(skip_all, fields(actor = %caller.0.principal.user_id))]
async fn delete(
    state: web::Data<AppState>,
    caller: AdminCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let role = RoleName::parse(&path.into_inner()).map_err(bad)?;
    // Deleting an admin role would lock every administrator out at once (VAMS allows it; a restart
    // does not bootstrap again). Take the role off APIKEYD_ADMIN_ROLES first if that is the intent.
    if state.admin_roles.iter().any(|a| a == role.as_ref()) {
        return Err(ApiError::BadRequest(format!(
            "Role '{role}' is an admin role (APIKEYD_ADMIN_ROLES) and cannot be deleted"
        )));
    }
    if !state.projector.read().directory.roles.contains_key(&role) {
        return Err(ApiError::BadRequest(
            domain::role::RoleError::NotFound.to_string(),
        ));
    }
    let holders = state
        .bus
        .delete_role(
            &role,
            caller.0.actor(),
            Utc::now(),
            caller.0.metadata_for("roleDelete", Value::Null),
        )
        .await?;
    tracing::info!(role = %role, holders = holders.len(), "role deleted and taken from its holders");
    Ok(HttpResponse::Ok().json(json!({ "message": "success" })))
}

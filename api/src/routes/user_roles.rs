//! `/user-roles`: list, assign, replace, remove all (DELETE carries a JSON body).
use crate::auth::AdminCaller;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::openapi::schemas::{UserRolesDone, UserRolesList};
use crate::openapi::{Admin, WithBody, Writes};
use crate::routes::{bad, required, wire_time};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use domain::user_roles::UserRolesCommand;
use domain::{RoleName, UserId};
use serde::Deserialize;
use serde_json::{json, Value};

/// Routes under `/user-roles`.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/user-roles")
            .route(web::get().to(list))
            .route(web::post().to(assign))
            .route(web::put().to(replace))
            .route(web::delete().to(remove_all)),
    );
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct PageQuery {
    max_items: Option<String>,
    page_size: Option<String>,
    starting_token: Option<String>,
}

/// Grouped by user, ordered by first assignment; the token is the next item's `createdOn`.
#[utoipa::path(get, path = "/user-roles", tag = "user-roles", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, description = "Users and their roles", body = UserRolesList), Admin))]
async fn list(
    state: web::Data<AppState>,
    _caller: AdminCaller,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let parse = |raw: &Option<String>, name: &str| {
        raw.as_deref()
            .map(|v| {
                v.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    ApiError::BadRequest(format!("{name} must be a positive integer"))
                })
            })
            .transpose()
    };
    parse(&query.page_size, "pageSize")?;
    let limit = parse(&query.max_items, "maxItems")?.unwrap_or(30_000);
    let model = state.projector.read();
    let mut users: Vec<_> = model.directory.users.values().collect();
    users.sort_by(|a, b| (a.created_on, &a.user_id).cmp(&(b.created_on, &b.user_id)));
    let start = query.starting_token.as_deref().unwrap_or("");
    let mut rest = users
        .into_iter()
        .filter(|u| start.is_empty() || wire_time(u.created_on).as_str() >= start);
    let items: Vec<Value> = rest
        .by_ref()
        .take(limit)
        .map(|u| json!({ "userId": u.user_id, "roleName": u.roles, "createdOn": wire_time(u.created_on) }))
        .collect();
    let mut message = json!({ "Items": items });
    if let Some(next) = rest.next() {
        message["NextToken"] = json!(wire_time(next.created_on));
    }
    Ok(HttpResponse::Ok().json(json!({ "message": message })))
}

/// `roleName` is required except for DELETE.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UserRolesRequest {
    #[schema(value_type = String, required = true, pattern = r"^[\w\-\.\+\@]{3,256}$", example = "ci-bot")]
    user_id: Option<String>,
    #[schema(value_type = Option<Vec<String>>, min_items = 1, example = json!(["admin"]))]
    role_name: Option<Vec<String>>,
}

impl UserRolesRequest {
    fn user(&self) -> Result<UserId, ApiError> {
        UserId::parse(required(&self.user_id, "userId")?).map_err(bad)
    }

    fn roles(&self) -> Result<Vec<RoleName>, ApiError> {
        let names = self
            .role_name
            .as_ref()
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                ApiError::BadRequest("roleName must be a non-empty list of role names".into())
            })?;
        names
            .iter()
            .map(|n| RoleName::parse(n).map_err(bad))
            .collect()
    }
}

fn done(user: &UserId, operation: &str, verb: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "success": true,
        "message": format!("User roles {verb} successfully"),
        "userId": user,
        "operation": operation,
        "timestamp": wire_time(Utc::now()),
    }))
}

/// Runs a command on `user_id`'s roles and answers as VAMS does. `sent` is the `roleName` list as
/// the request gave it, for the audit trail.
async fn execute(
    state: &AppState,
    caller: &AdminCaller,
    user_id: &UserId,
    command: UserRolesCommand,
    (operation, verb): (&str, &str),
    sent: Option<Vec<String>>,
) -> Result<HttpResponse, ApiError> {
    let audit_type = format!(
        "userRole{}{}",
        operation[..1].to_uppercase(),
        &operation[1..]
    );
    let fields = sent.map_or(Value::Null, |names| json!({ "roleName": names }));
    state
        .bus
        .user_roles(
            user_id.as_ref(),
            command,
            caller.0.metadata_for(&audit_type, fields),
        )
        .await?;
    Ok(done(user_id, operation, verb))
}

#[utoipa::path(post, path = "/user-roles", tag = "user-roles", security(("bearer" = [])),
    request_body = UserRolesRequest,
    responses((status = 200, description = "Assigned", body = UserRolesDone), Admin, WithBody, Writes))]
#[tracing::instrument(skip_all, fields(actor = %caller.0.principal.user_id))]
async fn assign(
    state: web::Data<AppState>,
    caller: AdminCaller,
    body: JsonBody<UserRolesRequest>,
) -> Result<HttpResponse, ApiError> {
    let (user_id, roles) = (body.0.user()?, body.0.roles()?);
    let command = UserRolesCommand::Assign {
        user_id: user_id.clone(),
        roles,
        actor: caller.0.actor(),
        at: Utc::now(),
    };
    let sent = body.0.role_name;
    execute(
        &state,
        &caller,
        &user_id,
        command,
        ("create", "created"),
        sent,
    )
    .await
}

#[utoipa::path(put, path = "/user-roles", tag = "user-roles", security(("bearer" = [])),
    request_body = UserRolesRequest,
    responses((status = 200, description = "Replaced", body = UserRolesDone), Admin, WithBody, Writes))]
#[tracing::instrument(skip_all, fields(actor = %caller.0.principal.user_id))]
async fn replace(
    state: web::Data<AppState>,
    caller: AdminCaller,
    body: JsonBody<UserRolesRequest>,
) -> Result<HttpResponse, ApiError> {
    let (user_id, roles) = (body.0.user()?, body.0.roles()?);
    let command = UserRolesCommand::Replace {
        user_id: user_id.clone(),
        roles,
        actor: caller.0.actor(),
        at: Utc::now(),
    };
    let sent = body.0.role_name;
    execute(
        &state,
        &caller,
        &user_id,
        command,
        ("update", "updated"),
        sent,
    )
    .await
}

#[utoipa::path(delete, path = "/user-roles", tag = "user-roles", security(("bearer" = [])),
    request_body = UserRolesRequest,
    responses((status = 200, description = "Every role removed", body = UserRolesDone), Admin, WithBody, Writes))]
#[tracing::instrument(skip_all, fields(actor = %caller.0.principal.user_id))]
async fn remove_all(
    state: web::Data<AppState>,
    caller: AdminCaller,
    body: JsonBody<UserRolesRequest>,
) -> Result<HttpResponse, ApiError> {
    let user_id = body.0.user()?;
    let command = UserRolesCommand::RemoveAll {
        user_id: user_id.clone(),
        actor: caller.0.actor(),
        at: Utc::now(),
    };
    execute(
        &state,
        &caller,
        &user_id,
        command,
        ("delete", "deleted"),
        None,
    )
    .await
}

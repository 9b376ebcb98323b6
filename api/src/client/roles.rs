//! `role list|create|update|delete` over `/roles` and `role user …` over `/user-roles`.
use super::error::{ClientError, ClientResult};
use super::http::{segment, Api};
use super::output::{confirm, out, print_json, print_message, table, text, when};
use super::session::authenticated;
use super::ClientArgs;
use clap::Subcommand;
use reqwest::Method;
use serde_json::{json, Value};

/// `role` subcommands.
#[derive(Debug, Subcommand)]
pub enum RoleAction {
    /// List roles.
    List,
    /// Create a role.
    Create {
        /// Letters, digits, spaces, '-', '.', '_' (1–256).
        #[arg(long)]
        role_name: String,
        /// What the role is for.
        #[arg(long)]
        description: String,
        /// Require MFA for the role's holders.
        #[arg(long)]
        mfa_required: bool,
    },
    /// Change a role's description or MFA flag; what is not given is kept as the server has it.
    Update {
        /// The role to change.
        #[arg(long)]
        role_name: String,
        /// New description.
        #[arg(long)]
        description: Option<String>,
        /// Require MFA (true) or not (false).
        #[arg(long)]
        mfa_required: Option<bool>,
    },
    /// Delete a role, taking it from every user first: keys of users left without roles stop
    /// working. Asks first on a terminal; without one, --yes is required (else exit 2).
    Delete {
        /// The role to delete.
        #[arg(long)]
        role_name: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Which roles each user holds.
    User {
        #[command(subcommand)]
        action: UserRoleAction,
    },
}

/// `role user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserRoleAction {
    /// List users and their roles.
    List,
    /// Give a user roles (repeat --role-name for several).
    Create {
        /// The user.
        #[arg(long)]
        user_id: String,
        /// A role to give; repeatable.
        #[arg(long, required = true)]
        role_name: Vec<String>,
    },
    /// Replace a user's roles with exactly these (repeat --role-name for several).
    Update {
        /// The user.
        #[arg(long)]
        user_id: String,
        /// A role the user keeps or gets; repeatable.
        #[arg(long, required = true)]
        role_name: Vec<String>,
    },
    /// Take every role from a user: the user's keys stop working. Asks first on a terminal;
    /// without one, --yes is required (else exit 2).
    Delete {
        /// The user.
        #[arg(long)]
        user_id: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

/// Runs a `role` subcommand.
pub async fn run(action: RoleAction, args: &ClientArgs) -> ClientResult {
    let api = authenticated(args)?;
    let as_json = args.json;
    let answer = match action {
        RoleAction::List => return list_roles(&api, as_json).await,
        RoleAction::User { action } => return run_user(&api, action, as_json).await,
        RoleAction::Create {
            role_name,
            description,
            mfa_required,
        } => {
            let mut body = json!({ "roleName": role_name, "description": description });
            if mfa_required {
                body["mfaRequired"] = json!(true);
            }
            api.send(Method::POST, "/roles", &[], Some(&body)).await?
        }
        RoleAction::Update {
            role_name,
            description,
            mfa_required,
        } => update_role(&api, &role_name, description, mfa_required).await?,
        RoleAction::Delete { role_name, yes } => {
            confirm(
                &format!("Delete role '{role_name}' and take it from every user?"),
                yes,
            )?;
            let path = format!("/roles/{}", segment(&role_name));
            api.send(Method::DELETE, &path, &[], None).await?
        }
    };
    print_message(&answer, as_json)?;
    Ok(())
}

/// PUT /roles replaces the whole role, so the current one fills in what was not given.
async fn update_role(
    api: &Api,
    role_name: &str,
    description: Option<String>,
    mfa_required: Option<bool>,
) -> ClientResult<Value> {
    if description.is_none() && mfa_required.is_none() {
        return Err(ClientError::Usage(
            "nothing to update: give --description or --mfa-required".into(),
        ));
    }
    let current = message_items(&api.get("/roles").await?)
        .into_iter()
        .find(|r| r.get("roleName").and_then(Value::as_str) == Some(role_name));
    let Some(current) = current else {
        return Err(ClientError::Refused(format!(
            "role '{role_name}' does not exist"
        )));
    };
    let mut body = json!({
        "roleName": role_name,
        "description": description.unwrap_or_else(|| text(&current, "description")),
        "mfaRequired": mfa_required
            .unwrap_or_else(|| current.get("mfaRequired") == Some(&Value::Bool(true))),
    });
    for field in ["source", "sourceIdentifier"] {
        if let Some(Value::String(value)) = current.get(field) {
            body[field] = json!(value);
        }
    }
    api.send(Method::PUT, "/roles", &[], Some(&body)).await
}

async fn list_roles(api: &Api, as_json: bool) -> ClientResult {
    let body = api.get("/roles").await?;
    if as_json {
        print_json(&body)?;
        return Ok(());
    }
    let roles = message_items(&body);
    if roles.is_empty() {
        out("No roles.")?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = roles
        .iter()
        .map(|role| {
            let mfa = role.get("mfaRequired") == Some(&Value::Bool(true));
            vec![
                text(role, "roleName"),
                text(role, "description"),
                if mfa { "yes" } else { "no" }.to_owned(),
                text(role, "source"),
                when(role, "createdOn"),
            ]
        })
        .collect();
    out(&table(
        &["Role", "Description", "MFA", "Source", "Created"],
        &rows,
    ))?;
    Ok(())
}

async fn run_user(api: &Api, action: UserRoleAction, as_json: bool) -> ClientResult {
    let answer = match action {
        UserRoleAction::List => return list_user_roles(api, as_json).await,
        UserRoleAction::Create { user_id, role_name } => {
            let body = json!({ "userId": user_id, "roleName": role_name });
            api.send(Method::POST, "/user-roles", &[], Some(&body))
                .await?
        }
        UserRoleAction::Update { user_id, role_name } => {
            let body = json!({ "userId": user_id, "roleName": role_name });
            api.send(Method::PUT, "/user-roles", &[], Some(&body))
                .await?
        }
        UserRoleAction::Delete { user_id, yes } => {
            confirm(&format!("Take every role from user '{user_id}'?"), yes)?;
            let body = json!({ "userId": user_id });
            api.send(Method::DELETE, "/user-roles", &[], Some(&body))
                .await?
        }
    };
    print_message(&answer, as_json)?;
    Ok(())
}

async fn list_user_roles(api: &Api, as_json: bool) -> ClientResult {
    let body = api.get("/user-roles").await?;
    if as_json {
        print_json(&body)?;
        return Ok(());
    }
    let users = message_items(&body);
    if users.is_empty() {
        out("No user roles.")?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = users
        .iter()
        .map(|user| {
            let roles: Vec<String> = user
                .get("roleName")
                .and_then(Value::as_array)
                .map(|names| {
                    names
                        .iter()
                        .map(|n| n.as_str().map_or_else(|| n.to_string(), str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            vec![
                text(user, "userId"),
                roles.join(", "),
                when(user, "createdOn"),
            ]
        })
        .collect();
    out(&table(&["User ID", "Roles", "Created"], &rows))?;
    Ok(())
}

/// `Items` of a `{"message": {"Items": […]}}` answer (or of a bare `{"Items": […]}`).
fn message_items(body: &Value) -> Vec<Value> {
    let inner = body
        .get("message")
        .filter(|m| m.is_object())
        .unwrap_or(body);
    inner
        .get("Items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

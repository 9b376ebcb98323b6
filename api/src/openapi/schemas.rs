//! Response shapes the handlers build with `json!`, described for the document. Never constructed:
//! each mirrors one handler's output exactly, and schemathesis checks every response against them.
#![allow(dead_code)]
use utoipa::ToSchema;

/// Every error: `{"message": …}` (VAMS's shape).
#[derive(ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for people.
    message: String,
}

/// A plain `{"message": …}` success (deletes).
#[derive(ToSchema)]
pub struct MessageBody {
    /// What was done.
    message: String,
}

/// `GET /api/version`.
#[derive(ToSchema)]
pub struct Version {
    /// Always `2.5.1`, the VAMS version vamscli checks for.
    #[schema(example = "2.5.1")]
    version: String,
}

/// Cognito/OAuth fields VAMS emits; `"undefined"` here.
#[derive(ToSchema)]
#[allow(non_snake_case)]
pub struct ExternalOAuthIdp {
    URL: String,
    ClientId: String,
    Scope: String,
    ScopeMfa: String,
    TokenEndpoint: String,
    AuthorizationEndpoint: String,
    DiscoveryEndpoint: String,
}

/// `GET /api/amplify-config`: only `api` matters to vamscli with API keys.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AmplifyConfig {
    /// The base URL clients use.
    api: String,
    region: String,
    cognito_user_pool_id: String,
    cognito_app_client_id: String,
    cognito_identity_pool_id: String,
    external_o_auth_idp: ExternalOAuthIdp,
    stack_name: String,
    content_security_policy: String,
    banner_html_message: String,
}

/// `GET /secure-config`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecureConfig {
    /// Comma-separated feature switches (none).
    features_enabled: String,
    web_deployed_url: String,
    location_service_api_url: String,
}

/// One profile row.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileItem {
    user_id: String,
    email: String,
}

/// The profile rows.
#[derive(ToSchema)]
pub struct ProfileItems {
    #[serde(rename = "Items")]
    items: Vec<ProfileItem>,
}

/// `GET /auth/loginProfile/{user_id}`.
#[derive(ToSchema)]
pub struct LoginProfile {
    message: ProfileItems,
}

/// `GET /auth/api-keys`: `NextToken` only when VAMS paging was asked for (`maxItems`,
/// `startingToken`; `null` on the last page); `totalCount` only on console pages (`pageSize`,
/// `page`, `sortBy`, `sortOrder`, `search`). Without parameters: every key, as VAMS answers.
#[derive(ToSchema)]
pub struct ApiKeyList {
    #[serde(rename = "Items")]
    items: Vec<crate::routes::api_keys::ApiKeyItem>,
    #[serde(rename = "NextToken")]
    next_token: Option<String>,
    /// Console pages: how many keys match `search` (all keys without it).
    #[serde(rename = "totalCount")]
    total_count: Option<u64>,
}

/// `POST /auth/api-keys`: the stored key plus its plaintext, shown this once.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyCreated {
    #[schema(format = Uuid)]
    api_key_id: String,
    api_key_name: String,
    user_id: String,
    description: String,
    created_by: String,
    created_at: String,
    updated_at: String,
    /// `""` when the key never expires.
    expires_at: String,
    /// The string `"true"` or `"false"`, as VAMS stores it.
    #[schema(pattern = "^(true|false)$")]
    is_active: String,
    /// Always `""`: a new key was never used.
    last_used_at: String,
    /// Always `""`.
    last_used_from: String,
    /// `vams_` + 49 base62 characters (256 random bits and a CRC32 checksum, README); stored only
    /// as a hash.
    #[schema(pattern = "^vams_[A-Za-z0-9_-]+$")]
    api_key: String,
}

/// `POST /auth/api-keys/{apiKeyId}/rotate`: the key with its new plaintext in `apiKey` (shown this
/// once, `vams_` + 49 base62 characters), and when the previous secret stops.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyRotated {
    #[serde(flatten)]
    key: ApiKeyCreated,
    /// When the rotation happened.
    rotated_at: String,
    /// When the previous secret stops authenticating (`rotatedAt` when it stopped at once).
    previous_key_expires_at: String,
}

/// One audit record (see `projections::audit::AuditRecord`).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    event_id: String,
    time: String,
    action: String,
    actor: String,
    actor_roles: Vec<String>,
    #[schema(required = false)]
    auth_method: String,
    #[schema(required = false)]
    request_id: String,
    #[schema(required = false)]
    source_ip: String,
    aggregate_type: String,
    aggregate_id: String,
    #[schema(minimum = 1)]
    sequence: u64,
    #[schema(required = false)]
    api_key_id: String,
    #[schema(required = false)]
    api_key_name: String,
    #[schema(required = false)]
    user_id: String,
    #[schema(required = false)]
    role_name: String,
    changed_fields: Vec<String>,
    /// Field → `{"old", "new"}` for updates; the created values for creates.
    #[schema(required = false, value_type = Object)]
    changes: serde_json::Value,
    /// The request behind it: `method`, `path`, `operation` (VAMS's audit type), `fields` (what it
    /// sent that the event does not keep). Never a header or a body.
    #[schema(required = false, value_type = Object)]
    request: serde_json::Value,
}

/// `GET /auth/api-keys/{api_key_id}/audit`, oldest first.
#[derive(ToSchema)]
pub struct AuditList {
    #[serde(rename = "Items")]
    items: Vec<AuditRecord>,
}

/// One role.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleItem {
    #[schema(format = Uuid)]
    id: String,
    role_name: String,
    description: String,
    created_on: String,
    source: Option<String>,
    source_identifier: Option<String>,
    mfa_required: bool,
}

/// A page of roles.
#[derive(ToSchema)]
pub struct RolePage {
    #[serde(rename = "Items")]
    items: Vec<RoleItem>,
    /// The last role name of this page when more follow.
    #[serde(rename = "NextToken")]
    next_token: Option<String>,
}

/// `GET /roles`.
#[derive(ToSchema)]
pub struct RoleList {
    message: RolePage,
}

/// `POST|PUT /roles`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleDone {
    success: bool,
    message: String,
    role_name: String,
    #[schema(pattern = "^(create|update)$")]
    operation: String,
    timestamp: String,
}

/// One user's roles.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserRolesItem {
    user_id: String,
    role_name: Vec<String>,
    created_on: String,
}

/// A page of user roles.
#[derive(ToSchema)]
pub struct UserRolesPage {
    #[serde(rename = "Items")]
    items: Vec<UserRolesItem>,
    /// The next item's `createdOn`, when more follow.
    #[serde(rename = "NextToken")]
    #[schema(required = false)]
    next_token: String,
}

/// `GET /user-roles`.
#[derive(ToSchema)]
pub struct UserRolesList {
    message: UserRolesPage,
}

/// `POST|PUT|DELETE /user-roles`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserRolesDone {
    success: bool,
    message: String,
    user_id: String,
    #[schema(pattern = "^(create|update|delete)$")]
    operation: String,
    timestamp: String,
}

/// Why a key was or was not accepted.
#[derive(ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerifyCode {
    Valid,
    NotFound,
    Disabled,
    Expired,
    /// The user holds none of the roles the key may act with (its scope, when it has one).
    NoRoles,
    Malformed,
    /// The client address is outside the key's `allowedCidrs`.
    IpNotAllowed,
    /// The key is over its `rateLimit` for the current window (see `retryAfterSeconds`).
    RateLimited,
}

/// `POST /auth/verify`: always 200 (unless rate-limited); the answer is in `valid` and `code`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyResult {
    valid: bool,
    code: VerifyCode,
    user_id: Option<String>,
    #[schema(format = Uuid)]
    api_key_id: Option<String>,
    /// The roles the key acts with: its user's, narrowed to the key's scope.
    roles: Option<Vec<String>>,
    /// The key's metadata, when it has any (valid keys only).
    #[schema(value_type = Option<Object>)]
    meta: Option<serde_json::Value>,
    /// With `RATE_LIMITED`: seconds until the key's window ends.
    retry_after_seconds: Option<u32>,
}

/// `GET /auth/check` on success (the same facts are in the `X-Vams-*` headers).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    user_id: String,
    #[schema(format = Uuid)]
    api_key_id: String,
    roles: Vec<String>,
}

/// `GET /healthz`.
#[derive(ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    status: String,
}

/// `GET /readyz`: 200 when the store answers and the persisted views equal memory, else 503.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    store_reachable: bool,
    applied_cursor: String,
    persisted_cursor: String,
    /// Why the node is not ready (absent when it is).
    reason: Option<String>,
}

/// One key at an instant (`GET /forensics/keys/{api_key_id}`).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyAt {
    #[schema(format = Uuid)]
    api_key_id: String,
    at: String,
    /// `NOT_CREATED`, `DELETED` or `LIVE`.
    #[schema(pattern = "^(NOT_CREATED|DELETED|LIVE)$")]
    state: String,
    #[schema(required = false)]
    api_key_name: String,
    #[schema(required = false)]
    user_id: String,
    #[schema(required = false)]
    description: String,
    #[schema(required = false)]
    is_active: bool,
    #[schema(required = false)]
    expires_at: String,
    expired: bool,
    /// The user's roles at that instant.
    user_roles: Vec<String>,
    /// Whether the key would have authenticated then: `VALID`, or why not.
    verification: VerifyCode,
    could_authenticate: bool,
    /// Its secrets then, by hash prefix: the current one and a rotation's previous one in grace.
    #[schema(required = false)]
    secrets: Vec<SecretAt>,
    #[schema(required = false)]
    rotated_at: String,
    #[schema(required = false)]
    exposed_at: String,
    #[schema(required = false)]
    exposure_source: String,
    /// The key's settings then (`roles`, `rateLimit`, `allowedCidrs`, `meta`), each only when set.
    #[serde(flatten)]
    settings: crate::routes::key_settings::SettingsItem,
    /// The key's events up to `at`, oldest first (rotations and leak reports included).
    #[schema(required = false)]
    history: Vec<AuditRecord>,
}

/// One secret of a key at an instant (`KeyAt.secrets`).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretAt {
    /// `current` or `previous`.
    #[schema(pattern = "^(current|previous)$")]
    role: String,
    /// First 8 hex digits of the secret's SHA-256.
    #[schema(pattern = "^[0-9a-f]{8}$")]
    hash_prefix: String,
    /// When it stops.
    #[schema(required = false)]
    valid_until: String,
    /// Whether it would have authenticated then.
    valid: bool,
}

/// A user at an instant: roles and every live key (`GET /forensics/users/{user_id}`).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserAt {
    user_id: String,
    at: String,
    roles: Vec<String>,
    keys: Vec<KeyAt>,
}

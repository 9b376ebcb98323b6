//! `POST /auth/exposures`: anyone who finds a leaked key reports it, and every live key it names is
//! deactivated at once (GitHub's credential revocation API, for apikeyd keys).
//!
//! The endpoint is no oracle: it needs no authentication, so it must not tell a caller which of the
//! strings it sent are keys. Every valid report gets the same 202 after the same work (validate,
//! hash each string); looking keys up and deactivating them happens after the answer, in the
//! background, so neither the body nor the timing depends on a match. Reports are rate-limited per
//! client address (the trusted-proxy rule of [`crate::client_info`]).
use crate::body::JsonBody;
use crate::client_info::ClientInfo;
use crate::commands::Metadata;
use crate::error::ApiError;
use crate::openapi::schemas::MessageBody;
use crate::openapi::{Common, RateLimited, WithBody};
use crate::routes::bad;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use domain::api_key::{ApiKeyCommand, ExposeApiKey};
use domain::{ExposureSource, KeyHash};
use projections::audit::meta;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

/// Most keys one report may name.
pub const MAX_REPORTED_KEYS: usize = 1_000;

/// The route.
pub const PATH: &str = "/auth/exposures";

/// Body cap of a report: a thousand VAMS-format keys (69 characters, quoted, comma-separated) and
/// the longest source, with room to spare; the general `APIKEYD_MAX_BODY_BYTES` applies if larger.
pub const MAX_REPORT_BYTES: usize = 128 * 1024;

/// What every accepted report is answered.
const ACCEPTED: &str =
    "Report received. Any live API key it names is deactivated; thank you for reporting.";

/// The leak report route.
pub fn config(cfg: &mut web::ServiceConfig) {
    // The literal, not [`PATH`]: the OpenAPI coverage test reads routes from the source.
    cfg.route("/auth/exposures", web::post().to(report));
}

/// Leaked keys and where they were found.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExposureReport {
    /// 1–1000 strings, each a key as found (`vams_…`); strings that are no live key are ignored.
    #[schema(value_type = Vec<String>, min_items = 1, max_items = 1000)]
    keys: Option<Value>,
    /// Where they were found (a URL, a repository, a paste), 1–1024 characters.
    #[schema(value_type = String, min_length = 1, max_length = 1024, example = "https://github.com/example/repo/blob/main/.env")]
    source: Option<String>,
}

/// The reported strings' hashes, de-duplicated. Never stored, never logged.
fn hashes(keys: Option<&Value>) -> Result<Vec<KeyHash>, ApiError> {
    let refused = || {
        ApiError::BadRequest(format!(
            "keys must be an array of 1 to {MAX_REPORTED_KEYS} strings"
        ))
    };
    let Some(Value::Array(items)) = keys else {
        return Err(refused());
    };
    if items.is_empty() || items.len() > MAX_REPORTED_KEYS {
        return Err(refused());
    }
    let mut hashes = items
        .iter()
        .map(|item| {
            item.as_str()
                .map(|key| KeyHash::of(key.trim()))
                .ok_or_else(refused)
        })
        .collect::<Result<Vec<_>, _>>()?;
    hashes.sort_unstable();
    hashes.dedup();
    Ok(hashes)
}

/// What the deactivations record: who reported (address, request), nothing of the reported text.
fn metadata(client: &ClientInfo, req: &HttpRequest) -> Metadata {
    let mut m = Metadata::new();
    m.insert(meta::AUTH_METHOD.into(), "none".into());
    m.insert(meta::REQUEST_ID.into(), client.request_id.clone());
    if let Some(ip) = client.client_ip {
        m.insert(meta::SOURCE_IP.into(), ip.to_string());
    }
    m.insert(meta::METHOD.into(), req.method().to_string());
    m.insert(meta::PATH.into(), req.path().to_owned());
    m.insert(meta::OPERATION.into(), "apiKeyExposed".into());
    m
}

/// 429 with `Retry-After` when this client sent too many reports.
fn limited(state: &AppState, client: &ClientInfo) -> Option<HttpResponse> {
    let ip = client.client_ip?;
    let reports = &state.limits.exposure_reports;
    if let Some(limit) = reports.limit(ip) {
        return Some(crate::limits::too_many(
            "Too many leak reports from this address; retry later",
            limit.retry_after_seconds(),
        ));
    }
    reports.record_failure(ip);
    None
}

#[utoipa::path(post, path = "/auth/exposures", tag = "exposures",
    request_body = ExposureReport,
    responses((status = 202, description = "Accepted, whether or not any key matched (the answer never says)", body = MessageBody),
        WithBody, RateLimited, Common))]
#[tracing::instrument(skip_all)]
pub(crate) async fn report(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<ExposureReport>,
) -> Result<HttpResponse, ApiError> {
    let client = ClientInfo::of(&req);
    if let Some(response) = limited(&state, &client) {
        return Ok(response);
    }
    let report = body.0;
    let hashes = hashes(report.keys.as_ref())?;
    let source =
        ExposureSource::parse(report.source.as_deref().unwrap_or_default()).map_err(bad)?;
    let reported = Reported {
        source,
        reporter_ip: client.client(),
        metadata: metadata(&client, &req),
    };
    tracing::info!(client_ip = %client.client(), keys = hashes.len(), "leak report received");
    actix_web::rt::spawn(deactivate(state.into_inner(), hashes, reported));
    Ok(HttpResponse::Accepted()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({ "message": ACCEPTED })))
}

/// A report's facts for the events it causes.
struct Reported {
    source: ExposureSource,
    reporter_ip: String,
    metadata: Metadata,
}

/// The live keys (by id) with one of `hashes` as a secret now.
fn matching(state: &AppState, hashes: &[KeyHash]) -> Vec<(Uuid, KeyHash)> {
    let now = Utc::now();
    let model = state.projector.read();
    let mut found: Vec<(Uuid, KeyHash)> = hashes
        .iter()
        .filter_map(|hash| {
            model
                .lookup
                .get_at(hash, now)
                .map(|k| (k.api_key_id, *hash))
        })
        .collect();
    found.sort_unstable_by_key(|(id, _)| *id);
    found.dedup_by_key(|(id, _)| *id);
    found
}

/// After the answer: deactivates every live key a report named. A key another node (or process)
/// created since the last poll is found after one catch-up with the log; reports are rate-limited,
/// so unmatched strings cannot make that a flood of log reads.
async fn deactivate(state: std::sync::Arc<AppState>, hashes: Vec<KeyHash>, reported: Reported) {
    let mut found = matching(&state, &hashes);
    if found.len() < hashes.len() {
        if let Err(error) = state.projector.catch_up_memory().await {
            tracing::warn!(%error, "catch-up for a leak report failed; matching what memory knows");
        }
        found = matching(&state, &hashes);
    }
    for (id, hash) in found {
        let command = ExposeApiKey {
            key_hash: hash,
            source: reported.source.clone(),
            reporter_ip: reported.reporter_ip.clone(),
            at: Utc::now(),
        };
        let result = state
            .bus
            .api_key(
                &id.to_string(),
                ApiKeyCommand::Expose(command),
                reported.metadata.clone(),
            )
            .await;
        match result {
            Ok(()) => {
                tracing::warn!(api_key_id = %id, hash_prefix = %hash.prefix(), "api key deactivated by a leak report")
            }
            Err(error) => {
                tracing::error!(api_key_id = %id, %error, "a leak report could not deactivate a key")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_one_to_a_thousand_strings() {
        let many = Value::Array(vec![json!("vams_x"); MAX_REPORTED_KEYS + 1]);
        let cases = [
            (None, false, "missing"),
            (Some(json!([])), false, "empty"),
            (Some(json!("vams_x")), false, "not an array"),
            (Some(json!([1])), false, "not strings"),
            (Some(many), false, "too many"),
            (
                Some(json!(["vams_x", "vams_x", "other"])),
                true,
                "duplicates and non-keys",
            ),
        ];
        for (keys, ok, why) in cases {
            let result = hashes(keys.as_ref());
            assert_eq!(result.is_ok(), ok, "{why}");
            if let Err(e) = result {
                assert!(!e.to_string().contains("vams_"), "{why}: echoes input");
            }
        }
        assert_eq!(hashes(Some(&json!(["vams_x", "vams_x"]))).unwrap().len(), 1);
    }
}

//! Contacts over REST (`/contacts`): the owner's favourite mesh nodes, kept
//! by `holdfast_core::contacts`. Upserts answer 201 when they created the
//! contact and 200 when they updated it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use holdfast_core::contacts::{Contact, ContactError, parse_node_id};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::ApiJson;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct ContactBody {
    /// The node's libp2p PeerId (`12D3KooW…`).
    pub node_id: String,
    pub name: String,
    pub note: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl From<Contact> for ContactBody {
    fn from(c: Contact) -> Self {
        Self {
            node_id: c.node_id,
            name: c.name,
            note: c.note,
            created_ms: c.created_ms,
            updated_ms: c.updated_ms,
        }
    }
}

/// `POST /contacts`: the node id in the body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    /// A libp2p PeerId (`12D3KooW…`).
    pub node_id: String,
    /// 1-64 characters once trimmed.
    pub name: String,
    /// At most 1024 characters. Left out: an existing note stays; `null` or
    /// empty: no note.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub note: Option<Option<String>>,
}

/// `PUT /contacts/{node_id}`: the node id in the path.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactFields {
    /// 1-64 characters once trimmed.
    pub name: String,
    /// At most 1024 characters. Left out: an existing note stays; `null` or
    /// empty: no note.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub note: Option<Option<String>>,
}

/// Tells a field given as `null` (Some(None)) from one left out (None).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Some(Option::deserialize(d)?))
}

impl From<ContactError> for ApiError {
    fn from(e: ContactError) -> Self {
        let m = e.to_string();
        match e {
            ContactError::BadNodeId | ContactError::Invalid(_) => ApiError::bad_request(m),
            ContactError::Full => ApiError::new(StatusCode::CONFLICT, m),
            ContactError::NotFound => ApiError::not_found(m),
            ContactError::Catalog(c) => ApiError::internal(c),
        }
    }
}

/// Every contact, by name.
#[utoipa::path(get, path = "/contacts", tag = "contacts", security(("bearer" = [])),
    responses((status = 200, body = Vec<ContactBody>), (status = 401, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<ContactBody>>> {
    let all = state.contacts.list().await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// Add a contact, or update the one with this node id.
#[utoipa::path(post, path = "/contacts", tag = "contacts", security(("bearer" = [])),
    request_body = NewContact,
    responses((status = 201, description = "Created", body = ContactBody),
              (status = 200, description = "Updated", body = ContactBody),
              (status = 400, description = "Invalid node id, name or note", body = ErrorBody),
              (status = 401, body = ErrorBody),
              (status = 409, description = "Already 1000 contacts", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewContact>,
) -> ApiResult<(StatusCode, Json<ContactBody>)> {
    let node_id = parse_node_id(&req.node_id)?;
    upsert(&state, &node_id, &req.name, req.note).await
}

/// Add or update the contact of `node_id`.
#[utoipa::path(put, path = "/contacts/{node_id}", tag = "contacts", security(("bearer" = [])),
    params(("node_id" = String, Path, description = "A libp2p PeerId")),
    request_body = ContactFields,
    responses((status = 201, description = "Created", body = ContactBody),
              (status = 200, description = "Updated", body = ContactBody),
              (status = 400, description = "Invalid node id, name or note", body = ErrorBody),
              (status = 401, body = ErrorBody),
              (status = 409, description = "Already 1000 contacts", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    Path(node_id): Path<String>,
    ApiJson(req): ApiJson<ContactFields>,
) -> ApiResult<(StatusCode, Json<ContactBody>)> {
    let node_id = parse_node_id(&node_id)?;
    upsert(&state, &node_id, &req.name, req.note).await
}

async fn upsert(
    state: &AppState,
    node_id: &libp2p_identity::PeerId,
    name: &str,
    note: Option<Option<String>>,
) -> ApiResult<(StatusCode, Json<ContactBody>)> {
    let (contact, created) = state.contacts.upsert(node_id, name, note).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(contact.into())))
}

/// One contact.
#[utoipa::path(get, path = "/contacts/{node_id}", tag = "contacts", security(("bearer" = [])),
    params(("node_id" = String, Path, description = "A libp2p PeerId")),
    responses((status = 200, body = ContactBody),
              (status = 400, description = "Invalid node id", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(node_id): Path<String>,
) -> ApiResult<Json<ContactBody>> {
    let node_id = parse_node_id(&node_id)?;
    Ok(Json(state.contacts.get(&node_id).await?.into()))
}

/// Remove a contact.
#[utoipa::path(delete, path = "/contacts/{node_id}", tag = "contacts", security(("bearer" = [])),
    params(("node_id" = String, Path, description = "A libp2p PeerId")),
    responses((status = 204, description = "Removed"),
              (status = 400, description = "Invalid node id", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(node_id): Path<String>,
) -> ApiResult<StatusCode> {
    let node_id = parse_node_id(&node_id)?;
    state.contacts.delete(&node_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

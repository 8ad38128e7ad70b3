//! Workspaces: teams inside a tenant, each with members and a role per
//! member (RBAC), and team rooms inside a workspace. Members are the
//! tenant's devices plus the daemon owner (member id `owner`), who owns
//! every workspace it creates. Roles, strongest first:
//! - `owner`: everything, the daemon owner only;
//! - `admin`: manages the workspace's marketplace listings (create, edit,
//!   publish, pause, delist);
//! - `member` and `viewer`: read the workspace, its team rooms and its
//!   listings.
//!
//! A team room belongs to one workspace; its members are the workspace's.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{HubError, HubResult, devices, new_id};
use crate::catalog::Catalog;
use crate::time::{now_ms, rfc3339};

pub const OWNER: &str = "owner";
pub const ADMIN: &str = "admin";
pub const MEMBER: &str = "member";
pub const VIEWER: &str = "viewer";

/// The member id of the daemon owner.
pub const OWNER_MEMBER: &str = "owner";

/// Members one workspace may have at most.
pub const MAX_MEMBERS: usize = 200;
/// Workspaces one tenant may have at most.
pub const MAX_WORKSPACES: i64 = 500;
/// Team rooms one workspace may have at most.
pub const MAX_ROOMS: i64 = 200;

/// How strong a role is (owner 3 … viewer 0).
pub fn rank(role: &str) -> u8 {
    match role {
        OWNER => 3,
        ADMIN => 2,
        MEMBER => 1,
        _ => 0,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Member {
    /// A device id, or `owner`.
    pub member_id: String,
    /// `owner` or `device`.
    pub kind: &'static str,
    pub role: String,
    pub added_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Workspace {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: String,
    pub members: Vec<Member>,
    /// The caller's role in it.
    pub role: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeamRoom {
    pub id: String,
    pub tenant_id: String,
    pub workspace_id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: String,
}

/// One member of a new workspace.
pub struct NewMember {
    pub device_id: String,
    pub role: Option<String>,
}

fn bad(m: impl Into<String>) -> HubError {
    HubError::BadRequest(m.into())
}

fn name_of(name: &str, what: &str) -> HubResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(bad(format!(
            "{what} name must be 1-100 characters without control characters"
        )));
    }
    Ok(name.to_owned())
}

fn description_of(d: Option<String>) -> HubResult<Option<String>> {
    match d {
        Some(d) if d.chars().count() > 1000 => Err(bad("description is over 1000 characters")),
        Some(d) if d.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

/// Make a workspace in `tenant`; the daemon owner is its `owner`, and the
/// named devices (the tenant's, not deleted) join with their roles (or
/// `default_role`).
pub async fn create(
    catalog: &Catalog,
    tenant: &str,
    name: &str,
    description: Option<String>,
    members: Vec<NewMember>,
    default_role: &str,
) -> HubResult<Workspace> {
    let name = name_of(name, "workspace")?;
    let description = description_of(description)?;
    if members.len() > MAX_MEMBERS {
        return Err(bad(format!("at most {MAX_MEMBERS} members")));
    }
    let mut rows: Vec<(String, String)> = Vec::new();
    for (i, m) in members.into_iter().enumerate() {
        let id = super::parse_id(&m.device_id)
            .ok_or_else(|| bad(format!("members[{i}].device_id must be a device UUID")))?;
        let role = m.role.unwrap_or_else(|| default_role.to_owned());
        if ![ADMIN, MEMBER, VIEWER].contains(&role.as_str()) {
            return Err(bad(format!(
                "members[{i}].role must be admin, member or viewer"
            )));
        }
        match devices::get(catalog, &id).await? {
            Some(d) if d.tenant_id == tenant => {}
            _ => {
                return Err(bad(format!(
                    "members[{i}].device_id is not a device of this tenant"
                )));
            }
        }
        if rows.iter().any(|(d, _)| *d == id) {
            return Err(bad(format!("members[{i}].device_id is repeated")));
        }
        rows.push((id, role));
    }
    let id = new_id();
    let (t, i2, n2) = (tenant.to_owned(), id.clone(), name.clone());
    let now = now_ms();
    catalog
        .write(move |c| {
            let tx = c.transaction()?;
            let count: i64 = tx.query_row(
                "SELECT COUNT(*) FROM hub_workspaces WHERE tenant_id = ?1",
                [&t],
                |r| r.get(0),
            )?;
            if count >= MAX_WORKSPACES {
                return Ok(Err(HubError::Conflict(format!(
                    "a tenant has at most {MAX_WORKSPACES} workspaces"
                ))));
            }
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM hub_workspaces WHERE tenant_id = ?1 AND name = ?2)",
                params![t, n2],
                |r| r.get(0),
            )?;
            if taken {
                return Ok(Err(HubError::Conflict(
                    "a workspace with this name exists".into(),
                )));
            }
            tx.execute(
                "INSERT INTO hub_workspaces (id, tenant_id, name, description, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![i2, t, n2, description, now],
            )?;
            let mut st = tx.prepare(
                "INSERT INTO hub_workspace_members (workspace_id, member_id, role, added_ms)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            st.execute(params![i2, OWNER_MEMBER, OWNER, now])?;
            for (d, role) in &rows {
                st.execute(params![i2, d, role, now])?;
            }
            drop(st);
            tx.commit()?;
            Ok(Ok(()))
        })
        .await??;
    get(catalog, tenant, &id, Some(OWNER_MEMBER)).await
}

fn members(c: &Connection, workspace: &str) -> rusqlite::Result<Vec<Member>> {
    let mut st = c.prepare(
        "SELECT member_id, role, added_ms FROM hub_workspace_members WHERE workspace_id = ?1
         ORDER BY member_id <> 'owner', added_ms, member_id",
    )?;
    st.query_map([workspace], |r| {
        let id: String = r.get(0)?;
        Ok(Member {
            kind: if id == OWNER_MEMBER {
                "owner"
            } else {
                "device"
            },
            member_id: id,
            role: r.get(1)?,
            added_at: rfc3339(r.get(2)?),
        })
    })?
    .collect()
}

/// Workspaces of `tenant`; with `member`, only those it belongs to.
pub async fn list(
    catalog: &Catalog,
    tenant: &str,
    member: Option<&str>,
) -> HubResult<Vec<Workspace>> {
    let (t, m) = (tenant.to_owned(), member.map(str::to_owned));
    Ok(catalog
        .read(move |c| {
            let mut st = c.prepare(
                "SELECT id, tenant_id, name, description, created_ms FROM hub_workspaces
                 WHERE tenant_id = ?1 ORDER BY created_ms, id",
            )?;
            let rows: Vec<(String, String, String, Option<String>, i64)> = st
                .query_map([&t], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<Result<_, _>>()?;
            let mut out = Vec::new();
            for (id, tenant_id, name, description, created) in rows {
                let ms = members(c, &id)?;
                let role = match &m {
                    None => Some(OWNER.to_owned()),
                    Some(m) => ms
                        .iter()
                        .find(|x| x.member_id == *m)
                        .map(|x| x.role.clone()),
                };
                if m.is_some() && role.is_none() {
                    continue;
                }
                out.push(Workspace {
                    id,
                    tenant_id,
                    name,
                    description,
                    created_at: rfc3339(created),
                    members: ms,
                    role,
                });
            }
            Ok(out)
        })
        .await?)
}

/// One workspace of `tenant` (404 otherwise), with `member`'s role.
pub async fn get(
    catalog: &Catalog,
    tenant: &str,
    id: &str,
    member: Option<&str>,
) -> HubResult<Workspace> {
    let all = list(catalog, tenant, None).await?;
    let mut w = all
        .into_iter()
        .find(|w| w.id == id)
        .ok_or_else(|| HubError::NotFound("Workspace not found".into()))?;
    w.role = match member {
        None => Some(OWNER.into()),
        Some(m) => w
            .members
            .iter()
            .find(|x| x.member_id == m)
            .map(|x| x.role.clone()),
    };
    Ok(w)
}

/// `member`'s role in a workspace of `tenant`: 404 when the workspace is
/// not the tenant's, 403 when `member` does not belong to it.
pub async fn role_of(catalog: &Catalog, tenant: &str, id: &str, member: &str) -> HubResult<String> {
    let (t, i, m) = (tenant.to_owned(), id.to_owned(), member.to_owned());
    let found: Option<(bool, Option<String>)> = catalog
        .read(move |c| {
            c.query_row(
                "SELECT 1, (SELECT role FROM hub_workspace_members
                            WHERE workspace_id = w.id AND member_id = ?3)
                 FROM hub_workspaces w WHERE w.id = ?1 AND w.tenant_id = ?2",
                params![i, t, m],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
        .await?;
    match found {
        None => Err(HubError::NotFound("Workspace not found".into())),
        Some((_, None)) => Err(HubError::Forbidden("Not a member of this workspace".into())),
        Some((_, Some(role))) => Ok(role),
    }
}

/// Make a team room in a workspace of `tenant` (404 when not the tenant's;
/// 409 when the name is taken in the workspace).
pub async fn create_room(
    catalog: &Catalog,
    tenant: &str,
    workspace: &str,
    name: &str,
    description: Option<String>,
) -> HubResult<TeamRoom> {
    let name = name_of(name, "team room")?;
    let description = description_of(description)?;
    let room = TeamRoom {
        id: new_id(),
        tenant_id: tenant.to_owned(),
        workspace_id: workspace.to_owned(),
        name,
        description,
        created_at: String::new(),
    };
    let now = now_ms();
    let r = room.clone();
    catalog
        .write(move |c| {
            let tx = c.transaction()?;
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM hub_workspaces WHERE id = ?1 AND tenant_id = ?2)",
                params![r.workspace_id, r.tenant_id],
                |x| x.get(0),
            )?;
            if !exists {
                return Ok(Err(HubError::NotFound("Workspace not found".into())));
            }
            let (count, taken): (i64, bool) = tx.query_row(
                "SELECT COUNT(*), COALESCE(MAX(name = ?2), 0) FROM hub_team_rooms
                 WHERE workspace_id = ?1",
                params![r.workspace_id, r.name],
                |x| Ok((x.get(0)?, x.get(1)?)),
            )?;
            if taken {
                return Ok(Err(HubError::Conflict(
                    "a team room with this name exists in the workspace".into(),
                )));
            }
            if count >= MAX_ROOMS {
                return Ok(Err(HubError::Conflict(format!(
                    "a workspace has at most {MAX_ROOMS} team rooms"
                ))));
            }
            tx.execute(
                "INSERT INTO hub_team_rooms (id, tenant_id, workspace_id, name, description, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![r.id, r.tenant_id, r.workspace_id, r.name, r.description, now],
            )?;
            tx.commit()?;
            Ok(Ok(()))
        })
        .await??;
    Ok(TeamRoom {
        created_at: rfc3339(now),
        ..room
    })
}

/// Team rooms of `tenant` (optionally of one workspace); with `member`, only
/// those of workspaces it belongs to.
pub async fn list_rooms(
    catalog: &Catalog,
    tenant: &str,
    member: Option<&str>,
    workspace: Option<&str>,
) -> HubResult<Vec<TeamRoom>> {
    let (t, m, w) = (
        tenant.to_owned(),
        member.map(str::to_owned),
        workspace.map(str::to_owned),
    );
    Ok(catalog
        .read(move |c| {
            let mut st = c.prepare(
                "SELECT r.id, r.tenant_id, r.workspace_id, r.name, r.description, r.created_ms
                 FROM hub_team_rooms r
                 WHERE r.tenant_id = ?1 AND (?2 IS NULL OR r.workspace_id = ?2)
                   AND (?3 IS NULL OR EXISTS (SELECT 1 FROM hub_workspace_members m
                        WHERE m.workspace_id = r.workspace_id AND m.member_id = ?3))
                 ORDER BY r.created_ms, r.id",
            )?;
            st.query_map(params![t, w, m], |r| {
                Ok(TeamRoom {
                    id: r.get(0)?,
                    tenant_id: r.get(1)?,
                    workspace_id: r.get(2)?,
                    name: r.get(3)?,
                    description: r.get(4)?,
                    created_at: rfc3339(r.get(5)?),
                })
            })?
            .collect()
        })
        .await?)
}

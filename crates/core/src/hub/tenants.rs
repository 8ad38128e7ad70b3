//! Tenants: the hub's top-level boundary. The daemon owner is OWNER_ADMIN of
//! every tenant on this hub (there is one owner); a default one is made on
//! first start. Every row a tenant owns carries its id, and every query is
//! scoped by it, so one tenant's devices and invites are invisible from
//! another.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{HubError, HubResult, new_id};
use crate::catalog::{Catalog, CatalogError};
use crate::time::now_ms;

#[derive(Debug, Clone, Serialize)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub role: &'static str,
    pub is_default: bool,
    pub created_ms: i64,
}

/// The owner's role in each tenant.
pub const OWNER_ADMIN: &str = "OWNER_ADMIN";

/// The default tenant's id, made on first start.
pub async fn ensure_default(catalog: &Catalog) -> Result<String, CatalogError> {
    catalog
        .write(|conn| {
            let found: Option<String> = conn
                .query_row(
                    "SELECT id FROM hub_tenants WHERE is_default = 1",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = found {
                return Ok(id);
            }
            let id = new_id();
            conn.execute(
                "INSERT INTO hub_tenants (id, name, is_default, created_ms) VALUES (?1, 'Default', 1, ?2)",
                params![id, now_ms()],
            )?;
            Ok(id)
        })
        .await
}

/// Make a tenant; the owner is its OWNER_ADMIN.
pub async fn create(catalog: &Catalog, name: &str) -> HubResult<Tenant> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(HubError::BadRequest("name must be 1-100 characters".into()));
    }
    let t = Tenant {
        id: new_id(),
        name: name.to_owned(),
        role: OWNER_ADMIN,
        is_default: false,
        created_ms: now_ms(),
    };
    let row = t.clone();
    catalog
        .write(move |conn| {
            conn.execute(
                "INSERT INTO hub_tenants (id, name, is_default, created_ms) VALUES (?1, ?2, 0, ?3)",
                params![row.id, row.name, row.created_ms],
            )
        })
        .await?;
    Ok(t)
}

pub async fn list(catalog: &Catalog) -> HubResult<Vec<Tenant>> {
    Ok(catalog
        .read(|conn| {
            let mut st = conn.prepare(
                "SELECT id, name, is_default, created_ms FROM hub_tenants ORDER BY created_ms, id",
            )?;
            st.query_map([], |r| {
                Ok(Tenant {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    role: OWNER_ADMIN,
                    is_default: r.get(2)?,
                    created_ms: r.get(3)?,
                })
            })?
            .collect()
        })
        .await?)
}

/// Whether the tenant exists (owner requests naming one in `X-Tenant-Id`).
pub async fn exists(catalog: &Catalog, id: &str) -> HubResult<bool> {
    let id = id.to_owned();
    Ok(catalog
        .read(move |conn| {
            conn.query_row("SELECT 1 FROM hub_tenants WHERE id = ?1", [id], |_| Ok(()))
                .optional()
                .map(|r| r.is_some())
        })
        .await?)
}

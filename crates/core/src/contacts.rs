//! Contacts: the owner's curated favourites among the mesh's nodes, keyed by
//! libp2p PeerId (`12D3KooW…`), each with a name and an optional note. A
//! bounded list ([`MAX_CONTACTS`]) in the `contacts` table (migration 0011).

use std::str::FromStr;

use libp2p_identity::PeerId;
use rusqlite::OptionalExtension;
use serde::Serialize;

use crate::catalog::{Catalog, CatalogError};
use crate::time::now_ms;

/// Contacts kept at most; adding one more is refused.
pub const MAX_CONTACTS: usize = 1000;
/// Longest name, in characters (after trimming).
pub const MAX_NAME_CHARS: usize = 64;
/// Longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub node_id: String,
    pub name: String,
    pub note: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    #[error("node_id: not a libp2p peer id (12D3KooW…)")]
    BadNodeId,
    /// A field failed validation; the message names it.
    #[error("{0}")]
    Invalid(String),
    #[error("at most {MAX_CONTACTS} contacts: delete one before adding another")]
    Full,
    #[error("no such contact")]
    NotFound,
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// Parse a node id; the canonical form is what the table keys on.
pub fn parse_node_id(s: &str) -> Result<PeerId, ContactError> {
    PeerId::from_str(s.trim()).map_err(|_| ContactError::BadNodeId)
}

#[derive(Clone)]
pub struct Contacts {
    catalog: Catalog,
}

impl Contacts {
    pub fn new(catalog: Catalog) -> Self {
        Self { catalog }
    }

    /// Every contact, by name (case-insensitive), then node id.
    pub async fn list(&self) -> Result<Vec<Contact>, ContactError> {
        Ok(self
            .catalog
            .read(|c| {
                let mut stmt = c.prepare(
                    "SELECT node_id, name, note, created_ms, updated_ms FROM contacts
                     ORDER BY name COLLATE NOCASE, node_id",
                )?;
                stmt.query_map([], row)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?)
    }

    pub async fn get(&self, node_id: &PeerId) -> Result<Contact, ContactError> {
        let id = node_id.to_string();
        self.catalog
            .read(move |c| select(c, &id))
            .await?
            .ok_or(ContactError::NotFound)
    }

    /// Create or update the contact of `node_id`. `note`: `None` keeps the
    /// stored note (none for a new contact), `Some(None)` or an empty note
    /// clears it. Returns the contact and whether it was created.
    pub async fn upsert(
        &self,
        node_id: &PeerId,
        name: &str,
        note: Option<Option<String>>,
    ) -> Result<(Contact, bool), ContactError> {
        let name = check_name(name)?;
        let note = match note {
            Some(Some(n)) => Some(check_note(n)?),
            Some(None) => Some(None),
            None => None,
        };
        let id = node_id.to_string();
        let outcome = self
            .catalog
            .write(move |c| {
                let tx = c.transaction()?;
                let existing = select(&tx, &id)?;
                let now = now_ms();
                let created = existing.is_none();
                let contact = match existing {
                    Some(old) => Contact {
                        name,
                        note: note.unwrap_or(old.note),
                        updated_ms: now.max(old.updated_ms),
                        ..old
                    },
                    None => {
                        let count: i64 =
                            tx.query_row("SELECT COUNT(*) FROM contacts", [], |r| r.get(0))?;
                        if count >= MAX_CONTACTS as i64 {
                            return Ok(None);
                        }
                        Contact {
                            node_id: id,
                            name,
                            note: note.flatten(),
                            created_ms: now,
                            updated_ms: now,
                        }
                    }
                };
                tx.execute(
                    "INSERT INTO contacts (node_id, name, note, created_ms, updated_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (node_id) DO UPDATE SET name = excluded.name,
                         note = excluded.note, updated_ms = excluded.updated_ms",
                    rusqlite::params![
                        contact.node_id,
                        contact.name,
                        contact.note,
                        contact.created_ms,
                        contact.updated_ms
                    ],
                )?;
                tx.commit()?;
                Ok(Some((contact, created)))
            })
            .await?;
        outcome.ok_or(ContactError::Full)
    }

    /// Remove a contact; [`ContactError::NotFound`] when there was none.
    pub async fn delete(&self, node_id: &PeerId) -> Result<(), ContactError> {
        let id = node_id.to_string();
        let removed = self
            .catalog
            .write(move |c| c.execute("DELETE FROM contacts WHERE node_id = ?1", [id]))
            .await?;
        if removed == 0 {
            return Err(ContactError::NotFound);
        }
        Ok(())
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Contact> {
    Ok(Contact {
        node_id: r.get(0)?,
        name: r.get(1)?,
        note: r.get(2)?,
        created_ms: r.get(3)?,
        updated_ms: r.get(4)?,
    })
}

fn select(c: &rusqlite::Connection, id: &str) -> rusqlite::Result<Option<Contact>> {
    c.query_row(
        "SELECT node_id, name, note, created_ms, updated_ms FROM contacts WHERE node_id = ?1",
        [id],
        row,
    )
    .optional()
}

fn check_name(name: &str) -> Result<String, ContactError> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(ContactError::Invalid(format!(
            "name: 1 to {MAX_NAME_CHARS} printable characters"
        )));
    }
    Ok(name.to_owned())
}

/// A note may span lines; other control characters are refused. Empty is none.
fn check_note(note: String) -> Result<Option<String>, ContactError> {
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(ContactError::Invalid(format!(
            "note: at most {MAX_NOTE_CHARS} characters"
        )));
    }
    if note
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ContactError::Invalid(
            "note: no control characters other than line breaks and tabs".into(),
        ));
    }
    Ok(Some(note).filter(|n| !n.trim().is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn upsert_keeps_the_note_unless_told_and_bounds_the_list() {
        let dir = tempfile::tempdir().unwrap();
        let cat = Catalog::open(&dir.path().join("c.sqlite")).unwrap();
        let contacts = Contacts::new(cat);
        let a = PeerId::random();
        let (c, created) = contacts
            .upsert(&a, " Ann ", Some(Some("met at the fair".into())))
            .await
            .unwrap();
        assert!(created);
        assert_eq!(c.name, "Ann");
        let (c, created) = contacts.upsert(&a, "Annie", None).await.unwrap();
        assert!(!created);
        assert_eq!(c.note.as_deref(), Some("met at the fair"));
        let (c, _) = contacts.upsert(&a, "Annie", Some(None)).await.unwrap();
        assert_eq!(c.note, None);
        assert_eq!(contacts.get(&a).await.unwrap(), c);
        assert!(matches!(
            contacts.upsert(&a, "", None).await,
            Err(ContactError::Invalid(_))
        ));
        assert!(matches!(
            contacts
                .upsert(&a, "x", Some(Some("n".repeat(MAX_NOTE_CHARS + 1))))
                .await,
            Err(ContactError::Invalid(_))
        ));

        for _ in 1..MAX_CONTACTS {
            contacts.upsert(&PeerId::random(), "n", None).await.unwrap();
        }
        assert!(matches!(
            contacts.upsert(&PeerId::random(), "n", None).await,
            Err(ContactError::Full)
        ));
        // Updating one that exists still works at the limit.
        contacts.upsert(&a, "Ann", None).await.unwrap();
        assert_eq!(contacts.list().await.unwrap().len(), MAX_CONTACTS);
        contacts.delete(&a).await.unwrap();
        assert!(matches!(
            contacts.delete(&a).await,
            Err(ContactError::NotFound)
        ));
        assert!(matches!(
            parse_node_id("12D3KooW0OIl"),
            Err(ContactError::BadNodeId)
        ));
    }
}

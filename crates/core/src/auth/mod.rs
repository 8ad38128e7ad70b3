//! Owner authentication for the REST API: the web UI password, 24 h bearer
//! sessions, single-use bootstrap tickets and the per-process admin token the
//! CLI proves itself with. Transport-agnostic: the daemon maps these results
//! onto HTTP.

mod password;
mod sessions;
mod tickets;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::catalog::{Catalog, CatalogError};
use crate::secret::{self, SecretHash};
use crate::time::now_ms;

pub use password::{MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS};
pub use sessions::SESSION_LIFETIME_MS;
pub use tickets::TICKET_LIFETIME_MS;

/// A bearer token handed to a client, and when it stops working.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at_ms: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no password has been set; run `holdfast set-password`")]
    NoPassword,
    #[error("wrong password")]
    WrongPassword,
    #[error("invalid or expired bootstrap ticket")]
    BadTicket,
    #[error("invalid admin token")]
    BadAdminToken,
    #[error("{0}")]
    WeakPassword(String),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// A failed login takes at least this long, to slow guessing.
const FAILED_LOGIN_DELAY: Duration = Duration::from_millis(100);

/// At most this many Argon2 computations at once (each takes ~19 MiB).
const CONCURRENT_HASHES: usize = 2;

pub struct Auth {
    catalog: Catalog,
    sessions: sessions::Sessions,
    tickets: tickets::Tickets,
    admin_token: String,
    hashing: Semaphore,
}

impl Auth {
    /// Load persisted sessions and mint this process's admin token.
    pub async fn load(catalog: Catalog) -> Result<Arc<Self>, AuthError> {
        let sessions = sessions::Sessions::load(&catalog).await?;
        Ok(Arc::new(Self {
            catalog,
            sessions,
            tickets: tickets::Tickets::default(),
            admin_token: secret::random_token(),
            hashing: Semaphore::new(CONCURRENT_HASHES),
        }))
    }

    /// The token to write to `cli-admin.token`. Never log it.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    pub fn check_admin_token(&self, presented: &str) -> Result<(), AuthError> {
        if secret::ct_str_eq(presented, &self.admin_token) {
            Ok(())
        } else {
            Err(AuthError::BadAdminToken)
        }
    }

    pub async fn password_is_set(&self) -> Result<bool, AuthError> {
        Ok(password::load_hash(&self.catalog).await?.is_some())
    }

    /// Exchange the password for a session. Wrong passwords answer no sooner
    /// than [`FAILED_LOGIN_DELAY`] after the call.
    pub async fn login(&self, password: &str) -> Result<IssuedToken, AuthError> {
        let started = Instant::now();
        let Some(phc) = password::load_hash(&self.catalog).await? else {
            return Err(AuthError::NoPassword);
        };
        let ok = {
            let _permit = self
                .hashing
                .acquire()
                .await
                .expect("semaphore never closes");
            password::verify(password.to_owned(), phc).await?
        };
        if !ok {
            tokio::time::sleep_until((started + FAILED_LOGIN_DELAY).into()).await;
            tracing::info!("login refused: wrong password");
            return Err(AuthError::WrongPassword);
        }
        self.sessions.issue(&self.catalog).await
    }

    /// Replace the password (admin token required) and end every session.
    pub async fn set_password(&self, admin_token: &str, new: &str) -> Result<(), AuthError> {
        self.check_admin_token(admin_token)?;
        password::check_strength(new).map_err(AuthError::WeakPassword)?;
        let phc = {
            let _permit = self
                .hashing
                .acquire()
                .await
                .expect("semaphore never closes");
            password::hash(new.to_owned()).await?
        };
        password::store_hash(&self.catalog, phc).await?;
        self.sessions.revoke_all(&self.catalog).await?;
        tracing::info!("web UI password replaced; all sessions ended");
        Ok(())
    }

    /// Is this bearer a live session? Cheap: memory only.
    pub fn verify_bearer(&self, token: &str) -> bool {
        self.sessions.verify(&SecretHash::of(token), now_ms())
    }

    /// End the session of this bearer, if it is one.
    pub async fn logout(&self, token: &str) -> Result<(), AuthError> {
        self.sessions
            .revoke(&self.catalog, &SecretHash::of(token))
            .await
    }

    /// Mint a single-use ticket that [`Auth::exchange_ticket`] turns into a session.
    pub fn mint_ticket(&self) -> IssuedToken {
        self.tickets.mint(now_ms())
    }

    pub async fn exchange_ticket(&self, ticket: &str) -> Result<IssuedToken, AuthError> {
        if !self.tickets.redeem(ticket, now_ms()) {
            return Err(AuthError::BadTicket);
        }
        self.sessions.issue(&self.catalog).await
    }
}

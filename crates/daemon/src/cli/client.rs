//! How CLI commands reach a running daemon: its address from
//! `endpoints.json`, its admin token from `cli-admin.token` (readable only by
//! the daemon's user), and, over HTTPS, trust in exactly the daemon's own
//! certificate.

use std::future::Future;

use anyhow::{Context, anyhow, bail};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Location;
use crate::api::v1::auth::ADMIN_TOKEN_HEADER;
use crate::endpoints::Endpoints;
use crate::tls;

pub struct DaemonClient {
    pub base: String,
    http: reqwest::Client,
    admin_token: String,
}

impl DaemonClient {
    pub fn connect(location: &Location) -> anyhow::Result<Self> {
        let paths = location.paths()?;
        let endpoints = Endpoints::read(&paths.endpoints()).with_context(|| {
            format!(
                "no running daemon found in {} (start one with `holdfast daemon`)",
                paths.data_dir().display()
            )
        })?;
        let admin_token = std::fs::read_to_string(paths.admin_token())
            .with_context(|| format!("cannot read {}", paths.admin_token().display()))?
            .trim()
            .to_owned();
        tls::install_crypto_provider();
        let mut builder = reqwest::Client::builder().no_proxy();
        if let Some(t) = &endpoints.api.tls {
            let pem = std::fs::read(&t.cert_file)
                .with_context(|| format!("cannot read {}", t.cert_file.display()))?;
            builder = builder.tls_certs_only([reqwest::Certificate::from_pem(&pem)?]);
        }
        Ok(Self {
            base: endpoints.api.url,
            http: builder.build()?,
            admin_token,
        })
    }

    /// POST to an admin route (`/api/v1/...`) and decode the JSON answer, if any.
    pub async fn admin_post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Option<T>> {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(ADMIN_TOKEN_HEADER, &self.admin_token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach the daemon at {}", self.base))?;
        decode(resp).await
    }
}

impl DaemonClient {
    /// An owner session for commands that use bearer routes: a bootstrap
    /// ticket (admin token) exchanged for a bearer, ended by [`Owner::end`].
    pub async fn owner(&self) -> anyhow::Result<Owner<'_>> {
        #[derive(serde::Deserialize)]
        struct Ticket {
            ticket: String,
        }
        #[derive(serde::Deserialize)]
        struct Token {
            token: String,
        }
        let t: Ticket = self
            .admin_post("/api/v1/auth/admin/bootstrap-ticket", None)
            .await?
            .ok_or_else(|| anyhow!("the daemon sent no ticket"))?;
        let resp = self
            .http
            .post(format!("{}/api/v1/auth/bootstrap-exchange", self.base))
            .json(&serde_json::json!({ "ticket": t.ticket }))
            .send()
            .await?;
        let token: Token = decode(resp).await?.ok_or_else(|| anyhow!("no bearer"))?;
        Ok(Owner {
            client: self,
            token: token.token,
        })
    }
}

/// A logged-in CLI session.
pub struct Owner<'a> {
    client: &'a DaemonClient,
    token: String,
}

impl Owner<'_> {
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Option<T>> {
        let mut req = self
            .client
            .http
            .request(method, format!("{}/api/v1{path}", self.client.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        decode(req.send().await?).await
    }

    pub async fn end(self) {
        let _ = self
            .client
            .http
            .post(format!("{}/api/v1/auth/logout", self.client.base))
            .bearer_auth(&self.token)
            .send()
            .await;
    }
}

/// The JSON answer, or the daemon's `error` message as the error.
async fn decode<T: DeserializeOwned>(resp: reqwest::Response) -> anyhow::Result<Option<T>> {
    let status = resp.status();
    if !status.is_success() {
        let message = resp
            .json::<Value>()
            .await
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or_else(|| status.to_string());
        bail!("the daemon refused: {message}");
    }
    if status == reqwest::StatusCode::NO_CONTENT {
        return Ok(None);
    }
    Ok(Some(
        resp.json().await.map_err(|e| anyhow!("bad answer: {e}"))?,
    ))
}

/// Read a secret: the first line of stdin, or a hidden prompt (twice when
/// `confirm`).
pub fn read_secret(from_stdin: bool, prompt: &str, confirm: bool) -> anyhow::Result<String> {
    use std::io::BufRead;
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = rpassword::prompt_password(prompt)?;
    if confirm && rpassword::prompt_password("Repeat it: ")? != first {
        bail!("the two entries differ; nothing changed");
    }
    Ok(first)
}

/// Run a CLI command's future on a small runtime.
pub fn block_on(fut: impl Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(fut)
}

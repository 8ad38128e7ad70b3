//! A daemon with the S3 gateway on, keys minted over the admin API, and
//! the AWS SDK (and raw HTTP) as clients.

use std::net::SocketAddr;

use aws_credential_types::Credentials;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Region};
use serde_json::{Value, json};

use crate::harness::{TestDaemon, loopback_config};

pub struct S3Node {
    pub d: TestDaemon,
    pub token: String,
    pub endpoint: String,
    /// The S3 listener (for raw HTTP).
    pub addr: SocketAddr,
}

pub fn s3_config() -> String {
    format!(
        "{}s3:\n  enabled: true\n  bind: 127.0.0.1:0\n",
        loopback_config()
    )
}

/// The S3 listener's address from the daemon's `endpoints.json`.
pub fn s3_addr(d: &TestDaemon) -> SocketAddr {
    let raw = std::fs::read_to_string(d.data_dir().join("endpoints.json")).unwrap();
    let v: Value = serde_json::from_str(&raw).unwrap();
    v["s3"]
        .as_str()
        .expect("the S3 listener is on")
        .parse()
        .unwrap()
}

impl S3Node {
    pub async fn start() -> Self {
        let d = TestDaemon::start_with_config(&s3_config()).await;
        let token = d.owner_token().await;
        d.init_identity(&token).await;
        let addr = s3_addr(&d);
        Self {
            d,
            token,
            endpoint: format!("http://{addr}"),
            addr,
        }
    }

    /// Mint a key and grant it `ops` on each of `buckets`.
    pub async fn key(&self, grants: &[(&str, &[&str])]) -> (String, String) {
        let r = self.d.post_auth("/s3/keys", &self.token, json!({})).await;
        assert_eq!(r.status(), 201);
        let k: Value = r.json().await.unwrap();
        let (id, secret) = (
            k["access_key_id"].as_str().unwrap().to_owned(),
            k["secret_access_key"].as_str().unwrap().to_owned(),
        );
        for (bucket, ops) in grants {
            let r = self
                .d
                .put_auth(
                    "/s3/permissions",
                    &self.token,
                    json!({"key_id": id, "bucket": bucket, "ops": ops}),
                )
                .await;
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
        (id, secret)
    }

    /// A key that may do everything everywhere, and an SDK client for it.
    pub async fn admin_client(&self) -> Client {
        let (id, secret) = self.key(&[("*", &["read", "write", "delete"])]).await;
        self.client(&id, &secret)
    }

    pub fn client(&self, id: &str, secret: &str) -> Client {
        client_for(&self.endpoint, id, secret)
    }

    /// Create a vault over REST with an S3 alias; answers its id.
    pub async fn vault(&self, alias: &str) -> String {
        let v: Value = self
            .d
            .post_auth("/vaults", &self.token, json!({"name": alias}))
            .await
            .json()
            .await
            .unwrap();
        let id = v["id"].as_str().unwrap().to_owned();
        let r = self
            .d
            .put_auth(
                &format!("/vaults/{id}/s3-alias"),
                &self.token,
                json!({"alias": alias}),
            )
            .await;
        assert!(r.status().is_success());
        id
    }
}

pub fn client_for(endpoint: &str, id: &str, secret: &str) -> Client {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(id, secret, None, None, "test"))
        .force_path_style(true)
        .http_client(http)
        .build();
    Client::from_conf(conf)
}

type HttpResponse = aws_sdk_s3::config::http::HttpResponse;

/// The S3 error code of an SDK error (or its HTTP status when it has none).
pub fn code<E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug>(
    e: &aws_sdk_s3::error::SdkError<E, HttpResponse>,
) -> String {
    e.as_service_error()
        .and_then(|s| s.code())
        .map(str::to_owned)
        .or_else(|| {
            e.raw_response()
                .map(|r| format!("HTTP {}", r.status().as_u16()))
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

/// The HTTP status of an SDK error's response.
pub fn status<E>(e: &aws_sdk_s3::error::SdkError<E, HttpResponse>) -> u16 {
    e.raw_response().map_or(0, |r| r.status().as_u16())
}

//! Which `Host` and `Origin` headers a listener accepts. A page on
//! `evil.example` that rebinds its DNS name to 127.0.0.1 still sends
//! `Host: evil.example`, so a loopback listener accepts only its own loopback
//! names; and a browser request from another site carries that site's
//! `Origin`, which is refused unless it is this listener's own origin.

use std::net::SocketAddr;

use axum::http::{HeaderMap, Uri, header};

#[derive(Debug, Clone)]
pub struct HostPolicy {
    scheme: &'static str,
    /// For loopback listeners: the exact `host[:port]` values accepted.
    loopback_hosts: Option<Vec<String>>,
}

/// Why a request was refused; each surface words it in its own error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    MissingHost,
    ForeignHost,
    ForeignOrigin,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::MissingHost => "missing Host header",
            Refusal::ForeignHost => "Host header does not name this loopback listener",
            Refusal::ForeignOrigin => "cross-origin requests are not allowed",
        }
    }
}

impl HostPolicy {
    pub fn new(bound: SocketAddr, tls: bool) -> Self {
        let scheme = if tls { "https" } else { "http" };
        let loopback_hosts = bound.ip().is_loopback().then(|| {
            let port = bound.port();
            let default_port = if tls { 443 } else { 80 };
            let mut hosts = Vec::new();
            for name in ["127.0.0.1", "localhost", "[::1]"] {
                hosts.push(format!("{name}:{port}"));
                if port == default_port {
                    hosts.push(name.to_owned());
                }
            }
            hosts
        });
        Self {
            scheme,
            loopback_hosts,
        }
    }

    /// The host a request addressed: the URI authority (HTTP/2) or `Host`.
    fn host_of<'a>(uri: &'a Uri, headers: &'a HeaderMap) -> Option<&'a str> {
        uri.authority()
            .map(|a| a.as_str())
            .or_else(|| headers.get(header::HOST).and_then(|v| v.to_str().ok()))
    }

    /// Host and same-origin checks (the REST surface).
    pub fn check(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), Refusal> {
        let host = self.check_host(uri, headers)?;
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().map_err(|_| Refusal::ForeignOrigin)?;
            if !origin.eq_ignore_ascii_case(&format!("{}://{host}", self.scheme)) {
                return Err(Refusal::ForeignOrigin);
            }
        }
        Ok(())
    }

    /// The Host check alone, for surfaces with their own Origin rules (IPC).
    /// Returns the host, lowercased.
    pub fn check_host(&self, uri: &Uri, headers: &HeaderMap) -> Result<String, Refusal> {
        let host = Self::host_of(uri, headers)
            .ok_or(Refusal::MissingHost)?
            .to_ascii_lowercase();
        if let Some(allowed) = &self.loopback_hosts
            && !allowed.contains(&host)
        {
            return Err(Refusal::ForeignHost);
        }
        Ok(host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(host: Option<&str>, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = host {
            h.insert(header::HOST, HeaderValue::from_str(v).unwrap());
        }
        if let Some(v) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn check(p: &HostPolicy, host: Option<&str>, origin: Option<&str>) -> Result<(), Refusal> {
        p.check(&Uri::from_static("/x"), &headers(host, origin))
    }

    #[test]
    fn loopback_accepts_only_its_names() {
        let p = HostPolicy::new("127.0.0.1:8080".parse().unwrap(), false);
        assert!(check(&p, Some("127.0.0.1:8080"), None).is_ok());
        assert!(check(&p, Some("LOCALHOST:8080"), None).is_ok());
        assert!(check(&p, Some("[::1]:8080"), None).is_ok());
        assert_eq!(
            check(&p, Some("evil.example:8080"), None),
            Err(Refusal::ForeignHost)
        );
        assert_eq!(
            check(&p, Some("127.0.0.1:9999"), None),
            Err(Refusal::ForeignHost)
        );
        assert_eq!(
            check(&p, Some("127.0.0.1"), None),
            Err(Refusal::ForeignHost)
        );
        assert_eq!(check(&p, None, None), Err(Refusal::MissingHost));
    }

    #[test]
    fn origin_must_be_our_own() {
        let p = HostPolicy::new("127.0.0.1:8080".parse().unwrap(), false);
        assert!(check(&p, Some("localhost:8080"), Some("http://localhost:8080")).is_ok());
        for bad in [
            "http://evil.example",
            "null",
            "https://localhost:8080",
            "http://127.0.0.1:8080",
        ] {
            assert_eq!(
                check(&p, Some("localhost:8080"), Some(bad)),
                Err(Refusal::ForeignOrigin),
                "{bad}"
            );
        }
    }

    #[test]
    fn network_binds_accept_any_host_but_same_origin_only() {
        let p = HostPolicy::new("0.0.0.0:8443".parse().unwrap(), true);
        assert!(check(&p, Some("nas.home:8443"), None).is_ok());
        assert!(check(&p, Some("nas.home:8443"), Some("https://nas.home:8443")).is_ok());
        assert_eq!(
            check(&p, Some("nas.home:8443"), Some("https://evil.example")),
            Err(Refusal::ForeignOrigin)
        );
    }

    #[test]
    fn default_port_may_be_omitted() {
        let p = HostPolicy::new("127.0.0.1:80".parse().unwrap(), false);
        assert!(check(&p, Some("localhost"), None).is_ok());
    }
}

//! `Authorization: Bearer …` parsing, shared by every surface.

use axum::http::{HeaderMap, header};

/// The header is present but is not a usable bearer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

/// The bearer of an `Authorization` header, if there is one. A header that
/// is present but not a bearer is an error, not an anonymous request.
pub fn bearer(headers: &HeaderMap) -> Result<Option<&str>, Malformed> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| Malformed)?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), Ok(None));
        h.insert(header::AUTHORIZATION, "bearer abc".parse().unwrap());
        assert_eq!(bearer(&h), Ok(Some("abc")));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), Err(Malformed));
        h.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer(&h), Err(Malformed));
    }
}

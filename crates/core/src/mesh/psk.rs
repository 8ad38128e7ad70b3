//! Swarm keys: the 3-line IPFS PSK format (`/key/swarm/psk/1.0.0/`,
//! `/base16/`, 64 hex digits), parsed by libp2p's own `PreSharedKey` so we
//! accept exactly what the wire layer will use. Errors say what is wrong.

use libp2p::pnet::{KeyParseError, PreSharedKey};

/// Parse swarm-key text; the message names the problem.
pub fn parse(text: &str) -> Result<PreSharedKey, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the swarm key is empty".into());
    }
    if text.len() > 1024 {
        return Err("the swarm key is too long: expected three short lines".into());
    }
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    if lines.len() != 3 {
        return Err(format!(
            "the swarm key has {} line(s); expected 3: /key/swarm/psk/1.0.0/, /base16/, 64 hex digits",
            lines.len()
        ));
    }
    if !lines[2].is_ascii() {
        // libp2p slices the line by bytes: keep multi-byte text away from it.
        return Err("the swarm key's third line must be 64 hex digits (0-9, a-f)".into());
    }
    let normalised = lines.join("\n");
    normalised.parse::<PreSharedKey>().map_err(|e| match e {
        KeyParseError::InvalidKeyType => format!(
            "the swarm key's first line is {:?}; expected /key/swarm/psk/1.0.0/",
            short(lines[0])
        ),
        KeyParseError::InvalidKeyEncoding => format!(
            "the swarm key's encoding is {:?}; only /base16/ (hex) is supported",
            short(lines[1])
        ),
        KeyParseError::InvalidKeyLength => format!(
            "the swarm key has {} hex digits; expected 64 (32 bytes)",
            lines[2].len()
        ),
        KeyParseError::InvalidKeyChar(_) => {
            "the swarm key's third line must be 64 hex digits (0-9, a-f)".into()
        }
        KeyParseError::InvalidKeyFile => "the swarm key is not in the 3-line PSK format".into(),
    })
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

/// A new random key, as text.
pub fn mint() -> String {
    format(&PreSharedKey::new(crate::identity::crypto::random_bytes::<
        32,
    >()))
}

/// The key as 3-line text (with a final newline, as IPFS writes it).
pub fn format(key: &PreSharedKey) -> String {
    key.to_key_file()
}

/// A short public fingerprint of a key (safe to show, not to connect).
pub fn fingerprint(key: &PreSharedKey) -> String {
    key.fingerprint().to_string().chars().take(16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors_name_the_problem() {
        let text = mint();
        let key = parse(&text).unwrap();
        assert_eq!(format(&key), text);
        assert_eq!(fingerprint(&key).len(), 16);
        assert!(parse("").unwrap_err().contains("empty"));
        assert!(parse("abc").unwrap_err().contains("1 line"));
        let bad_type = text.replace("/key/swarm/psk/1.0.0/", "/key/swarm/psk/2.0.0/");
        assert!(parse(&bad_type).unwrap_err().contains("first line"));
        let b64 = text.replace("/base16/", "/base64/");
        assert!(parse(&b64).unwrap_err().contains("/base64/"));
        let short_key = "/key/swarm/psk/1.0.0/\n/base16/\nabcd\n";
        assert!(parse(short_key).unwrap_err().contains("4 hex digits"));
        let bad_char = format!("/key/swarm/psk/1.0.0/\n/base16/\n{}\n", "zz".repeat(32));
        assert!(parse(&bad_char).unwrap_err().contains("hex"));
        let multibyte = format!("/key/swarm/psk/1.0.0/\n/base16/\n{}\n", "é".repeat(32));
        assert!(parse(&multibyte).unwrap_err().contains("hex"));
        // Windows line ends and surrounding blanks are fine.
        assert!(parse(&format!("  {}  ", text.replace('\n', "\r\n"))).is_ok());
    }
}

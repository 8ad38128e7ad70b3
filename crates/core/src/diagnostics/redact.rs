//! Redaction for diagnostics reports: everything that leaves the machine in a
//! report passes through a [`Redactor`] first. Two layers:
//!
//! - structural: in config and JSON, any value under a secret-sounding key
//!   (`password`, `token`, `swarm_key`, …) becomes `[redacted]`
//!   ([`is_secret_key`]);
//! - textual, the last line of defence for logs and every string value: the
//!   exact secrets the daemon knows (e.g. the admin token), `Bearer …`,
//!   `token=…`-style pairs, long hex or base64 runs that look like keys, and
//!   runs of 12 or more BIP39 words (a recovery phrase).
//!
//! Values the caller marks public (peer id, vault ids) survive the pattern
//! layer, so a report still says which vault a log line was about.

use std::sync::LazyLock;

use regex::{Captures, Regex};

pub const REDACTED: &str = "[redacted]";

/// Secrets shorter than this are not searched for verbatim (too many false hits).
const MIN_KNOWN_SECRET: usize = 8;

/// A recovery phrase is 24 words; 12 in a row is already no accident.
const MIN_PHRASE_WORDS: usize = 12;

/// Words of a phrase may be separated by up to this many non-letters
/// (a space, `%20`, `-`, `", "`).
const MAX_PHRASE_GAP: usize = 3;

/// Key-name words that mark a value secret.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "ticket",
    "bootstrap",
    "phrase",
    "mnemonic",
    "credential",
    "credentials",
    "private",
    "psk",
    "bearer",
    "authorization",
    "cookie",
    "signature",
    "key",
    "keys",
];

/// A name ending in one of these names a path or an id, not key material
/// (`key_file`, `access_key_id`, `key_state`).
const HARMLESS_SUFFIXES: &[&str] = &["file", "path", "id", "state", "count", "set", "at", "ms"];

/// Whether a config or JSON key names a secret value.
pub fn is_secret_key(name: &str) -> bool {
    // snake_case, kebab-case and camelCase words, lower-cased.
    let mut words: Vec<String> = vec![String::new()];
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            words.push(String::new());
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower {
            words.push(String::new());
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        if let Some(w) = words.last_mut() {
            w.push(c.to_ascii_lowercase());
        }
    }
    words.retain(|w| !w.is_empty());
    let Some(last) = words.last() else {
        return false;
    };
    if words.len() > 1 && HARMLESS_SUFFIXES.contains(&last.as_str()) {
        return false;
    }
    words.iter().any(|w| {
        SECRET_WORDS.contains(&w.as_str())
            || w.ends_with("password")
            || w.ends_with("token")
            || w.ends_with("secret")
    })
}

static BEARER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=-]{8,}").expect("valid regex")
});

/// `name=value` and `name: value` where the name sounds secret.
static PAIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)\b([a-z0-9_-]*(?:password|passwd|passphrase|secret|token|ticket|bootstrap|phrase|mnemonic|credential|psk|signature|authorization|cookie|key)[a-z0-9_-]*)("?\s*[=:]\s*"?)([^\s&"',;}\]]+)"#,
    )
    .expect("valid regex")
});

/// Long hex runs (tokens, keys, hashes).
static HEX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[0-9A-Fa-f]{32,}\b").expect("valid regex"));

/// Long base64 / base64url runs.
static BASE64: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9+/_-]{32,}={0,2}").expect("valid regex"));

/// Removes secrets from report text. Build one per report.
pub struct Redactor {
    known: Vec<String>,
    public: Vec<String>,
}

impl Redactor {
    /// `known`: secret values to remove wherever they appear verbatim.
    /// `public`: identifiers that look key-like but may stay (peer id, vault ids).
    pub fn new(
        known: impl IntoIterator<Item = String>,
        public: impl IntoIterator<Item = String>,
    ) -> Self {
        let mut known: Vec<String> = known
            .into_iter()
            .filter(|s| s.len() >= MIN_KNOWN_SECRET)
            .collect();
        // Longest first, so a secret containing another goes whole.
        known.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Self {
            known,
            public: public.into_iter().filter(|s| !s.is_empty()).collect(),
        }
    }

    /// One line (or any text) with every recognised secret replaced.
    pub fn text(&self, input: &str) -> String {
        let mut out = input.to_owned();
        for secret in &self.known {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out = BEARER
            .replace_all(&out, |c: &Captures| format!("{}{}{REDACTED}", &c[1], &c[2]))
            .into_owned();
        out = PAIR
            .replace_all(&out, |c: &Captures| {
                let value = &c[3];
                if value.starts_with(REDACTED.trim_end_matches(']'))
                    || value.eq_ignore_ascii_case("bearer")
                    || self.is_public(value)
                {
                    c[0].to_owned()
                } else {
                    format!("{}{}{REDACTED}", &c[1], &c[2])
                }
            })
            .into_owned();
        out = self.replace_keylike(&HEX, &out, |_| true);
        out = self.replace_keylike(&BASE64, &out, looks_random);
        redact_phrases(&out)
    }

    /// Every string in a YAML tree: secret keys wholesale, other strings as text.
    pub fn yaml(&self, value: &mut serde_yaml_ng::Value) {
        use serde_yaml_ng::Value;
        match value {
            Value::Mapping(map) => {
                for (k, v) in map.iter_mut() {
                    if k.as_str().is_some_and(is_secret_key) && !v.is_null() {
                        *v = Value::String(REDACTED.into());
                    } else {
                        self.yaml(v);
                    }
                }
            }
            Value::Sequence(items) => items.iter_mut().for_each(|v| self.yaml(v)),
            Value::String(s) => *s = self.text(s),
            Value::Tagged(t) => self.yaml(&mut t.value),
            _ => {}
        }
    }

    /// Every string in a JSON tree: secret keys wholesale, other strings as text.
    pub fn json(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if is_secret_key(k) && !v.is_null() && !v.is_boolean() {
                        *v = Value::String(REDACTED.into());
                    } else {
                        self.json(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            Value::String(s) => *s = self.text(s),
            _ => {}
        }
    }

    fn is_public(&self, candidate: &str) -> bool {
        self.public.iter().any(|p| p == candidate)
    }

    fn replace_keylike(&self, re: &Regex, text: &str, suspicious: fn(&str) -> bool) -> String {
        re.replace_all(text, |c: &Captures| {
            let m = &c[0];
            if self.is_public(m) || !suspicious(m) {
                m.to_owned()
            } else {
                REDACTED.to_owned()
            }
        })
        .into_owned()
    }
}

/// A base64-ish run with both cases whose letters and digits switch class
/// (upper, lower, digit) at least once in 4 neighbours: random base64
/// switches about 6 times in 10, a path of names (`/home/Me/Documents/file2.md`)
/// rarely, and a route with lower-case hex ids has no upper case (hex
/// secrets are the hex rule's).
fn looks_random(s: &str) -> bool {
    let classes: Vec<u8> = s
        .bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| match b {
            b'A'..=b'Z' => 0,
            b'a'..=b'z' => 1,
            _ => 2,
        })
        .collect();
    let switches = classes.windows(2).filter(|w| w[0] != w[1]).count();
    classes.contains(&0) && classes.contains(&1) && switches * 4 >= classes.len() - 1
}

/// Replace every run of [`MIN_PHRASE_WORDS`] or more BIP39 words.
fn redact_phrases(text: &str) -> String {
    let lang = bip39::Language::English;
    // (start, end) byte spans of ASCII-letter words.
    let mut words = Vec::new();
    let mut start = None;
    for (i, b) in text.bytes().enumerate() {
        match (b.is_ascii_alphabetic(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, text.len()));
    }
    let in_list =
        |&(s, e): &(usize, usize)| lang.find_word(&text[s..e].to_ascii_lowercase()).is_some();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if !in_list(&words[i]) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < words.len()
            && words[j + 1].0 - words[j].1 <= MAX_PHRASE_GAP
            && in_list(&words[j + 1])
        {
            j += 1;
        }
        if j + 1 - i >= MIN_PHRASE_WORDS {
            spans.push((words[i].0, words[j].1));
        }
        i = j + 1;
    }
    if spans.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in spans {
        out.push_str(&text[at..s]);
        out.push_str(REDACTED);
        at = e;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> Redactor {
        Redactor::new(Vec::new(), Vec::new())
    }

    #[test]
    fn secret_key_names() {
        for k in [
            "password",
            "admin_token",
            "swarm_key",
            "secret_access_key",
            "recovery_phrase",
            "app-token",
            "privateKey",
            "bootstrap",
            "key",
            "S3_SECRET",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "bind",
            "key_file",
            "cert_file",
            "access_key_id",
            "name",
            "enabled",
            "key_state",
            "password_set",
            "monkey",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn known_secrets_go_verbatim() {
        let r = Redactor::new(["hunter2hunter2".to_owned(), "short".to_owned()], []);
        assert_eq!(
            r.text("pw was hunter2hunter2, short stays"),
            "pw was [redacted], short stays"
        );
    }

    #[test]
    fn bearer_and_pairs() {
        let r = plain();
        assert_eq!(
            r.text("Authorization: Bearer abc.def-ghi_jkl"),
            "Authorization: Bearer [redacted]"
        );
        assert_eq!(
            r.text("GET /x?token=s3cr3tvalue&a=1"),
            "GET /x?token=[redacted]&a=1"
        );
        assert_eq!(
            r.text(r#"{"app_token":"abc","name":"x"}"#),
            r#"{"app_token":"[redacted]","name":"x"}"#
        );
        assert_eq!(r.text("password: hunter2"), "password: [redacted]");
        assert_eq!(r.text("swarm_key=/key/swarm/psk"), "swarm_key=[redacted]");
        assert_eq!(r.text("the key is fine"), "the key is fine");
    }

    #[test]
    fn keylike_runs() {
        let r = plain();
        let hex = "a".repeat(20) + &"0123456789abcdef".repeat(3);
        assert_eq!(
            r.text(&format!("GET /v/{hex} 404")),
            "GET /v/[redacted] 404"
        );
        let b64 = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJ+A==";
        assert_eq!(r.text(&format!("k {b64} end")), "k [redacted] end");
        let with_slash = "AbC9/xYz0+qRsT1uVw2XyZ3aBc4DeF5gHi6JkL7mNo8=";
        assert_eq!(r.text(with_slash), "[redacted]");
        // Paths of names and short ids survive.
        for path in [
            "/home/someone/projects/holdfast_data_directory/blocks",
            "path=/home/user/Documents/notes/file14762.md",
            "/var/lib/holdfast/Vaults/Family_Photos_2024/summer",
        ] {
            assert_eq!(r.text(path), path);
        }
        assert_eq!(r.text("vault 0123abcd ok"), "vault 0123abcd ok");
    }

    #[test]
    fn random_keys_are_caught_in_both_base64_alphabets() {
        use base64::Engine;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let r = plain();
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..2000 {
            let key: Vec<u8> = (0..24)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            for text in [STANDARD.encode(&key), URL_SAFE_NO_PAD.encode(&key)] {
                let out = r.text(&format!("secret {text} end"));
                assert_eq!(out, "secret [redacted] end", "{text}");
            }
        }
    }

    #[test]
    fn public_identifiers_survive() {
        let peer = "12D3KooWQxYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789ab";
        let vault = "0123456789abcdef0123456789abcdef";
        let r = Redactor::new([], [peer.to_owned(), vault.to_owned()]);
        let line = format!("peer_id={peer} GET /api/v1/vaults/{vault}/info 200");
        assert_eq!(r.text(&line), line);
        assert_eq!(
            plain().text(&line),
            "peer_id=[redacted] GET /api/v1/vaults/[redacted]/info 200"
        );
    }

    #[test]
    fn recovery_phrases() {
        let lang = bip39::Language::English;
        let words: Vec<&str> = (0..24).map(|i| lang.word_list()[i * 80]).collect();
        let r = plain();
        assert_eq!(r.text(&format!("<{}>", words.join(" "))), "<[redacted]>");
        assert_eq!(
            r.text(&format!("GET /v/{} 404", words.join("%20"))),
            "GET /v/[redacted] 404"
        );
        // Ordinary prose made of list words is shorter than a phrase.
        let prose = "we can see the total amount of each local file";
        assert_eq!(r.text(prose), prose);
    }

    #[test]
    fn structured_trees() {
        let r = plain();
        let mut y: serde_yaml_ng::Value = serde_yaml_ng::from_str(
            "api:\n  bind: 127.0.0.1:8080\n  key_file: /etc/k.pem\ns3:\n  secret_key: abc\n  keys: [a, b]\nnote: Bearer abcdefghijk\n",
        )
        .unwrap();
        r.yaml(&mut y);
        let text = serde_yaml_ng::to_string(&y).unwrap();
        assert!(text.contains("bind: 127.0.0.1:8080"), "{text}");
        assert!(text.contains("key_file: /etc/k.pem"), "{text}");
        assert!(text.contains("secret_key: '[redacted]'"), "{text}");
        assert!(text.contains("keys: '[redacted]'"), "{text}");
        assert!(!text.contains("abcdefghijk"), "{text}");

        let mut j = serde_json::json!({"admin_token": "x", "password_set": true,
            "list": [{"token": 5}], "msg": "token=abcdefgh"});
        r.json(&mut j);
        assert_eq!(
            j,
            serde_json::json!({"admin_token": "[redacted]", "password_set": true,
                "list": [{"token": "[redacted]"}], "msg": "token=[redacted]"})
        );
    }
}

//! Property tests (proptest) for the parsers that take outside bytes:
//! AgentPubKey strings, vault file paths and `config.yaml`. None may panic
//! or hang on any input, and what they accept keeps its invariants.
//!
//! 256 cases per property by default; `PROPTEST_CASES=200000 cargo test -p
//! holdfast-core --release --test fuzz_parsers` for a long run. A case that
//! takes over 5 s fails as a hang.

use std::path::{Component, Path};

use holdfast_core::Config;
use holdfast_core::config::MAX_AUTO_LOCK_MINUTES;
use holdfast_core::identity::agent_key::{self, AgentPubKey, RAW_LEN};
use holdfast_core::vaults::paths::{self, MAX_PATH_BYTES, MAX_SEGMENT_BYTES};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        timeout: 5_000,
        ..ProptestConfig::default()
    }
}

/// Text near the shape of an agent key: `u`, 52 characters, mostly from
/// the base64url alphabet, sometimes a stray one.
fn keyish() -> impl Strategy<Value = String> {
    prop_oneof![
        "u[A-Za-z0-9_-]{52}",
        "u?[A-Za-z0-9_+/=!é\\-]{48,56}",
        "uhCAk[A-Za-z0-9_-]{47}",
        any::<String>(),
    ]
}

/// Text near the shape of a path: separators, dots, backslashes, controls,
/// non-ASCII, long segments.
fn pathish() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a./\\\\\\x00\\n\\t é%]{0,40}",
        "(/|//|\\.|\\.\\.|a|é|\\\\|\\x7f)*",
        "/?([a-z]{1,300}/){0,20}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn agent_key_parsing_never_panics(s in keyish(), raw in prop::collection::vec(any::<u8>(), 0..100)) {
        let _ = AgentPubKey::parse(&s);
        let _ = AgentPubKey::from_raw(&raw);
        let _ = agent_key::looks_like_link_payload(&raw);
    }

    #[test]
    fn agent_keys_roundtrip(key in any::<[u8; 32]>()) {
        let k = AgentPubKey::from_bytes(key);
        let s = k.to_string();
        prop_assert_eq!(s.len(), 53);
        prop_assert!(s.starts_with("uhCAk"));
        prop_assert_eq!(AgentPubKey::parse(&s), Ok(k));
        prop_assert_eq!(AgentPubKey::from_raw(&k.raw()), Ok(k));
    }

    /// Changing one character of a valid key either is refused or names a
    /// key whose own encoding is exactly the changed text (never a second
    /// spelling of some key).
    #[test]
    fn one_changed_character_is_refused_or_canonical(key in any::<[u8; 32]>(), at in 0usize..53, c in any::<char>()) {
        let good = AgentPubKey::from_bytes(key).to_string();
        let mut changed: Vec<char> = good.chars().collect();
        changed[at] = c;
        let changed: String = changed.into_iter().collect();
        match AgentPubKey::parse(&changed) {
            Ok(k) => prop_assert_eq!(k.to_string(), changed),
            Err(_) => prop_assert_ne!(changed, good),
        }
    }

    /// A changed raw byte: refused, unless the change left the bytes equal.
    #[test]
    fn one_changed_raw_byte_is_refused(key in any::<[u8; 32]>(), at in 0usize..RAW_LEN, b in any::<u8>()) {
        let k = AgentPubKey::from_bytes(key);
        let mut raw = k.raw();
        let same = raw[at] == b;
        raw[at] = b;
        match AgentPubKey::from_raw(&raw) {
            Ok(parsed) => prop_assert!(same || ((3..35).contains(&at) && parsed.raw() == raw)),
            Err(_) => prop_assert!(!same),
        }
    }

    #[test]
    fn normalised_paths_stay_inside_and_are_stable(raw in pathish()) {
        let Ok(out) = paths::normalize(&raw) else { return Ok(()) };
        prop_assert!(out.starts_with('/'));
        prop_assert!(out.len() <= MAX_PATH_BYTES + 1);
        let segments: Vec<&str> = out[1..].split('/').collect();
        for s in &segments {
            prop_assert!(!s.is_empty(), "empty segment in {:?}", out);
            prop_assert!(*s != "." && *s != "..", "{:?}", out);
            prop_assert!(s.len() <= MAX_SEGMENT_BYTES);
            prop_assert!(!s.chars().any(|c| c.is_control() || c == '\\'), "{:?}", out);
        }
        // The same names, in order: nothing dropped, nothing invented.
        let given: Vec<&str> = raw.split('/').filter(|s| !s.is_empty()).collect();
        prop_assert_eq!(&segments, &given);
        // Joined under a root, it stays under the root, one plain name per segment.
        let root = Path::new("/vault-root");
        let joined = root.join(&out[1..]);
        prop_assert!(joined.starts_with(root));
        let below: Vec<Component> = joined.strip_prefix(root).unwrap().components().collect();
        prop_assert_eq!(below.len(), segments.len());
        prop_assert!(below.iter().all(|c| matches!(c, Component::Normal(_))));
        prop_assert_eq!(paths::normalize(&out), Ok(out.clone()));
        prop_assert_eq!(paths::normalize_prefix(&out), Ok(out.clone()));
        prop_assert!(paths::is_under(&out, "/") && paths::is_under(&out, &out));
    }

    #[test]
    fn prefixes_are_root_or_normalised(raw in pathish()) {
        if let Ok(p) = paths::normalize_prefix(&raw) {
            prop_assert!(p == "/" || paths::normalize(&p) == Ok(p.clone()));
        }
    }

    #[test]
    fn config_text_never_panics(text in any::<String>()) {
        let _ = Config::parse(&text);
    }

    /// YAML made of the real section and key names with arbitrary values and
    /// indentation: Ok only when the result validates, else a message.
    #[test]
    fn config_like_yaml_parses_or_refuses_cleanly(lines in prop::collection::vec(yaml_block(), 0..6)) {
        let text = lines.concat();
        match Config::parse(&text) {
            Ok(c) => {
                prop_assert!(c.ipc.bind.ip().is_loopback());
                prop_assert!((1..=3600).contains(&c.identity.approval_timeout_seconds));
                prop_assert_eq!(c.api.cert_file.is_some(), c.api.key_file.is_some());
                // What the daemon derives from it at start must not panic either.
                let _ = (c.identity.auto_lock_after(), c.identity.approval_timeout());
            }
            Err(message) => prop_assert!(!message.is_empty()),
        }
    }

    /// Every valid config written as YAML reads back the same.
    #[test]
    fn valid_configs_roundtrip(port in any::<u16>(), ipc_port in any::<u16>(), minutes in 0..=MAX_AUTO_LOCK_MINUTES,
                               timeout in 1u64..=3600, s3 in any::<bool>(), tls in any::<bool>(),
                               ip in any::<[u8; 4]>()) {
        let mut c = Config::default();
        c.api.bind = (ip, port).into();
        c.ipc.bind = ([127, 0, 0, 1], ipc_port).into();
        c.s3.enabled = s3;
        c.identity.auto_lock_minutes = minutes;
        c.identity.approval_timeout_seconds = timeout;
        if tls {
            c.api.cert_file = Some("cert.pem".into());
            c.api.key_file = Some("key.pem".into());
        }
        let text = serde_yaml_ng::to_string(&c).unwrap();
        prop_assert_eq!(Config::parse(&text), Ok(c));
    }
}

/// A section of config-shaped YAML (a known or unknown name, then indented
/// `key: value` lines), or a stray line.
fn yaml_block() -> impl Strategy<Value = String> {
    let section = prop_oneof![
        Just("api"),
        Just("ipc"),
        Just("hub"),
        Just("s3"),
        Just("identity"),
        Just("nope"),
    ];
    let lines = prop::collection::vec(yaml_line(), 0..4);
    prop_oneof![
        (section, 1usize..4, lines).prop_map(|(name, indent, lines)| {
            let body: String = lines
                .into_iter()
                .map(|line| format!("{}{line}", " ".repeat(indent)))
                .collect();
            format!("{name}:\n{body}")
        }),
        (0usize..4, yaml_line()).prop_map(|(indent, line)| format!("{}{line}", " ".repeat(indent))),
    ]
}

/// One `key: value` line of config-shaped YAML.
fn yaml_line() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("identity"),
        Just("bind"),
        Just("cert_file"),
        Just("key_file"),
        Just("enabled"),
        Just("auto_lock_minutes"),
        Just("approval_timeout_seconds"),
        Just("nope"),
    ];
    let value = prop_oneof![
        Just(String::new()),
        Just("127.0.0.1:0".to_owned()),
        Just("0.0.0.0:8080".to_owned()),
        Just("[::1]:1".to_owned()),
        Just("true".to_owned()),
        Just("~".to_owned()),
        Just("[1, 2]".to_owned()),
        Just("{a: b}".to_owned()),
        Just("&x 1".to_owned()),
        Just("*x".to_owned()),
        Just("!!binary aGk=".to_owned()),
        Just("307445734561825861".to_owned()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "[ -~]{0,20}",
        any::<String>(),
    ];
    (key, value).prop_map(|(k, v)| format!("{k}: {v}\n"))
}

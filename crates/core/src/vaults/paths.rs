//! File paths inside a vault: `/`-rooted, normalised, and free of every
//! traversal trick, because folder-backed vaults write them to disk.

pub const MAX_PATH_BYTES: usize = 4096;
pub const MAX_SEGMENT_BYTES: usize = 255;

/// Normalise a URL-decoded path: a leading `/` is added if missing,
/// repeated slashes collapse; `.`/`..` segments, NUL, control characters
/// and backslashes are refused.
pub fn normalize(raw: &str) -> Result<String, String> {
    if raw.len() > MAX_PATH_BYTES {
        return Err(format!("path is longer than {MAX_PATH_BYTES} bytes"));
    }
    let mut out = String::with_capacity(raw.len() + 1);
    for segment in raw.split('/').filter(|s| !s.is_empty()) {
        if segment == "." || segment == ".." {
            return Err("path may not contain '.' or '..' segments".into());
        }
        if segment.chars().any(|c| c.is_control() || c == '\\') {
            return Err("path may not contain control characters or backslashes".into());
        }
        if segment.len() > MAX_SEGMENT_BYTES {
            return Err(format!(
                "a path segment is longer than {MAX_SEGMENT_BYTES} bytes"
            ));
        }
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() {
        return Err("path names no file".into());
    }
    Ok(out)
}

/// Whether `path` is `prefix` or lies below it (`/` holds everything).
pub fn is_under(path: &str, prefix: &str) -> bool {
    prefix == "/"
        || path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// A `?path=` prefix filter: like a path, but `/` (everything) is allowed.
pub fn normalize_prefix(raw: &str) -> Result<String, String> {
    if raw.split('/').all(str::is_empty) {
        return Ok("/".into());
    }
    normalize(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_refuses_tricks() {
        assert_eq!(normalize("a/b.txt").unwrap(), "/a/b.txt");
        assert_eq!(normalize("//a///b/").unwrap(), "/a/b");
        assert_eq!(normalize("/2026/photo.jpg").unwrap(), "/2026/photo.jpg");
        for bad in [
            "",
            "/",
            "../etc/passwd",
            "/a/../b",
            "/a/./b",
            "a\0b",
            "a\\b",
            "a\nb",
        ] {
            assert!(normalize(bad).is_err(), "{bad:?}");
        }
        assert!(normalize(&"x".repeat(300)).is_err());
        assert!(normalize(&"/ab".repeat(2000)).is_err());
        assert_eq!(normalize_prefix("/").unwrap(), "/");
        assert_eq!(normalize_prefix("/docs/").unwrap(), "/docs");
    }
}

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

/// SQL for "`column` is `prefix` or below it", using the column's index:
/// everything under `/a` sorts from `/a/` up to (not including) `/a0`, as
/// `0` follows `/` in byte order. Answers the condition and its
/// parameters (numbered from `first`); `/` matches everything.
pub fn under_sql(column: &str, prefix: &str, first: usize) -> (String, Vec<String>) {
    if prefix == "/" {
        return ("1".into(), Vec::new());
    }
    let (a, b, c) = (first, first + 1, first + 2);
    (
        format!("({column} = ?{a} OR ({column} >= ?{b} AND {column} < ?{c}))"),
        vec![
            prefix.to_owned(),
            format!("{prefix}/"),
            format!("{prefix}0"),
        ],
    )
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
    fn prefix_ranges_match_is_under() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (p TEXT PRIMARY KEY)")
            .unwrap();
        let all = [
            "/a", "/a/b", "/a/b/c", "/a b", "/a-b", "/a0", "/ab", "/b", "/a/ä",
        ];
        for p in all {
            c.execute("INSERT INTO t VALUES (?1)", [p]).unwrap();
        }
        for prefix in ["/", "/a", "/a/b", "/a b", "/zz"] {
            let (cond, params) = under_sql("p", prefix, 1);
            let mut s = c
                .prepare(&format!("SELECT p FROM t WHERE {cond} ORDER BY p"))
                .unwrap();
            let got: Vec<String> = s
                .query_map(rusqlite::params_from_iter(params), |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let mut want: Vec<String> = all
                .iter()
                .filter(|p| is_under(p, prefix))
                .map(|p| p.to_string())
                .collect();
            want.sort();
            assert_eq!(got, want, "prefix {prefix}");
        }
    }

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

//! The headers of a download that come from outside bytes: the client's
//! `Range` (parsed into a byte span) and the file's name (a user-chosen path
//! segment, made into a `Content-Disposition`). Pure functions, so property
//! tests can throw arbitrary input at them: neither may panic, and every
//! span and header they give back is valid.

use axum::http::HeaderValue;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};

/// A satisfiable range: bytes `start..end` of the body.
pub type Span = (u64, u64);

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` for a body of `size` bytes:
/// `Some(Ok(span))` with `start < end <= size`, `Some(Err(()))` when
/// unsatisfiable, `None` when absent or not understood (then the whole body
/// is sent, as RFC 9110 allows; multiple ranges are not served).
pub fn parse_range(value: Option<&HeaderValue>, size: u64) -> Option<Result<Span, ()>> {
    let spec = value?.to_str().ok()?.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.is_empty(), b.is_empty()) {
        (false, _) => {
            let start: u64 = a.parse().ok()?;
            let end = if b.is_empty() {
                size
            } else {
                b.parse::<u64>().ok()?.saturating_add(1).min(size)
            };
            if start >= size || end <= start {
                return Some(Err(()));
            }
            (start, end)
        }
        (true, false) => {
            let n: u64 = b.parse().ok()?;
            if n == 0 || size == 0 {
                return Some(Err(()));
            }
            (size - n.min(size), size)
        }
        (true, true) => return None,
    };
    Some(Ok(range))
}

/// RFC 8187 `attr-char`: what `filename*` may carry unescaped.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment` naming `name`: an ASCII fallback (anything else becomes
/// `_`) and the exact name percent-encoded (RFC 6266 `filename*`, RFC 8187
/// encoding: a space is `%20`, never `+`).
pub fn attachment(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = percent_encode(name.as_bytes(), ATTR_CHAR);
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .expect("printable ASCII only")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(s: &str, size: u64) -> Option<Result<Span, ()>> {
        parse_range(Some(&HeaderValue::from_str(s).unwrap()), size)
    }

    #[test]
    fn ranges() {
        assert_eq!(r("bytes=0-1023", 5000), Some(Ok((0, 1024))));
        assert_eq!(r("bytes=100-", 5000), Some(Ok((100, 5000))));
        assert_eq!(r("bytes=-500", 5000), Some(Ok((4500, 5000))));
        assert_eq!(r("bytes=4000-9999", 5000), Some(Ok((4000, 5000))));
        assert_eq!(r("bytes=5000-", 5000), Some(Err(())));
        assert_eq!(r("bytes=10-5", 5000), Some(Err(())));
        assert_eq!(r("bytes=-0", 5000), Some(Err(())));
        assert_eq!(r("bytes=0-1,5-6", 5000), None);
        assert_eq!(r("items=0-1", 5000), None);
        assert_eq!(r("bytes=x-1", 5000), None);
        assert_eq!(r("bytes=0-18446744073709551615", 10), Some(Ok((0, 10))));
        assert_eq!(parse_range(None, 5), None);
    }

    #[test]
    fn attachment_names() {
        assert_eq!(
            attachment("a b\"ü+*.txt"),
            "attachment; filename=\"a_b__+*.txt\"; filename*=UTF-8''a%20b%22%C3%BC+%2A.txt"
        );
    }

    fn config() -> ProptestConfig {
        // PROPTEST_CASES raises the case count for a long run; a case that
        // takes over 5 s counts as a hang.
        ProptestConfig {
            timeout: 5_000,
            ..ProptestConfig::default()
        }
    }

    /// Range-ish text: digits, the separators, `bytes=`, spaces and noise.
    fn range_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ ]{0,2}bytes=[ ]{0,2}[0-9]{0,21}[ ]{0,2}-[ ]{0,2}[0-9]{0,21}[ ,0-9-]{0,4}",
            "(bytes|Bytes|items)?[=0-9, -]{0,30}",
            any::<String>(),
        ]
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn range_never_panics_and_spans_fit(text in range_text(), raw in any::<Vec<u8>>(),
                                            size in prop_oneof![Just(0u64), Just(u64::MAX), 0u64..10_000, any::<u64>()]) {
            let values = [HeaderValue::from_str(&text).ok(), HeaderValue::from_bytes(&raw).ok()];
            for value in values.iter().flatten() {
                if let Some(Ok((start, end))) = parse_range(Some(value), size) {
                    prop_assert!(start < end && end <= size, "{value:?} of {size}: {start}..{end}");
                }
            }
        }

        #[test]
        fn well_formed_ranges_are_served_exactly(size in 1u64..u64::MAX, a in any::<u64>(), b in any::<u64>()) {
            let (start, last) = (a.min(b) % size, a.max(b));
            let got = r(&format!("bytes={start}-{last}"), size);
            prop_assert_eq!(got, Some(Ok((start, last.saturating_add(1).min(size)))));
            let n = a % size + 1;
            prop_assert_eq!(r(&format!("bytes=-{n}"), size), Some(Ok((size - n, size))));
        }

        #[test]
        fn any_file_name_makes_a_valid_disposition(name in any::<String>()) {
            let value = attachment(&name);
            let text = value.to_str().expect("visible ASCII");
            let encoded = text.rsplit_once("UTF-8''").expect("filename* present").1;
            let attr_char = |b: u8| b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~%".contains(&b);
            prop_assert!(encoded.bytes().all(attr_char), "{}", encoded);
            let decoded = percent_encoding::percent_decode_str(encoded).decode_utf8();
            prop_assert_eq!(decoded.expect("UTF-8"), name.as_str());
        }
    }
}

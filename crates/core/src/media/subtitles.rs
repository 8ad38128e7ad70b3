//! Subtitles for the video player: which files next to a video are its
//! sidecar subtitles (by name), and their conversion to WebVTT, the one
//! format an HTML5 `<track>` reads. Pure functions over bounded input.

/// Largest subtitle file read (sidecar or extracted).
pub const MAX_SUBTITLE_BYTES: usize = 10 * 1024 * 1024;

/// Subtitle formats found as sidecars.
pub const EXTENSIONS: &[&str] = &["srt", "vtt", "ass", "ssa"];

/// A sidecar subtitle of a video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sidecar {
    /// Its path in the vault.
    pub path: String,
    /// `srt`, `vtt`, `ass` or `ssa` (lower case).
    pub format: String,
    /// The language from the name (`movie.en.srt` → `en`), if any.
    pub lang: Option<String>,
}

/// The sidecar subtitles of `video` among `siblings` (paths of the files in
/// the same folder): `<stem>.<ext>` and `<stem>.<lang>.<ext>` (also
/// `<stem>.<lang>.forced.<ext>`-like tails, the first part taken as the
/// language), with `ext` one of [`EXTENSIONS`], case-insensitive. Sorted by
/// path, so a sidecar's position is stable while the folder is.
pub fn sidecars_of(video: &str, siblings: &[String]) -> Vec<Sidecar> {
    let (folder, name) = video.rsplit_once('/').unwrap_or(("", video));
    let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name);
    if stem.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<Sidecar> = siblings
        .iter()
        .filter_map(|p| {
            let (f, n) = p.rsplit_once('/').unwrap_or(("", p.as_str()));
            if f != folder || p == video {
                return None;
            }
            let (base, ext) = n.rsplit_once('.')?;
            let ext = ext.to_ascii_lowercase();
            if !EXTENSIONS.contains(&ext.as_str()) {
                return None;
            }
            let lang = if base == stem {
                None
            } else {
                let rest = base.strip_prefix(stem)?.strip_prefix('.')?;
                let lang = rest.split('.').next().unwrap_or("");
                if lang.is_empty()
                    || lang.len() > 16
                    || !lang
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                {
                    return None;
                }
                Some(lang.to_owned())
            };
            Some(Sidecar {
                path: p.clone(),
                format: ext,
                lang,
            })
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Why a subtitle could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    #[error("subtitle is larger than {} MiB", MAX_SUBTITLE_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("not a WebVTT file (it must start with WEBVTT)")]
    NotVtt,
    #[error("{0} is not a subtitle format this can convert")]
    Unsupported(String),
}

/// Subtitle bytes as text: UTF-8 (a BOM dropped); anything else is taken
/// as Windows-1252/Latin-1, the usual encoding of older SRT files.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// Convert subtitle `bytes` in `format` (`srt`, `vtt`, `ass`, `ssa`) to WebVTT.
pub fn to_vtt(format: &str, bytes: &[u8]) -> Result<String, ConvertError> {
    if bytes.len() > MAX_SUBTITLE_BYTES {
        return Err(ConvertError::TooLarge);
    }
    let text = decode(bytes);
    match format {
        "srt" => Ok(srt_to_vtt(&text)),
        "vtt" => vtt_checked(&text),
        "ass" | "ssa" => Ok(ass_to_vtt(&text)),
        other => Err(ConvertError::Unsupported(other.to_owned())),
    }
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l))
}

/// A WebVTT file as given, once its header is checked (line endings made `\n`).
pub fn vtt_checked(text: &str) -> Result<String, ConvertError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = lines(text).next().unwrap_or("");
    let ok = first == "WEBVTT" || first.starts_with("WEBVTT ") || first.starts_with("WEBVTT\t");
    if !ok {
        return Err(ConvertError::NotVtt);
    }
    let mut out: String = lines(text).collect::<Vec<_>>().join("\n");
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// An SRT timestamp line `00:00:01,000 --> 00:00:02,500` as WebVTT's,
/// or `None` when the line is not one.
fn srt_timing(line: &str) -> Option<String> {
    let (a, b) = line.split_once("-->")?;
    let a = srt_time(a.trim())?;
    // Anything after the end time (SRT position hints) is dropped.
    let b = srt_time(b.split_whitespace().next()?)?;
    Some(format!("{a} --> {b}"))
}

/// `H:MM:SS,mmm` (also `.` and short fields) as `HH:MM:SS.mmm`.
fn srt_time(t: &str) -> Option<String> {
    let (hms, ms) = t.split_once([',', '.']).unwrap_or((t, "0"));
    let parts: Vec<&str> = hms.split(':').collect();
    if parts.len() != 3 || ms.is_empty() || ms.len() > 3 {
        return None;
    }
    let num = |s: &str, max: u64| -> Option<u64> {
        if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok().filter(|n| *n <= max)
    };
    let h = num(parts[0], 999)?;
    let m = num(parts[1], 59)?;
    let s = num(parts[2], 59)?;
    let ms_digits: String = format!("{ms:0<3}");
    let ms = num(&ms_digits, 999)?;
    Some(format!("{h:02}:{m:02}:{s:02}.{ms:03}"))
}

/// Cue text is safe in WebVTT: a blank line would end the cue, and `-->`
/// would read as a timing line.
fn cue_line(line: &str) -> String {
    line.replace("-->", "->")
}

/// SRT → WebVTT: a header, cue numbers dropped, `,` → `.` in timings,
/// BOM and CRLF tolerated, blocks without a valid timing skipped.
pub fn srt_to_vtt(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = String::from("WEBVTT\n\n");
    let mut block: Vec<&str> = Vec::new();
    let flush = |block: &mut Vec<&str>, out: &mut String| {
        let timing_at = block.iter().position(|l| srt_timing(l).is_some());
        if let Some(i) = timing_at {
            out.push_str(&srt_timing(block[i]).expect("checked"));
            out.push('\n');
            for l in &block[i + 1..] {
                out.push_str(&cue_line(l));
                out.push('\n');
            }
            out.push('\n');
        }
        block.clear();
    };
    for line in lines(text) {
        if line.trim().is_empty() {
            flush(&mut block, &mut out);
        } else {
            block.push(line);
        }
    }
    flush(&mut block, &mut out);
    out
}

/// `H:MM:SS.cc` (ASS centiseconds) as `HH:MM:SS.mmm`.
fn ass_time(t: &str) -> Option<String> {
    let (hms, cs) = t.trim().split_once('.')?;
    let parts: Vec<&str> = hms.split(':').collect();
    if parts.len() != 3 || cs.is_empty() || cs.len() > 3 {
        return None;
    }
    let n = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (h, m, s) = (n(parts[0])?, n(parts[1])?, n(parts[2])?);
    if m > 59 || s > 59 {
        return None;
    }
    let ms = n(cs)? * 10u64.pow(3 - cs.len() as u32);
    Some(format!("{h:02}:{m:02}:{s:02}.{:03}", ms.min(999)))
}

/// The text of an ASS dialogue: override blocks `{\…}` removed, `\N`/`\n`
/// as line breaks, `\h` as a space.
fn ass_text(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut depth = 0usize;
    for c in t.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.replace("\\N", "\n")
        .replace("\\n", "\n")
        .replace("\\h", " ")
}

/// ASS/SSA → WebVTT: the `Dialogue:` lines of `[Events]`, timed by the
/// `Format:` line's Start/End/Text columns (the standard order when absent).
pub fn ass_to_vtt(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = String::from("WEBVTT\n\n");
    let (mut start_col, mut end_col, mut text_col, mut cols) = (1usize, 2usize, 9usize, 10usize);
    let mut in_events = false;
    for line in lines(text) {
        let l = line.trim_start();
        if l.starts_with('[') {
            in_events = l.eq_ignore_ascii_case("[events]");
            continue;
        }
        if !in_events {
            continue;
        }
        if let Some(f) = l.strip_prefix("Format:") {
            let names: Vec<String> = f.split(',').map(|s| s.trim().to_lowercase()).collect();
            let find = |n: &str| names.iter().position(|x| x == n);
            if let (Some(s), Some(e), Some(t)) = (find("start"), find("end"), find("text")) {
                (start_col, end_col, text_col, cols) = (s, e, t, names.len());
            }
            continue;
        }
        let Some(d) = l.strip_prefix("Dialogue:") else {
            continue;
        };
        // The text is the last column and may itself hold commas.
        let fields: Vec<&str> = d.splitn(cols, ',').collect();
        if fields.len() < cols {
            continue;
        }
        let (Some(a), Some(b)) = (ass_time(fields[start_col]), ass_time(fields[end_col])) else {
            continue;
        };
        let body = ass_text(fields[text_col]);
        let body: Vec<String> = body
            .split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(cue_line)
            .collect();
        if body.is_empty() {
            continue;
        }
        out.push_str(&format!("{a} --> {b}\n{}\n\n", body.join("\n")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn sidecars_match_the_stem_and_a_language() {
        let siblings = s(&[
            "/films/Movie.mkv",
            "/films/Movie.srt",
            "/films/Movie.en.SRT",
            "/films/Movie.fr.forced.ass",
            "/films/Movie.de.vtt",
            "/films/Movie2.srt",
            "/films/Other.en.srt",
            "/films/Movie.en.txt",
            "/films/sub/Movie.srt",
            "/films/Movie.bad lang.srt",
        ]);
        let found = sidecars_of("/films/Movie.mkv", &siblings);
        let got: Vec<(&str, &str, Option<&str>)> = found
            .iter()
            .map(|x| (x.path.as_str(), x.format.as_str(), x.lang.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("/films/Movie.de.vtt", "vtt", Some("de")),
                ("/films/Movie.en.SRT", "srt", Some("en")),
                ("/films/Movie.fr.forced.ass", "ass", Some("fr")),
                ("/films/Movie.srt", "srt", None),
            ]
        );
        assert!(sidecars_of("/x.mkv", &s(&["/x.srt"]))[0].lang.is_none());
    }

    #[test]
    fn srt_becomes_vtt() {
        let srt = "\u{feff}1\r\n00:00:01,000 --> 00:00:02,500\r\nHello\r\nworld\r\n\r\n2\r\n0:00:03,5 --> 00:00:04,000 X1:10\r\nA --> B\r\n\r\n3\r\nbroken --> timing\r\nskipped\r\n";
        assert_eq!(
            srt_to_vtt(srt),
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHello\nworld\n\n00:00:03.500 --> 00:00:04.000\nA -> B\n\n"
        );
        assert_eq!(srt_to_vtt(""), "WEBVTT\n\n");
        assert!(srt_time("00:61:00,000").is_none());
        assert!(srt_time("00:00:00,0000").is_none());
        let bytes = b"1\n00:00:01,000 --> 00:00:02,000\ncaf\xe9\n";
        assert!(to_vtt("srt", bytes).unwrap().contains("café"));
    }

    #[test]
    fn ass_dialogue_becomes_vtt() {
        let ass = "[Script Info]\nTitle: x\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\nComment: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,note\nDialogue: 0,0:00:01.50,0:00:03.00,Default,,0,0,0,,{\\i1}Hi,{\\b1} there{\\b0}\\NSecond line\nDialogue: 0,0:00:04.00,0:00:05.00,Default,,0,0,0,,{\\pos(1,2)}\n";
        assert_eq!(
            ass_to_vtt(ass),
            "WEBVTT\n\n00:00:01.500 --> 00:00:03.000\nHi, there\nSecond line\n\n"
        );
    }

    #[test]
    fn vtt_passes_through_when_it_is_vtt() {
        assert_eq!(
            to_vtt("vtt", b"WEBVTT\r\n\r\n00:01.000 --> 00:02.000\r\nx\r\n").unwrap(),
            "WEBVTT\n\n00:01.000 --> 00:02.000\nx\n"
        );
        assert_eq!(to_vtt("vtt", b"1\n00:00:01,000"), Err(ConvertError::NotVtt));
        assert_eq!(
            to_vtt("srt", &vec![b'a'; MAX_SUBTITLE_BYTES + 1]),
            Err(ConvertError::TooLarge)
        );
        assert!(matches!(
            to_vtt("sub", b"x"),
            Err(ConvertError::Unsupported(_))
        ));
    }
}

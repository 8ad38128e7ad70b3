//! Tags read from a file's bytes with lofty (ID3v2/ID3v1, Vorbis comments,
//! FLAC, MP4/M4A, Opus, APE, RIFF INFO): the fields the library shows, the
//! stream's properties, and the first embedded picture (front cover first).

use std::io::{Read, Seek};

use lofty::file::{AudioFile, TaggedFileExt};
use lofty::picture::PictureType;
use lofty::probe::Probe;
use lofty::tag::{Accessor, ItemKey, Tag};
use serde::{Deserialize, Serialize};

/// Embedded pictures larger than this are not kept as covers.
pub const MAX_COVER_BYTES: usize = 8 * 1024 * 1024;
/// Longest text kept from a tag field, in characters.
const MAX_FIELD_CHARS: usize = 512;

/// What the tags and stream properties say. Every field is optional: files
/// carry what they carry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tags {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album_artist: Option<String>,
    pub album: Option<String>,
    pub track_no: Option<u32>,
    pub track_total: Option<u32>,
    pub disc_no: Option<u32>,
    pub disc_total: Option<u32>,
    pub year: Option<i32>,
    pub genre: Option<String>,
    pub comment: Option<String>,
    pub duration_ms: Option<u64>,
    pub bitrate_kbps: Option<u32>,
    pub sample_rate: Option<u32>,
    pub channels: Option<u32>,
    /// The container lofty recognised (`Mpeg`, `Flac`, `Opus`, `Mp4`, …).
    pub format: Option<String>,
}

/// An embedded picture.
#[derive(Debug, Clone)]
pub struct Picture {
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// Read the tags of the file in `reader`.
pub fn read<R: Read + Seek>(reader: &mut R) -> Result<(Tags, Option<Picture>), String> {
    let file = Probe::new(std::io::BufReader::with_capacity(64 * 1024, reader))
        .guess_file_type()
        .map_err(|e| format!("cannot read the file: {e}"))?
        .read()
        .map_err(|e| format!("cannot read the tags: {e}"))?;
    let props = file.properties();
    let duration = props.duration().as_millis() as u64;
    let mut tags = Tags {
        duration_ms: (duration > 0).then_some(duration),
        bitrate_kbps: props.audio_bitrate(),
        sample_rate: props.sample_rate(),
        channels: props.channels().map(u32::from),
        format: Some(format!("{:?}", file.file_type())),
        ..Tags::default()
    };
    let mut picture = None;
    // The primary tag first, then the others fill what it lacks.
    let mut ordered: Vec<&Tag> = file.primary_tag().into_iter().collect();
    ordered.extend(
        file.tags()
            .iter()
            .filter(|t| Some(t.tag_type()) != file.primary_tag().map(|p| p.tag_type())),
    );
    for tag in ordered {
        fill(&mut tags, tag);
        if picture.is_none() {
            picture = cover(tag);
        }
    }
    Ok((tags, picture))
}

fn text(s: Option<std::borrow::Cow<'_, str>>) -> Option<String> {
    let s = s?;
    let s = s.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    (!s.is_empty()).then(|| s.chars().take(MAX_FIELD_CHARS).collect())
}

fn fill(t: &mut Tags, tag: &Tag) {
    t.title = t.title.take().or_else(|| text(tag.title()));
    t.artist = t.artist.take().or_else(|| text(tag.artist()));
    t.album = t.album.take().or_else(|| text(tag.album()));
    t.genre = t.genre.take().or_else(|| text(tag.genre()));
    t.comment = t.comment.take().or_else(|| text(tag.comment()));
    t.album_artist = t
        .album_artist
        .take()
        .or_else(|| text(tag.get_string(ItemKey::AlbumArtist).map(Into::into)));
    t.track_no = t.track_no.or(tag.track().filter(|n| *n > 0));
    t.track_total = t.track_total.or(tag.track_total().filter(|n| *n > 0));
    t.disc_no = t.disc_no.or(tag.disk().filter(|n| *n > 0));
    t.disc_total = t.disc_total.or(tag.disk_total().filter(|n| *n > 0));
    t.year = t.year.or_else(|| {
        tag.date()
            .map(|d| i32::from(d.year))
            .or_else(|| {
                let raw = tag
                    .get_string(ItemKey::Year)
                    .or_else(|| tag.get_string(ItemKey::RecordingDate))?;
                raw.get(..4)?.parse().ok()
            })
            .filter(|y| (1..=9999).contains(y))
    });
}

/// The front cover, else the first picture, if it is small enough to keep.
fn cover(tag: &Tag) -> Option<Picture> {
    let pictures = tag.pictures();
    let p = pictures
        .iter()
        .find(|p| p.pic_type() == PictureType::CoverFront)
        .or_else(|| pictures.first())?;
    let bytes = p.data();
    if bytes.is_empty() || bytes.len() > MAX_COVER_BYTES {
        return None;
    }
    let mime = p
        .mime_type()
        .map(|m| m.as_str().to_owned())
        .filter(|m| m.starts_with("image/"))
        .unwrap_or_else(|| sniff(bytes).to_owned());
    Some(Picture {
        mime,
        bytes: bytes.to_vec(),
    })
}

/// An image's type from its first bytes, for pictures stored without one.
pub fn sniff(bytes: &[u8]) -> &'static str {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [0x89, b'P', b'N', b'G', ..] => "image/png",
        [b'G', b'I', b'F', b'8', ..] => "image/gif",
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => "image/webp",
        _ => "application/octet-stream",
    }
}

//! Audio fingerprints in AcoustID's form: the first two minutes of a file
//! decoded with symphonia, downmixed to mono 16-bit, fed to rusty-chromaprint
//! (Chromaprint's default algorithm, `preset_test2`), compressed and written
//! as unpadded URL-safe base64, the string `fpcalc` prints and AcoustID's
//! `fingerprint` parameter takes. Formats symphonia cannot decode (Opus has
//! no decoder there) get a reason, never a made-up fingerprint.

use std::io::{Read, Seek, SeekFrom};
use std::panic::AssertUnwindSafe;

use base64::Engine;
use rusty_chromaprint::{Configuration, FingerprintCompressor, Fingerprinter};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, CODEC_TYPE_OPUS, DecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// Seconds of audio a fingerprint covers at most (as `fpcalc` does).
pub const MAX_SECONDS: u32 = 120;
/// Undecodable packets in a row after which the file is given up on.
const MAX_BAD_PACKETS: u32 = 64;

/// A fingerprint and the whole seconds of audio it was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub fingerprint: String,
    pub duration_s: u32,
}

/// A blocking `Read + Seek` handed to symphonia.
struct Source<R> {
    inner: R,
    len: Option<u64>,
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: Seek> Seek for Source<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

impl<R: Read + Seek + Send + Sync> MediaSource for Source<R> {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        self.len
    }
}

/// Fingerprint the audio in `reader` (read from its start; blocking). The
/// error is a sentence for the owner (`fp_error`).
pub fn compute<R>(mut reader: R) -> Result<Fingerprint, String>
where
    R: Read + Seek + Send + Sync + 'static,
{
    let len = reader.seek(SeekFrom::End(0)).ok();
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| format!("cannot read the file: {e}"))?;
    let source = Source { inner: reader, len };
    match std::panic::catch_unwind(AssertUnwindSafe(|| decode_and_print(source))) {
        Ok(r) => r,
        Err(_) => Err("the audio could not be decoded (the decoder gave up)".into()),
    }
}

fn decode_and_print<R>(source: Source<R>) -> Result<Fingerprint, String>
where
    R: Read + Seek + Send + Sync + 'static,
{
    let mss = MediaSourceStream::new(Box::new(source), Default::default());
    let probed = symphonia::default::get_probe()
        .format(
            &Hint::new(),
            mss,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| format!("no audio stream this decoder knows: {e}"))?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or("the file holds no audio track")?;
    if track.codec_params.codec == CODEC_TYPE_OPUS {
        return Err(
            "Opus audio cannot be fingerprinted here: the decoder used (symphonia) has no Opus \
             support"
                .into(),
        );
    }
    let track_id = track.id;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| format!("this audio codec cannot be decoded here: {e}"))?;

    let config = Configuration::preset_test2();
    let mut printer = Fingerprinter::new(&config);
    let mut started: Option<(u32, usize)> = None; // (rate, channels)
    let mut fed: u64 = 0; // mono samples
    let mut limit: u64 = u64::MAX;
    let mut samples: Option<SampleBuffer<i16>> = None;
    let mut mono: Vec<i16> = Vec::new();
    let mut bad = 0u32;
    while fed < limit {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymError::ResetRequired) => break,
            Err(SymError::IoError(e)) => return Err(format!("cannot read the file: {e}")),
            Err(e) => {
                bad += 1;
                if bad > MAX_BAD_PACKETS {
                    return Err(format!("the audio could not be demuxed: {e}"));
                }
                continue;
            }
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            Err(SymError::DecodeError(_)) => {
                bad += 1;
                if bad > MAX_BAD_PACKETS {
                    return Err("the audio could not be decoded".into());
                }
                continue;
            }
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(format!("the audio could not be decoded: {e}")),
        };
        bad = 0;
        let spec = *decoded.spec();
        let channels = spec.channels.count().max(1);
        if decoded.frames() == 0 {
            continue;
        }
        match started {
            None => {
                printer
                    .start(spec.rate, 1)
                    .map_err(|e| format!("cannot fingerprint this audio: {e:?}"))?;
                started = Some((spec.rate, channels));
                limit = u64::from(MAX_SECONDS) * u64::from(spec.rate);
            }
            Some((rate, _)) if rate != spec.rate => break,
            Some(_) => {}
        }
        let buf = match &mut samples {
            Some(b) if b.capacity() >= decoded.capacity() * channels => b,
            _ => samples.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
        };
        buf.copy_interleaved_ref(decoded);
        mono.clear();
        mono.extend(buf.samples().chunks_exact(channels).map(|frame| {
            let sum: i32 = frame.iter().map(|s| i32::from(*s)).sum();
            (sum / channels as i32) as i16
        }));
        let room = (limit - fed) as usize;
        let take = mono.len().min(room);
        printer.consume(&mono[..take]);
        fed += take as u64;
    }
    let Some((rate, _)) = started else {
        return Err("the file holds no decodable audio".into());
    };
    printer.finish();
    let raw = printer.fingerprint();
    if raw.is_empty() {
        return Err("too short to fingerprint (a few seconds of audio are needed)".into());
    }
    let compressed = FingerprintCompressor::from(&config).compress(raw);
    Ok(Fingerprint {
        fingerprint: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(compressed),
        duration_s: (fed / u64::from(rate)) as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(seconds: f32) -> Vec<u8> {
        let rate = 22_050u32;
        let n = (seconds * rate as f32) as u32;
        let mut out = Vec::new();
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + 2 * n).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        out.extend_from_slice(&(rate * 2).to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&(2 * n).to_le_bytes());
        for i in 0..n {
            let t = i as f32 / rate as f32;
            let f = 440.0 * (1.0 + 0.5 * (t * 0.7).sin());
            let s = (0.5 * (2.0 * std::f32::consts::PI * f * t).sin() * 32767.0) as i16;
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }

    #[test]
    fn a_wav_gets_a_stable_fingerprint() {
        let a = compute(std::io::Cursor::new(wav(8.0))).unwrap();
        let b = compute(std::io::Cursor::new(wav(8.0))).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.duration_s, 8);
        // Algorithm id 1 (Chromaprint's default) leads the compressed form.
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&a.fingerprint)
            .unwrap();
        assert_eq!(raw[0], 1);
        assert!(!a.fingerprint.contains(['+', '/', '=']));
    }

    #[test]
    fn tiny_or_garbage_files_say_why() {
        assert!(compute(std::io::Cursor::new(wav(0.05))).is_err());
        let e = compute(std::io::Cursor::new(vec![7u8; 4096])).unwrap_err();
        assert!(!e.is_empty());
    }
}

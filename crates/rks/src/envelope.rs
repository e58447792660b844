//! The one file envelope of everything this project saves: models, networks, partial fits.
//!
//! Every file is a 28-byte header and a payload (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 0..8 | the tag naming the kind of file ([`FileKind::tag`], e.g. `b"RKSMODEL"`) |
//! | 8..12 | format version (u32) |
//! | 12..20 | payload length in bytes (u64) |
//! | 20..28 | FNV-1a 64 checksum of the payload (u64) |
//! | 28.. | the payload: serde + bincode 2, `standard()` configuration |
//!
//! A kind may have older versions written with the short header of the first model files (tag,
//! version, then the payload up to the end of the file: no length, no checksum); see
//! [`FileKind::framed_since`].
//!
//! The rules, the same for every kind:
//! - **versions**: a file newer than this build is [`FileError::NewerVersion`]; an older version
//!   this build still knows is opened and its version handed to the caller, who decodes its
//!   payload; versions below [`FileKind::oldest`] are [`FileError::UnsupportedVersion`];
//! - **reading never trusts a length**: a file larger than the header and
//!   [`FileKind::max_payload`] is refused before it is read, the announced length and the
//!   checksum are compared with the bytes, and the payload is decoded with a bincode limit of 16
//!   times its length, so a corrupted length prefix inside cannot make the decoder reserve
//!   gigabytes. Any defect is a typed [`FileError`], never a panic;
//! - **saving is atomic and follows links**: [`write_atomic`] writes a temporary file beside the
//!   target, syncs it and renames it onto the target, where the target is the path with its
//!   symbolic links resolved; it refuses to replace anything that is not a regular file (a
//!   device, a pipe, a socket, a directory).
//!
//! ```
//! use rks::envelope::{FileError, FileKind};
//!
//! const NOTES: FileKind = FileKind {
//!     tag: *b"RKSNOTES",
//!     what: "notes",
//!     version: 1,
//!     oldest: 1,
//!     framed_since: 1,
//!     max_payload: 1 << 20,
//! };
//! let bytes = NOTES.encode(&vec![1.5f64, 2.5])?;
//! let (version, payload) = NOTES.open(&bytes)?;
//! assert_eq!(version, 1);
//! let notes: Vec<f64> = NOTES.decode(payload)?;
//! assert_eq!(notes, [1.5, 2.5]);
//! assert!(matches!(NOTES.open(b"GIF89a.."), Err(FileError::ForeignFile { .. })));
//! # Ok::<(), FileError>(())
//! ```

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bincode::config::{self, Config};
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

/// Length of the header of every current file.
pub const HEADER_LEN: usize = 28;
/// Length of the short header of older files (tag and version).
const SHORT_HEADER_LEN: usize = 12;

/// What can go wrong reading or writing a saved file. `what` names the kind of file ("model",
/// "network").
#[derive(Debug, Error)]
pub enum FileError {
    /// Reading or writing the file failed.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The save target exists and is not a regular file (a device, a pipe, a directory...).
    #[error("{path} is {found}, not a regular file: refusing to replace it with the {what}")]
    NotRegularFile {
        /// The target (symbolic links resolved).
        path: PathBuf,
        /// What it is instead, in words.
        found: &'static str,
        /// The kind of file that was to be saved.
        what: &'static str,
    },
    /// The bytes do not start with the kind's tag.
    #[error(
        "not an rks {what} file (it does not start with the tag \"{}\")",
        String::from_utf8_lossy(.tag)
    )]
    ForeignFile {
        /// The kind of file expected.
        what: &'static str,
        /// Its tag.
        tag: [u8; 8],
    },
    /// The file was written by a newer format version than this build reads.
    #[error(
        "{what} file format version {found} is newer than this build reads (version {newest}): \
         load it with a newer rks"
    )]
    NewerVersion {
        /// The kind of file.
        what: &'static str,
        /// Version in the file.
        found: u32,
        /// The newest version this build reads (and the one it writes).
        newest: u32,
    },
    /// The file's format version is older than any this build reads (or does not exist).
    #[error(
        "{what} file format version {found} is not supported (this build reads versions {oldest} to {newest})"
    )]
    UnsupportedVersion {
        /// The kind of file.
        what: &'static str,
        /// Version in the file.
        found: u32,
        /// The oldest version this build reads.
        oldest: u32,
        /// The newest version this build reads.
        newest: u32,
    },
    /// The file ends before its header, or before the length its header announces.
    #[error("{what} file is truncated: {found} bytes, expected {expected}")]
    Truncated {
        /// The kind of file.
        what: &'static str,
        /// The length the header announces (or the header's length).
        expected: u64,
        /// The length found.
        found: u64,
    },
    /// The file (or its announced payload) is larger than this kind of file may be.
    #[error("{what} file of {found} bytes is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The kind of file.
        what: &'static str,
        /// The size found or announced.
        found: u64,
        /// The limit.
        limit: u64,
    },
    /// The payload fails its checksum, does not decode, or decodes to parts that disagree.
    #[error("{what} file is corrupt: {reason}")]
    Corrupt {
        /// The kind of file.
        what: &'static str,
        /// What is wrong, in words a user can act on.
        reason: String,
    },
    /// The value could not be encoded.
    #[error("cannot encode the {what}: {reason}")]
    Encode {
        /// The kind of file.
        what: &'static str,
        /// bincode's reason.
        reason: String,
    },
}

/// One kind of saved file: its tag, the versions this build reads and writes, its size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileKind {
    /// The first 8 bytes of every file of this kind (ASCII).
    pub tag: [u8; 8],
    /// The kind in words, for messages ("model").
    pub what: &'static str,
    /// The version this build writes, and the newest it reads.
    pub version: u32,
    /// The oldest version this build reads (≥ 1).
    pub oldest: u32,
    /// The first version written with the full header; older ones have the short header (tag,
    /// version, payload to the end of the file).
    pub framed_since: u32,
    /// The largest payload accepted, in bytes.
    pub max_payload: u64,
}

/// FNV-1a, 64 bit: catches accidental corruption (flipped bits, mixed-up files), not tampering.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl FileKind {
    fn corrupt(&self, reason: impl Into<String>) -> FileError {
        FileError::Corrupt {
            what: self.what,
            reason: reason.into(),
        }
    }

    /// The header (full form, current version) followed by `payload`.
    pub fn seal(&self, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.resize(HEADER_LEN, 0);
        out.extend_from_slice(payload);
        self.write_header(&mut out);
        out
    }

    /// Fills the first [`HEADER_LEN`] bytes of `file` for the payload after them.
    fn write_header(&self, file: &mut [u8]) {
        let (header, payload) = file.split_at_mut(HEADER_LEN);
        header[..8].copy_from_slice(&self.tag);
        header[8..12].copy_from_slice(&self.version.to_le_bytes());
        header[12..20].copy_from_slice(&(payload.len() as u64).to_le_bytes());
        header[20..28].copy_from_slice(&fnv1a(payload).to_le_bytes());
    }

    /// `value` encoded with bincode and sealed: the bytes of a file of this kind (encoded in
    /// place after the header, so a large payload is not copied).
    pub fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, FileError> {
        let mut out = vec![0; HEADER_LEN];
        bincode::serde::encode_into_std_write(value, &mut out, config::standard()).map_err(
            |e| FileError::Encode {
                what: self.what,
                reason: e.to_string(),
            },
        )?;
        let payload_len = (out.len() - HEADER_LEN) as u64;
        if payload_len > self.max_payload {
            return Err(FileError::TooLarge {
                what: self.what,
                found: payload_len,
                limit: self.max_payload,
            });
        }
        self.write_header(&mut out);
        Ok(out)
    }

    /// Checks the header of `bytes` and returns the file's version and its payload (length and
    /// checksum verified for framed versions).
    pub fn open<'a>(&self, bytes: &'a [u8]) -> Result<(u32, &'a [u8]), FileError> {
        let truncated = |expected: u64| FileError::Truncated {
            what: self.what,
            expected,
            found: bytes.len() as u64,
        };
        // A prefix of the tag is a truncated file of this kind, anything else a foreign file.
        let tag_len = bytes.len().min(self.tag.len());
        if bytes[..tag_len] != self.tag[..tag_len] {
            return Err(FileError::ForeignFile {
                what: self.what,
                tag: self.tag,
            });
        }
        let word = |at: usize, len: usize| bytes.get(at..at + len);
        let Some(version) = word(8, 4) else {
            return Err(truncated(HEADER_LEN as u64));
        };
        let version = u32::from_le_bytes(version.try_into().unwrap_or_default());
        if version > self.version {
            return Err(FileError::NewerVersion {
                what: self.what,
                found: version,
                newest: self.version,
            });
        }
        if version < self.oldest {
            return Err(FileError::UnsupportedVersion {
                what: self.what,
                found: version,
                oldest: self.oldest,
                newest: self.version,
            });
        }
        if version < self.framed_since {
            let payload = &bytes[SHORT_HEADER_LEN..];
            if payload.len() as u64 > self.max_payload {
                return Err(FileError::TooLarge {
                    what: self.what,
                    found: payload.len() as u64,
                    limit: self.max_payload,
                });
            }
            return Ok((version, payload));
        }
        let (Some(length), Some(checksum)) = (word(12, 8), word(20, 8)) else {
            return Err(truncated(HEADER_LEN as u64));
        };
        let announced = u64::from_le_bytes(length.try_into().unwrap_or_default());
        if announced > self.max_payload {
            return Err(FileError::TooLarge {
                what: self.what,
                found: announced,
                limit: self.max_payload,
            });
        }
        let payload = &bytes[HEADER_LEN..];
        let found = payload.len() as u64;
        if found < announced {
            return Err(truncated(HEADER_LEN as u64 + announced));
        }
        if found > announced {
            return Err(self.corrupt(format!(
                "{} bytes after the announced end of the payload",
                found - announced
            )));
        }
        if fnv1a(payload) != u64::from_le_bytes(checksum.try_into().unwrap_or_default()) {
            return Err(self.corrupt("the payload does not match its checksum"));
        }
        Ok((version, payload))
    }

    /// Decodes the whole of `payload` as a `T`, with bincode's size limit at 16 times its
    /// length: a length prefix inside the payload cannot claim more memory than that.
    pub fn decode<T: DeserializeOwned>(&self, payload: &[u8]) -> Result<T, FileError> {
        fn run<T: DeserializeOwned, C: Config>(bytes: &[u8], c: C) -> Result<(T, usize), String> {
            bincode::serde::decode_from_slice(bytes, c).map_err(|e| describe(&e))
        }
        let c = config::standard();
        let budget = payload.len().saturating_mul(16);
        let mut decoded = None;
        macro_rules! by_limit {
            ($($bits:literal),*) => {
                $(if decoded.is_none() && budget <= 1usize << $bits {
                    decoded = Some(run(payload, c.with_limit::<{ 1usize << $bits }>()));
                })*
            };
        }
        by_limit!(12, 16, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 44);
        let (value, used) = decoded
            .unwrap_or_else(|| Err(format!("a payload of {} bytes is too large", payload.len())))
            .map_err(|reason| self.corrupt(reason))?;
        if used != payload.len() {
            return Err(self.corrupt(format!(
                "{} unexpected bytes after the {}",
                payload.len() - used,
                self.what
            )));
        }
        Ok(value)
    }

    /// Reads a file of this kind from `path`, refusing one larger than the header and
    /// [`max_payload`](Self::max_payload) before reading it. The bytes are not checked: call
    /// [`open`](Self::open).
    pub fn read(&self, path: &Path) -> Result<Vec<u8>, FileError> {
        let io = |source| FileError::Io {
            path: path.to_path_buf(),
            source,
        };
        let len = fs::metadata(path).map_err(io)?.len();
        let limit = self.max_payload.saturating_add(HEADER_LEN as u64);
        if len > limit {
            return Err(FileError::TooLarge {
                what: self.what,
                found: len,
                limit,
            });
        }
        fs::read(path).map_err(io)
    }

    /// Writes `bytes` to `path` atomically (see [`write_atomic`]).
    pub fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), FileError> {
        write_atomic(path, bytes, self.what)
    }
}

/// A decoding failure in words a user can act on (bincode's own text is a debug dump).
fn describe(error: &bincode::error::DecodeError) -> String {
    use bincode::error::DecodeError;
    match error {
        DecodeError::UnexpectedEnd { additional } => {
            format!("the payload ends early ({additional} more bytes were expected)")
        }
        DecodeError::LimitExceeded => "a stored length is larger than the file could hold".into(),
        other => format!("the payload does not decode ({other})"),
    }
}

/// The most symbolic links followed when resolving a save target (Linux's limit).
const MAX_LINKS: usize = 40;

/// The file a save to `path` writes: `path` with its symbolic links followed (a dangling link
/// resolves to the file it names), or an error if that is anything but a regular file or nothing.
fn resolve_target(path: &Path, what: &'static str) -> Result<PathBuf, FileError> {
    let io = |path: &Path, source| FileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut target = path.to_path_buf();
    for _ in 0..=MAX_LINKS {
        let meta = match fs::symlink_metadata(&target) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(target),
            Err(e) => return Err(io(&target, e)),
        };
        let kind = meta.file_type();
        if kind.is_file() {
            return Ok(target);
        }
        if !kind.is_symlink() {
            return Err(FileError::NotRegularFile {
                path: target,
                found: describe_type(&kind),
                what,
            });
        }
        let link = fs::read_link(&target).map_err(|e| io(&target, e))?;
        target = match target.parent() {
            Some(dir) if link.is_relative() => dir.join(link),
            _ => link,
        };
    }
    Err(io(
        path,
        io::Error::other(format!("more than {MAX_LINKS} symbolic links")),
    ))
}

fn describe_type(kind: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_fifo() {
            return "a named pipe";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Writes `bytes` to `path` so that readers see the old file or the new one, never a mixture.
///
/// The target is `path` with its symbolic links followed, so saving through a link updates the
/// file it points to and leaves the link. A temporary file is created (exclusively) in the
/// target's directory, written, synced and renamed onto the target, keeping an existing target's
/// permissions. A target that exists and is not a regular file is refused with
/// [`FileError::NotRegularFile`]: renaming over `/dev/full` would replace the device.
/// `what` names the kind of file in errors.
pub fn write_atomic(path: &Path, bytes: &[u8], what: &'static str) -> Result<(), FileError> {
    static SAVES: AtomicU64 = AtomicU64::new(0);
    let target = resolve_target(path, what)?;
    let io = |source| FileError::Io {
        path: target.clone(),
        source,
    };
    let name = target.file_name().ok_or_else(|| {
        io(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a file path",
        ))
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        SAVES.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = target.with_file_name(tmp_name);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(io)?;
    let written = (|| {
        if let Ok(old) = fs::metadata(&target) {
            file.set_permissions(old.permissions())?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, &target)
    })();
    if let Err(e) = written {
        // Best effort: the temporary file is ours and useless now.
        let _ = fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: FileKind = FileKind {
        tag: *b"RKSTESTS",
        what: "test",
        version: 3,
        oldest: 1,
        framed_since: 2,
        max_payload: 1 << 16,
    };

    #[test]
    fn fnv1a_known_values() {
        // Reference values of the FNV-1a 64-bit specification.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn the_header_is_laid_out_as_documented() {
        let bytes = KIND.seal(b"abc");
        assert_eq!(&bytes[..8], b"RKSTESTS");
        assert_eq!(bytes[8..12], 3u32.to_le_bytes());
        assert_eq!(bytes[12..20], 3u64.to_le_bytes());
        assert_eq!(bytes[20..28], fnv1a(b"abc").to_le_bytes());
        assert_eq!(&bytes[28..], b"abc");
        assert_eq!(KIND.open(&bytes).unwrap(), (3, &b"abc"[..]));
    }

    #[test]
    fn versions_follow_one_rule() {
        let with_version = |v: u32| {
            let mut b = KIND.seal(b"xyz");
            b[8..12].copy_from_slice(&v.to_le_bytes());
            b
        };
        // Older framed versions open; newer ones and version 0 are typed errors.
        assert_eq!(KIND.open(&with_version(2)).unwrap(), (2, &b"xyz"[..]));
        assert!(matches!(
            KIND.open(&with_version(4)),
            Err(FileError::NewerVersion {
                found: 4,
                newest: 3,
                ..
            })
        ));
        assert!(matches!(
            KIND.open(&with_version(0)),
            Err(FileError::UnsupportedVersion { found: 0, .. })
        ));
        // Versions before `framed_since` have the short header: the payload runs to the end.
        let mut short = b"RKSTESTS".to_vec();
        short.extend_from_slice(&1u32.to_le_bytes());
        short.extend_from_slice(b"old payload");
        assert_eq!(KIND.open(&short).unwrap(), (1, &b"old payload"[..]));
    }

    #[test]
    fn damaged_headers_are_named() {
        let bytes = KIND.seal(b"payload");
        for len in 0..bytes.len() {
            assert!(
                matches!(KIND.open(&bytes[..len]), Err(FileError::Truncated { .. })),
                "prefix of {len}"
            );
        }
        assert!(matches!(
            KIND.open(b"RKSMODEL........"),
            Err(FileError::ForeignFile { .. })
        ));
        let mut huge = bytes.clone();
        huge[12..20].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(KIND.open(&huge), Err(FileError::TooLarge { .. })));
        let mut flipped = bytes.clone();
        flipped[30] ^= 4;
        assert!(matches!(
            KIND.open(&flipped),
            Err(FileError::Corrupt { .. })
        ));
        let mut longer = bytes;
        longer.push(0);
        assert!(matches!(KIND.open(&longer), Err(FileError::Corrupt { .. })));
        let message = KIND.open(b"GIF89a..").unwrap_err().to_string();
        assert!(message.contains("\"RKSTESTS\""), "{message}");
    }

    #[test]
    fn decoding_is_bounded_and_complete() {
        let values = vec![1.0f64, -2.5, 1e300];
        let bytes = KIND.encode(&values).unwrap();
        let (_, payload) = KIND.open(&bytes).unwrap();
        assert_eq!(KIND.decode::<Vec<f64>>(payload).unwrap(), values);
        // A length prefix of 2⁶⁰ elements: refused by the limit, not attempted.
        let mut lying = vec![253u8];
        lying.extend_from_slice(&(1u64 << 60).to_le_bytes());
        lying.extend_from_slice(&[0; 16]);
        assert!(matches!(
            KIND.decode::<Vec<f64>>(&lying),
            Err(FileError::Corrupt { .. })
        ));
        let mut trailing = payload.to_vec();
        trailing.push(7);
        assert!(matches!(
            KIND.decode::<Vec<f64>>(&trailing),
            Err(FileError::Corrupt { .. })
        ));
        let too_big = vec![0u8; (1 << 16) + 1];
        assert!(matches!(
            KIND.encode(&too_big),
            Err(FileError::TooLarge { .. })
        ));
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn saving_replaces_a_regular_file_and_leaves_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.bin");
        write_atomic(&path, b"one", "test").unwrap();
        write_atomic(&path, b"two", "test").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(entries(dir.path()), ["m.bin"]);
        let message = write_atomic(dir.path(), b"x", "test").unwrap_err();
        assert!(
            matches!(
                message,
                FileError::NotRegularFile {
                    found: "a directory",
                    ..
                }
            ),
            "{message}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn saving_through_a_link_writes_its_target_and_keeps_the_link() {
        use std::os::unix::fs::{PermissionsExt, symlink};
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        fs::create_dir(&store).unwrap();
        let target = store.join("model.bin");
        fs::write(&target, b"old").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
        // A relative link, through a second link: both are followed.
        let link = dir.path().join("link");
        symlink("store/model.bin", &link).unwrap();
        let link2 = dir.path().join("link2");
        symlink(&link, &link2).unwrap();
        write_atomic(&link2, b"new", "test").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(
            fs::symlink_metadata(&link2)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&target).unwrap(), b"new");
        let mode = fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        assert_eq!(entries(&store), ["model.bin"]);
        // A dangling link creates the file it names.
        let dangling = dir.path().join("dangling");
        symlink("store/fresh.bin", &dangling).unwrap();
        write_atomic(&dangling, b"fresh", "test").unwrap();
        assert!(
            fs::symlink_metadata(&dangling)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(store.join("fresh.bin")).unwrap(), b"fresh");
        // A loop of links is an error, not a hang.
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        symlink(&b, &a).unwrap();
        symlink(&a, &b).unwrap();
        assert!(matches!(
            write_atomic(&a, b"x", "test"),
            Err(FileError::Io { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn saving_never_replaces_what_is_not_a_regular_file() {
        use std::os::unix::fs::{FileTypeExt, symlink};
        let dir = tempfile::tempdir().unwrap();
        // A socket stands for a device node (which only root can make).
        let socket = dir.path().join("socket");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let err = write_atomic(&socket, b"x", "model").unwrap_err();
        assert!(
            matches!(
                err,
                FileError::NotRegularFile {
                    found: "a socket",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("refusing to replace it with the model"),
            "{err}"
        );
        let link = dir.path().join("link");
        symlink(&socket, &link).unwrap();
        assert!(matches!(
            write_atomic(&link, b"x", "model"),
            Err(FileError::NotRegularFile { .. })
        ));
        assert!(
            fs::symlink_metadata(&socket)
                .unwrap()
                .file_type()
                .is_socket()
        );
        assert_eq!(entries(dir.path()), ["link", "socket"]);
        // A device, where one can be seen.
        let full = Path::new("/dev/full");
        if fs::symlink_metadata(full).is_ok_and(|m| m.file_type().is_char_device()) {
            assert!(matches!(
                write_atomic(full, b"x", "model"),
                Err(FileError::NotRegularFile {
                    found: "a character device",
                    ..
                })
            ));
        }
    }

    #[test]
    fn reading_refuses_files_larger_than_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        fs::write(&path, vec![0u8; HEADER_LEN + (1 << 16) + 1]).unwrap();
        assert!(matches!(KIND.read(&path), Err(FileError::TooLarge { .. })));
        assert!(matches!(
            KIND.read(&dir.path().join("missing")),
            Err(FileError::Io { .. })
        ));
    }
}

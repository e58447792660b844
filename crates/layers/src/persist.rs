//! Saving and loading a [`Network`]: a small header, then the bincode 2 payload.
//!
//! Layout (little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 0..8 | magic tag `b"RKSDFNET"` |
//! | 8..12 | format version (u32), currently [`FORMAT_VERSION`] |
//! | 12..20 | payload length in bytes (u64) |
//! | 20..28 | FNV-1a 64 checksum of the payload (u64) |
//! | 28.. | the network, serde + bincode 2 `standard()` configuration |
//!
//! Loading never panics and never trusts a length before checking it: every failure is a
//! [`LayerError`] variant (foreign file, newer version, truncated, too large, corrupt).

use std::io::Write;
use std::path::Path;

use crate::{LayerError, Network};

/// The tag every saved network starts with.
pub const MAGIC: [u8; 8] = *b"RKSDFNET";
/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 28;

/// Largest payload accepted, in bytes (1 GiB), and bincode's decode limit.
///
/// The limit is what keeps a corrupt length prefix from reserving memory the payload cannot
/// back: bincode refuses to claim more than `MAX_PAYLOAD` bytes in total. Every parameter is an
/// f64 stored in 8 bytes (the `standard()` configuration writes floats at full width), so a
/// network's decoded heap size is within a small factor of its encoded size, and a limit equal
/// to the largest accepted payload never rejects a valid file. 1 GiB holds ~134 M parameters,
/// e.g. eight dense 4,096 × 4,096 layers: far beyond the networks this crate is meant for.
pub const MAX_PAYLOAD: usize = 1 << 30;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_PAYLOAD>()
}

/// FNV-1a, 64 bit: catches accidental corruption (flipped bits, mixed-up files), not tampering.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl Network {
    /// Encodes the network as header + payload (see the module documentation).
    pub fn to_bytes(&self) -> Result<Vec<u8>, LayerError> {
        let payload = bincode::serde::encode_to_vec(self, config())
            .map_err(|e| LayerError::Encode(e.to_string()))?;
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&fnv1a(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        Ok(out)
    }

    /// Decodes bytes written by [`Network::to_bytes`], checking everything on the way.
    ///
    /// ```
    /// use rks_layers::{LayerError, Network};
    /// assert!(matches!(Network::from_bytes(b"hello"), Err(LayerError::ForeignFile)));
    /// assert!(matches!(Network::from_bytes(b"RKSD"), Err(LayerError::Truncated { .. })));
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LayerError> {
        let tag_len = bytes.len().min(MAGIC.len());
        if bytes[..tag_len] != MAGIC[..tag_len] {
            return Err(LayerError::ForeignFile);
        }
        let Some((header, payload)) = bytes.split_at_checked(HEADER_LEN) else {
            return Err(LayerError::Truncated {
                expected: HEADER_LEN as u64,
                found: bytes.len() as u64,
            });
        };
        let field = |at: usize| -> [u8; 8] {
            let mut b = [0; 8];
            b.copy_from_slice(&header[at..at + 8]);
            b
        };
        let mut version = [0; 4];
        version.copy_from_slice(&header[8..12]);
        let version = u32::from_le_bytes(version);
        if version > FORMAT_VERSION {
            return Err(LayerError::NewerVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        if version == 0 {
            return Err(LayerError::Corrupt(
                "format version 0 does not exist".into(),
            ));
        }
        let announced = u64::from_le_bytes(field(12));
        if announced > MAX_PAYLOAD as u64 {
            return Err(LayerError::TooLarge {
                found: announced,
                limit: MAX_PAYLOAD as u64,
            });
        }
        let found = payload.len() as u64;
        if found < announced {
            return Err(LayerError::Truncated {
                expected: HEADER_LEN as u64 + announced,
                found: bytes.len() as u64,
            });
        }
        if found > announced {
            return Err(LayerError::Corrupt(format!(
                "{} bytes after the announced end of the payload",
                found - announced
            )));
        }
        if fnv1a(payload) != u64::from_le_bytes(field(20)) {
            return Err(LayerError::Corrupt("payload checksum mismatch".into()));
        }
        let (net, used): (Network, usize) = bincode::serde::decode_from_slice(payload, config())
            .map_err(|e| LayerError::Corrupt(format!("payload does not decode: {e}")))?;
        if used != payload.len() {
            return Err(LayerError::Corrupt("payload has trailing bytes".into()));
        }
        net.check_consistent()
            .map_err(|e| LayerError::Corrupt(format!("decoded network is inconsistent: {e}")))?;
        Ok(net)
    }

    /// Writes the network to `path`: first to a temporary file next to it, then renamed over
    /// `path`, so a crash never leaves a half-written file under the final name.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), LayerError> {
        let path = path.as_ref();
        let bytes = self.to_bytes()?;
        let io = |source| LayerError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(format!(".tmp{}", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let written = std::fs::File::create(&tmp).and_then(|mut f| {
            f.write_all(&bytes)?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(e));
        }
        Ok(())
    }

    /// Reads a network written by [`Network::save`]. Files larger than header + [`MAX_PAYLOAD`]
    /// are refused before they are read.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, LayerError> {
        let path = path.as_ref();
        let io = |source| LayerError::Io {
            path: path.display().to_string(),
            source,
        };
        let len = std::fs::metadata(path).map_err(io)?.len();
        let limit = (HEADER_LEN + MAX_PAYLOAD) as u64;
        if len > limit {
            return Err(LayerError::TooLarge { found: len, limit });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        Self::from_bytes(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::fnv1a;

    #[test]
    fn fnv1a_known_values() {
        // Reference values of the FNV-1a 64-bit specification.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}

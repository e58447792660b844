//! Saving and loading a [`Network`] or a [`ConvNet`]: a small header, then the bincode 2 payload.
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
//! Version 1 payloads are a [`Network`]; version 2 payloads (written since convolutional
//! networks exist) are an enum: a [`Network`] (variant 0) or a [`ConvNet`] (variant 1). Files of
//! both versions load; loading one kind as the other is [`LayerError::OtherNetwork`].
//!
//! Loading never panics and never trusts a length before checking it: every failure is a
//! [`LayerError`] variant (foreign file, newer version, truncated, too large, corrupt).

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{ConvNet, LayerError, Network};

/// The tag every saved network starts with.
pub const MAGIC: [u8; 8] = *b"RKSDFNET";
/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 2;
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

/// What a version 2 payload holds (borrowed for encoding).
#[derive(Serialize)]
enum SavedRef<'a> {
    Mlp(&'a Network),
    Conv(&'a ConvNet),
}

/// What a version 2 payload holds (owned, for decoding; same variant order as [`SavedRef`]).
#[derive(Deserialize)]
enum Saved {
    Mlp(Box<Network>),
    Conv(Box<ConvNet>),
}

impl Saved {
    fn kind(&self) -> &'static str {
        match self {
            Saved::Mlp(_) => "a network without convolutions (rks_layers::Network)",
            Saved::Conv(_) => "a convolutional network (rks_layers::ConvNet)",
        }
    }
}

/// Header + payload of the current version.
fn envelope(saved: SavedRef<'_>) -> Result<Vec<u8>, LayerError> {
    let payload = bincode::serde::encode_to_vec(&saved, config())
        .map_err(|e| LayerError::Encode(e.to_string()))?;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&fnv1a(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Decodes a payload of type `T` that must use every byte.
fn decode<T: serde::de::DeserializeOwned>(payload: &[u8]) -> Result<T, LayerError> {
    let (value, used): (T, usize) = bincode::serde::decode_from_slice(payload, config())
        .map_err(|e| LayerError::Corrupt(format!("payload does not decode: {e}")))?;
    if used != payload.len() {
        return Err(LayerError::Corrupt("payload has trailing bytes".into()));
    }
    Ok(value)
}

/// Checks the header and returns the format version and the payload (see the module docs).
fn open_envelope(bytes: &[u8]) -> Result<(u32, &[u8]), LayerError> {
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
    Ok((version, payload))
}

/// The saved network of either version, decoded.
fn open(bytes: &[u8]) -> Result<Saved, LayerError> {
    let (version, payload) = open_envelope(bytes)?;
    if version == 1 {
        decode(payload).map(|n| Saved::Mlp(Box::new(n)))
    } else {
        decode(payload)
    }
}

/// Writes `bytes` to `path`: first to a temporary file next to it, then renamed over `path`, so a
/// crash never leaves a half-written file under the final name.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), LayerError> {
    let io = |source| LayerError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(())
}

/// Reads a file no larger than header + [`MAX_PAYLOAD`] (checked before reading).
fn read_limited(path: &Path) -> Result<Vec<u8>, LayerError> {
    let io = |source| LayerError::Io {
        path: path.display().to_string(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    let limit = (HEADER_LEN + MAX_PAYLOAD) as u64;
    if len > limit {
        return Err(LayerError::TooLarge { found: len, limit });
    }
    std::fs::read(path).map_err(io)
}

impl Network {
    /// Encodes the network as header + payload (see the module documentation).
    pub fn to_bytes(&self) -> Result<Vec<u8>, LayerError> {
        envelope(SavedRef::Mlp(self))
    }

    /// Decodes bytes written by [`Network::to_bytes`], checking everything on the way.
    ///
    /// ```
    /// use rks_layers::{LayerError, Network};
    /// assert!(matches!(Network::from_bytes(b"hello"), Err(LayerError::ForeignFile)));
    /// assert!(matches!(Network::from_bytes(b"RKSD"), Err(LayerError::Truncated { .. })));
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LayerError> {
        let net = match open(bytes)? {
            Saved::Mlp(net) => *net,
            other => {
                return Err(LayerError::OtherNetwork {
                    expected: "a network without convolutions (rks_layers::Network)",
                    found: other.kind(),
                });
            }
        };
        net.check_consistent()
            .map_err(|e| LayerError::Corrupt(format!("decoded network is inconsistent: {e}")))?;
        Ok(net)
    }

    /// Writes the network to `path`: first to a temporary file next to it, then renamed over
    /// `path`, so a crash never leaves a half-written file under the final name.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), LayerError> {
        write_atomically(path.as_ref(), &self.to_bytes()?)
    }

    /// Reads a network written by [`Network::save`] (this or the previous format version).
    /// Files larger than header + [`MAX_PAYLOAD`] are refused before they are read.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, LayerError> {
        Self::from_bytes(&read_limited(path.as_ref())?)
    }
}

impl ConvNet {
    /// Encodes the network as header + payload (see the module documentation).
    pub fn to_bytes(&self) -> Result<Vec<u8>, LayerError> {
        envelope(SavedRef::Conv(self))
    }

    /// Decodes bytes written by [`ConvNet::to_bytes`], checking everything on the way.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LayerError> {
        let net = match open(bytes)? {
            Saved::Conv(net) => *net,
            other => {
                return Err(LayerError::OtherNetwork {
                    expected: "a convolutional network (rks_layers::ConvNet)",
                    found: other.kind(),
                });
            }
        };
        net.check_consistent()?;
        Ok(net)
    }

    /// Writes the network to `path` (through a temporary file, as [`Network::save`]).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), LayerError> {
        write_atomically(path.as_ref(), &self.to_bytes()?)
    }

    /// Reads a network written by [`ConvNet::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, LayerError> {
        Self::from_bytes(&read_limited(path.as_ref())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConvNetParams, Head, NetworkParams, Trainable};
    use ndarray::Array2;

    #[test]
    fn version_1_files_still_load() {
        let x = Array2::from_shape_fn((10, 3), |(i, j)| (i * j) as f64);
        let net = NetworkParams::new()
            .fastfood(8, Trainable::ALL)
            .dense(4)
            .seed(2)
            .build(x.view(), 3)
            .unwrap();
        // A version 1 file: the same header, the network itself as the payload.
        let payload = bincode::serde::encode_to_vec(&net, config()).unwrap();
        let mut v1 = MAGIC.to_vec();
        v1.extend_from_slice(&1u32.to_le_bytes());
        v1.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        v1.extend_from_slice(&fnv1a(&payload).to_le_bytes());
        v1.extend_from_slice(&payload);
        assert_eq!(Network::from_bytes(&v1).unwrap(), net);
        assert_eq!(Network::from_bytes(&net.to_bytes().unwrap()).unwrap(), net);
        assert!(matches!(
            ConvNet::from_bytes(&v1),
            Err(LayerError::OtherNetwork { .. })
        ));
    }

    #[test]
    fn convolutional_networks_round_trip() {
        for head in [
            Head::Dense { width: 7 },
            Head::Fastfood {
                width: 20,
                adaptive: true,
            },
        ] {
            let net = ConvNetParams::lenet(head)
                .input_shape([1, 12, 12])
                .convolutions([(3, 3), (4, 2)])
                .dropout(0.25)
                .seed(5)
                .build(3)
                .unwrap();
            let bytes = net.to_bytes().unwrap();
            assert_eq!(ConvNet::from_bytes(&bytes).unwrap(), net);
            assert!(matches!(
                Network::from_bytes(&bytes),
                Err(LayerError::OtherNetwork { .. })
            ));
            for len in [0, 10, 28, bytes.len() - 1] {
                assert!(ConvNet::from_bytes(&bytes[..len]).is_err());
            }
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("conv.rksnet");
            net.save(&path).unwrap();
            assert_eq!(ConvNet::load(&path).unwrap(), net);
        }
    }

    #[test]
    fn fnv1a_known_values() {
        // Reference values of the FNV-1a 64-bit specification.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}

//! Saving and loading a [`Network`]: the project's [envelope](rks::envelope) with the tag
//! `RKSDFNET` around the network encoded with serde + bincode 2.
//!
//! Loading never panics and never trusts a length before checking it: every failure is a
//! [`FileError`] inside [`LayerError::File`] (foreign file, newer version, truncated, too large,
//! corrupt), the same as for every file of the project.

use std::path::Path;

use rks::envelope::{FileError, FileKind};

use crate::{LayerError, Network};

/// The tag every saved network starts with.
pub const MAGIC: [u8; 8] = *b"RKSDFNET";
/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// Largest payload accepted, in bytes (1 GiB): ~134 M parameters stored as f64, e.g. eight
/// dense 4,096 × 4,096 layers, far beyond the networks this crate is meant for.
pub const MAX_PAYLOAD: u64 = 1 << 30;

/// Network files in the project's envelope.
pub const NETWORK_FILE: FileKind = FileKind {
    tag: MAGIC,
    what: "network",
    version: FORMAT_VERSION,
    oldest: 1,
    framed_since: 1,
    max_payload: MAX_PAYLOAD,
};

impl Network {
    /// Encodes the network as the bytes of a network file (see the module documentation).
    pub fn to_bytes(&self) -> Result<Vec<u8>, LayerError> {
        Ok(NETWORK_FILE.encode(self)?)
    }

    /// Decodes bytes written by [`Network::to_bytes`], checking everything on the way.
    ///
    /// ```
    /// use rks::envelope::FileError;
    /// use rks_layers::{LayerError, Network};
    /// assert!(matches!(
    ///     Network::from_bytes(b"hello"),
    ///     Err(LayerError::File(FileError::ForeignFile { .. }))
    /// ));
    /// assert!(matches!(
    ///     Network::from_bytes(b"RKSD"),
    ///     Err(LayerError::File(FileError::Truncated { .. }))
    /// ));
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LayerError> {
        let (_version, payload) = NETWORK_FILE.open(bytes)?;
        let net: Network = NETWORK_FILE.decode(payload)?;
        net.check_consistent().map_err(|e| FileError::Corrupt {
            what: NETWORK_FILE.what,
            reason: format!("the decoded network is inconsistent: {e}"),
        })?;
        Ok(net)
    }

    /// Writes the network to `path` atomically: a temporary file beside the target, synced,
    /// then renamed onto it, so a crash never leaves a half-written file under the final name.
    /// A symbolic link is followed; a target that is not a regular file is refused.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), LayerError> {
        Ok(NETWORK_FILE.write(path.as_ref(), &self.to_bytes()?)?)
    }

    /// Reads a network written by [`Network::save`]. Files larger than the header and
    /// [`MAX_PAYLOAD`] are refused before they are read.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, LayerError> {
        Self::from_bytes(&NETWORK_FILE.read(path.as_ref())?)
    }
}

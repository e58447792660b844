//! Saving and loading a [`Network`] or a [`ConvNet`]: the project's [envelope](rks::envelope)
//! with the tag `RKSDFNET` around the network encoded with serde + bincode 2.
//!
//! Version 1 payloads are a [`Network`]; version 2 and 3 payloads (written since convolutional
//! networks exist) are an enum: a [`Network`] (variant 0) or a [`ConvNet`] (variant 1). Version 3
//! (this build) stores the convolutional network's head in f32, as it trains; version 2 stored
//! that head (its hidden layer and the softmax layer) in f64 and loads with those values rounded
//! to nearest f32 (the convolutions were f32 already; [`Network`] payloads are the same in all
//! three versions). Files of every version load; loading one kind as the other is
//! [`LayerError::OtherNetwork`].
//!
//! Loading never panics and never trusts a length before checking it: every failure is a
//! [`FileError`] inside [`LayerError::File`] (foreign file, newer version, truncated, too large,
//! corrupt), the same as for every file of the project.

use std::path::Path;

use rks::envelope::{FileError, FileKind};
use serde::{Deserialize, Serialize};

use crate::conv::Conv2d;
use crate::{ConvNet, Dense, Dropout, Hidden, LayerError, MaxPool2, Network};

/// The tag every saved network starts with.
pub const MAGIC: [u8; 8] = *b"RKSDFNET";
/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 3;

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

/// What a version 3 payload holds (borrowed for encoding).
#[derive(Serialize)]
enum SavedRef<'a> {
    Mlp(&'a Network),
    Conv(&'a ConvNet),
}

/// What a version 3 payload holds (owned, for decoding; same variant order as [`SavedRef`]).
#[derive(Deserialize)]
enum Saved {
    Mlp(Box<Network>),
    Conv(Box<ConvNet>),
}

/// What a version 2 payload holds: the same, with the convolutional network's head in f64.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
enum SavedV2 {
    Mlp(Box<Network>),
    Conv(Box<ConvNetV2>),
}

/// A [`ConvNet`] as version 2 stored it: the fields in the same order, the head in f64.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct ConvNetV2 {
    conv1: Conv2d<f32>,
    pool1: MaxPool2,
    conv2: Conv2d<f32>,
    pool2: MaxPool2,
    hidden: Hidden<f64>,
    dropout: Dropout,
    output: Dense<f64>,
}

impl ConvNetV2 {
    /// The network of this build: the head rounded to nearest f32 (checked by the caller).
    fn into_f32(self) -> ConvNet {
        ConvNet {
            conv1: self.conv1,
            pool1: self.pool1,
            conv2: self.conv2,
            pool2: self.pool2,
            hidden: self.hidden.convert(),
            dropout: self.dropout,
            output: self.output.convert(),
        }
    }
}

impl Saved {
    fn kind(&self) -> &'static str {
        match self {
            Saved::Mlp(_) => "a network without convolutions (rks_layers::Network)",
            Saved::Conv(_) => "a convolutional network (rks_layers::ConvNet)",
        }
    }
}

/// The saved network of any version, decoded (a version 2 convolutional network converted).
fn open(bytes: &[u8]) -> Result<Saved, LayerError> {
    let (version, payload) = NETWORK_FILE.open(bytes)?;
    Ok(match version {
        1 => Saved::Mlp(Box::new(NETWORK_FILE.decode(payload)?)),
        2 => match NETWORK_FILE.decode(payload)? {
            SavedV2::Mlp(net) => Saved::Mlp(net),
            SavedV2::Conv(net) => Saved::Conv(Box::new(net.into_f32())),
        },
        _ => NETWORK_FILE.decode(payload)?,
    })
}

impl Network {
    /// Encodes the network as the bytes of a network file (see the module documentation).
    pub fn to_bytes(&self) -> Result<Vec<u8>, LayerError> {
        Ok(NETWORK_FILE.encode(&SavedRef::Mlp(self))?)
    }

    /// Decodes bytes written by [`Network::to_bytes`] (this or the previous format version),
    /// checking everything on the way.
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
        let net = match open(bytes)? {
            Saved::Mlp(net) => *net,
            other => {
                return Err(LayerError::OtherNetwork {
                    expected: "a network without convolutions (rks_layers::Network)",
                    found: other.kind(),
                });
            }
        };
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

impl ConvNet {
    /// Encodes the network as the bytes of a network file (see the module documentation).
    pub fn to_bytes(&self) -> Result<Vec<u8>, LayerError> {
        Ok(NETWORK_FILE.encode(&SavedRef::Conv(self))?)
    }

    /// Decodes bytes written by [`ConvNet::to_bytes`] (this build's f32 head, or the f64 head of
    /// format version 2, rounded to nearest), checking everything on the way.
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

    /// Writes the network to `path` (atomically, as [`Network::save`]).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), LayerError> {
        Ok(NETWORK_FILE.write(path.as_ref(), &self.to_bytes()?)?)
    }

    /// Reads a network written by [`ConvNet::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, LayerError> {
        Self::from_bytes(&NETWORK_FILE.read(path.as_ref())?)
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
        let v1_kind = FileKind {
            version: 1,
            ..NETWORK_FILE
        };
        let v1 = v1_kind.encode(&net).unwrap();
        assert_eq!(Network::from_bytes(&v1).unwrap(), net);
        assert_eq!(Network::from_bytes(&net.to_bytes().unwrap()).unwrap(), net);
        assert!(matches!(
            ConvNet::from_bytes(&v1),
            Err(LayerError::OtherNetwork { .. })
        ));
    }

    /// The network `net` as format version 2 wrote it: the head widened to f64 (exactly).
    fn version_2_bytes(net: &ConvNet, hidden: Hidden<f64>, output: Dense<f64>) -> Vec<u8> {
        let v2 = SavedV2::Conv(Box::new(ConvNetV2 {
            conv1: net.conv1.clone(),
            pool1: net.pool1,
            conv2: net.conv2.clone(),
            pool2: net.pool2,
            hidden,
            dropout: net.dropout,
            output,
        }));
        FileKind {
            version: 2,
            ..NETWORK_FILE
        }
        .encode(&v2)
        .unwrap()
    }

    /// The parameters of three small convolutional networks, one per kind of head.
    fn small_convnets() -> [ConvNetParams; 3] {
        [
            Head::Dense { width: 7 },
            Head::Fastfood {
                width: 20,
                adaptive: true,
            },
            Head::Fastfood {
                width: 20,
                adaptive: false,
            },
        ]
        .map(|head| {
            ConvNetParams::lenet(head)
                .input_shape([1, 12, 12])
                .convolutions([(3, 3), (4, 2)])
                .dropout(0.25)
                .seed(5)
        })
    }

    #[test]
    fn version_2_convnet_files_still_load() {
        for params in small_convnets() {
            let net = params.build(3).unwrap();
            // An f32 head widened to f64 and back: the same network, bit for bit.
            let v2 = version_2_bytes(&net, net.hidden.convert(), net.output.convert());
            assert_eq!(&v2[8..12], &2u32.to_le_bytes());
            assert_eq!(ConvNet::from_bytes(&v2).unwrap(), net);
            // A head of f64 values (the f64 network of the seed) rounds to nearest: the f32
            // network of the seed, which holds the f64 draws rounded.
            let n64 = params.build_as::<f64>(3).unwrap();
            let v2 = version_2_bytes(&net, n64.hidden.clone(), n64.output.clone());
            let loaded = ConvNet::from_bytes(&v2).unwrap();
            assert_eq!(loaded, net);
            assert_ne!(
                loaded.output.weights().mapv(f64::from),
                n64.output.weights()
            );
            // A value beyond f32's range becomes infinite: a corrupt file, not a panic.
            let mut out = n64.output.clone();
            out.visit_params(&mut |p, _| p[0] = 1e300);
            let v2 = version_2_bytes(&net, n64.hidden.clone(), out);
            assert!(matches!(
                ConvNet::from_bytes(&v2),
                Err(LayerError::File(FileError::Corrupt { .. }))
            ));
            // This build writes version 3, with the f32 head.
            let v3 = net.to_bytes().unwrap();
            assert_eq!(&v3[8..12], &3u32.to_le_bytes());
            assert!(v3.len() < version_2_bytes(&net, n64.hidden, n64.output).len());
        }
    }

    #[test]
    fn convolutional_networks_round_trip() {
        for params in small_convnets() {
            let net = params.build(3).unwrap();
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
}

//! Saving and loading a fitted [`KernelMachine`], safely also from untrusted bytes.
//!
//! File layout: the 8-byte magic tag `RKSMODEL`, the format version as a little-endian u32, then
//! the payload: the model encoded with serde + bincode 2 (standard configuration). The feature map
//! is stored as its spec and a checksum (a few dozen bytes) and rebuilt from its seed on load.
//!
//! Loading never panics and never allocates much more than the bytes justify:
//! - a wrong tag is [`SolversError::NotAModel`], another version [`SolversError::UnsupportedVersion`];
//! - the payload is decoded with a bincode size limit of at most twice its length, so a corrupted
//!   length prefix cannot make the decoder reserve gigabytes;
//! - the map is decoded last, from its own bytes, and only after its input and output dimensions
//!   have been checked against the scaler and the weights stored explicitly before it, so its
//!   rebuilt parameters are no larger than those arrays imply;
//! - finally every part is checked against the others (shapes, finiteness, labels).
//!
//! Saving writes a temporary file in the target's directory, syncs it and renames it over the
//! target, so an interrupted save leaves the previous model intact.

use std::fs;
use std::io::Write;
use std::path::Path;

use bincode::config::{self, Config};
use ndarray::{Array1, Array2};
use rks::scaler::Scaler;
use rks::{AnyMap, MapKind};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SolversError};
use crate::labels::LabelMap;
use crate::machine::{FitInfo, KernelMachine, Task};

/// The first 8 bytes of every model file.
pub const MAGIC: [u8; 8] = *b"RKSMODEL";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = MAGIC.len() + 4;

/// The payload; fields are decoded in this order, the map's bytes last.
#[derive(Serialize, Deserialize)]
struct Stored {
    task: Task,
    chunk_rows: u64,
    scaler: Scaler,
    labels: Option<LabelMap>,
    weights: Array2<f64>,
    intercept: Array1<f64>,
    info: FitInfo,
    map: Vec<u8>,
}

/// The leading fields of the map's serialised form (rks's saved spec starts with them), read
/// before the map is rebuilt.
#[derive(Deserialize)]
struct MapHeader {
    kind: MapKind,
    input_dim: u64,
    n_frequencies: u64,
    _bandwidth: rks::Bandwidth,
    kernel: rks::Kernel,
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    bincode::serde::encode_to_vec(value, config::standard())
        .map_err(|e| SolversError::CorruptModel(format!("cannot encode the model: {e}")))
}

/// A decoding failure in words a user can act on (bincode's own text is a debug dump).
fn describe(error: &bincode::error::DecodeError) -> String {
    use bincode::error::DecodeError;
    match error {
        DecodeError::UnexpectedEnd { additional } => {
            format!("the file is truncated ({additional} more bytes were expected)")
        }
        DecodeError::LimitExceeded => {
            "a stored length is larger than the file could hold".to_string()
        }
        other => format!("the payload does not decode ({other})"),
    }
}

/// Decodes with a size limit of the next power of two ≥ `bytes.len()` (bincode's limit is a
/// const generic, so a few fixed limits cover every length).
fn decode_limited<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, usize)> {
    fn run<T: DeserializeOwned, C: Config>(bytes: &[u8], c: C) -> Result<(T, usize)> {
        bincode::serde::decode_from_slice(bytes, c)
            .map_err(|e| SolversError::CorruptModel(describe(&e)))
    }
    let c = config::standard();
    macro_rules! by_limit {
        ($($bits:literal),*) => {
            $(if bytes.len() <= 1usize << $bits { return run(bytes, c.with_limit::<{ 1usize << $bits }>()); })*
        };
    }
    by_limit!(12, 16, 20, 22, 24, 26, 28, 30, 32, 34, 36, 40);
    Err(SolversError::CorruptModel(format!(
        "a model payload of {} bytes is too large",
        bytes.len()
    )))
}

impl KernelMachine {
    /// The model as bytes: magic tag, format version (u32 LE), bincode payload.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let stored = Stored {
            task: self.task,
            chunk_rows: self.chunk_rows as u64,
            scaler: self.scaler.clone(),
            labels: self.labels.clone(),
            weights: self.weights.clone(),
            intercept: self.intercept.clone(),
            info: self.info.clone(),
            map: encode(&self.map)?,
        };
        let payload = encode(&stored)?;
        let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
        bytes.extend_from_slice(&MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&payload);
        Ok(bytes)
    }

    /// Reads a model written by [`to_bytes`](Self::to_bytes), checking everything (see the
    /// [module documentation](self)); any defect is a typed error.
    ///
    /// ```
    /// use rks_solvers::{KernelMachine, SolversError};
    /// assert!(matches!(KernelMachine::from_bytes(b"not a model"), Err(SolversError::NotAModel)));
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
            return Err(SolversError::NotAModel);
        }
        let version = bytes
            .get(MAGIC.len()..HEADER_LEN)
            .and_then(|v| <[u8; 4]>::try_from(v).ok())
            .map(u32::from_le_bytes)
            .ok_or_else(|| SolversError::CorruptModel("truncated header".into()))?;
        if version != FORMAT_VERSION {
            return Err(SolversError::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let payload = &bytes[HEADER_LEN..];
        let (stored, used): (Stored, usize) = decode_limited(payload)?;
        if used != payload.len() {
            return Err(SolversError::CorruptModel(format!(
                "{} unexpected bytes after the model",
                payload.len() - used
            )));
        }
        let (header, _): (MapHeader, usize) = decode_limited(&stored.map)?;
        let expected_outputs = stored.weights.nrows() as u64;
        if header.input_dim != stored.scaler.dim() as u64
            || usize::try_from(header.n_frequencies)
                .map(|n| header.kind.output_dim(header.kernel, n) as u64)
                != Ok(expected_outputs)
        {
            return Err(SolversError::CorruptModel(format!(
                "the {:?} map ({} inputs, {} frequencies) does not match the scaler ({} columns) and \
                 the weights ({} rows)",
                header.kind,
                header.input_dim,
                header.n_frequencies,
                stored.scaler.dim(),
                expected_outputs
            )));
        }
        let (map, _): (AnyMap, usize) = decode_limited(&stored.map)?;
        let model = KernelMachine {
            task: stored.task,
            scaler: stored.scaler,
            map,
            weights: stored.weights,
            intercept: stored.intercept,
            labels: stored.labels,
            chunk_rows: usize::try_from(stored.chunk_rows).unwrap_or(0),
            info: stored.info,
        };
        model.validate()?;
        Ok(model)
    }

    /// Writes the model to `path` atomically: a temporary file in the same directory, synced,
    /// then renamed over `path`.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let io = |source| SolversError::Io {
            path: path.to_path_buf(),
            source,
        };
        let bytes = self.to_bytes()?;
        let name = path.file_name().ok_or_else(|| {
            io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a file path",
            ))
        })?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{}", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let written = (|| {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            fs::rename(&tmp, path)
        })();
        if let Err(e) = written {
            // Best effort: the temporary file is ours and useless now.
            let _ = fs::remove_file(&tmp);
            return Err(io(e));
        }
        Ok(())
    }

    /// Reads a model saved by [`save`](Self::save).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = fs::read(path).map_err(|source| SolversError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::KernelMachine;
    use ndarray::Array2;

    fn model() -> KernelMachine {
        let x = Array2::from_shape_fn((30, 2), |(i, j)| ((i * 7 + j * 3) % 10) as f64);
        let y = x.column(0).mapv(|v| f64::from(v > 4.0));
        KernelMachine::params()
            .n_frequencies(4)
            .check()
            .unwrap()
            .fit(x.view(), y.view())
            .unwrap()
    }

    #[test]
    fn parts_that_disagree_are_rejected_after_decoding() {
        let good = model();
        assert_eq!(
            KernelMachine::from_bytes(&good.to_bytes().unwrap()).unwrap(),
            good
        );
        let mut wrong_weights = good.clone();
        wrong_weights.weights = Array2::zeros((6, 1));
        let mut wrong_outputs = good.clone();
        wrong_outputs.weights = Array2::zeros((8, 3));
        let mut wrong_scaler = good.clone();
        wrong_scaler.scaler = rks::scaler::Scaler::identity(3);
        let mut no_labels = good.clone();
        no_labels.labels = None;
        let mut nan = good.clone();
        nan.intercept[0] = f64::NAN;
        for bad in [wrong_weights, wrong_outputs, wrong_scaler, no_labels, nan] {
            let err = KernelMachine::from_bytes(&bad.to_bytes().unwrap());
            assert!(matches!(err, Err(SolversError::CorruptModel(_))), "{err:?}");
        }
    }
}

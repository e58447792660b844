//! Saving and loading a fitted [`KernelMachine`], safely also from untrusted bytes.
//!
//! A model file is the project's [envelope](rks::envelope) with the tag `RKSMODEL` around the
//! model encoded with serde + bincode 2. The feature map is stored as its
//! [`SavedAny`](rks::SavedAny) (its spec and a checksum, a few dozen bytes, and Nyström's landmarks) and rebuilt from its seed on load.
//!
//! Versions: 2 (written) is the envelope with length and checksum and the map header inline;
//! version 1 files (tag, version, payload; the map header encoded as a byte string inside) still
//! load.
//!
//! Loading never panics and never allocates much more than the bytes justify:
//! - the envelope checks the tag, the version, the length and the checksum, and decodes with a
//!   size limit proportional to the payload, so a corrupted length prefix cannot make the decoder
//!   reserve gigabytes;
//! - the map is rebuilt last, and only after its input and output dimensions have been checked
//!   against the scaler and the weights stored explicitly, so its parameters are no larger than
//!   those arrays imply;
//! - finally every part is checked against the others (shapes, finiteness, labels).
//!
//! Saving is atomic, follows symbolic links and never replaces anything but a regular file
//! ([`rks::envelope::write_atomic`]).

use std::path::Path;

use ndarray::{Array1, Array2};
use rks::envelope::{FileError, FileKind};
use rks::scaler::Scaler;
use rks::{AnyMap, SavedAny};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SolversError};
use crate::labels::LabelMap;
use crate::machine::{FitInfo, KernelMachine, Task};

/// The first 8 bytes of every model file.
pub const MAGIC: [u8; 8] = *b"RKSMODEL";
/// The format version this build writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 2;

/// Model files in the project's envelope. Payloads up to 64 GiB (a dense map's weights at the
/// largest frequency count, for a few classes).
pub const MODEL_FILE: FileKind = FileKind {
    tag: MAGIC,
    what: "model",
    version: FORMAT_VERSION,
    oldest: 1,
    framed_since: 2,
    max_payload: 1 << 36,
};

/// The payload; `M` is the map's stored form: [`SavedAny`] (version 2), or its bincode bytes
/// (version 1).
#[derive(Serialize, Deserialize)]
struct Stored<M> {
    task: Task,
    chunk_rows: u64,
    scaler: Scaler,
    labels: Option<LabelMap>,
    weights: Array2<f64>,
    intercept: Array1<f64>,
    info: FitInfo,
    map: M,
}

impl<M> Stored<M> {
    fn with_map<N>(self, map: N) -> Stored<N> {
        Stored {
            task: self.task,
            chunk_rows: self.chunk_rows,
            scaler: self.scaler,
            labels: self.labels,
            weights: self.weights,
            intercept: self.intercept,
            info: self.info,
            map,
        }
    }
}

fn corrupt(reason: String) -> SolversError {
    FileError::Corrupt {
        what: MODEL_FILE.what,
        reason,
    }
    .into()
}

impl KernelMachine {
    /// The model as the bytes of a model file (see the [module documentation](self)).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let stored = Stored {
            task: self.task,
            chunk_rows: self.chunk_rows as u64,
            scaler: self.scaler.clone(),
            labels: self.labels.clone(),
            weights: self.weights.clone(),
            intercept: self.intercept.clone(),
            info: self.info.clone(),
            map: self.map.saved(),
        };
        Ok(MODEL_FILE.encode(&stored)?)
    }

    /// Reads a model written by [`to_bytes`](Self::to_bytes) (this version or an older one),
    /// checking everything (see the [module documentation](self)); any defect is a typed error.
    ///
    /// ```
    /// use rks::envelope::FileError;
    /// use rks_solvers::{KernelMachine, SolversError};
    /// assert!(matches!(
    ///     KernelMachine::from_bytes(b"not a model"),
    ///     Err(SolversError::File(FileError::ForeignFile { .. }))
    /// ));
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (version, payload) = MODEL_FILE.open(bytes)?;
        let stored: Stored<SavedAny> = if version == 1 {
            let old: Stored<Vec<u8>> = MODEL_FILE.decode(payload)?;
            let map = MODEL_FILE.decode(&old.map)?;
            old.with_map(map)
        } else {
            MODEL_FILE.decode(payload)?
        };
        let saved = stored.map;
        let header = &saved.map;
        let expected_outputs = stored.weights.nrows() as u64;
        if header.input_dim != stored.scaler.dim() as u64
            || usize::try_from(header.n_frequencies)
                .map(|n| header.kind.output_dim(header.kernel, n) as u64)
                != Ok(expected_outputs)
        {
            return Err(corrupt(format!(
                "the {:?} map ({} inputs, {} frequencies) does not match the scaler ({} columns) \
                 and the weights ({} rows)",
                header.kind,
                header.input_dim,
                header.n_frequencies,
                stored.scaler.dim(),
                expected_outputs
            )));
        }
        let map = AnyMap::from_saved(&saved)?;
        let model = KernelMachine {
            task: stored.task,
            scaler: stored.scaler,
            map,
            weights: stored.weights,
            intercept: stored.intercept,
            labels: stored.labels,
            chunk_rows: usize::try_from(stored.chunk_rows).unwrap_or(0),
            info: stored.info,
            whitened: Default::default(),
        };
        model.validate().map_err(|e| match e {
            SolversError::CorruptModel(reason) => corrupt(reason),
            other => other,
        })?;
        Ok(model)
    }

    /// Writes the model to `path` atomically: a temporary file beside the target, synced, then
    /// renamed onto it. A symbolic link is followed (the file it points to is replaced, the link
    /// stays); a target that is not a regular file (a device, a pipe) is refused with
    /// [`FileError::NotRegularFile`].
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        Ok(MODEL_FILE.write(path.as_ref(), &self.to_bytes()?)?)
    }

    /// Reads a model saved by [`save`](Self::save).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_bytes(&MODEL_FILE.read(path.as_ref())?)
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
            assert!(
                matches!(err, Err(SolversError::File(FileError::Corrupt { .. }))),
                "{err:?}"
            );
        }
    }
}

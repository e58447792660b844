//! Saving and loading a fitted [`KernelMachine`], safely also from untrusted bytes.
//!
//! A model file is the project's [envelope](rks::envelope) with the tag `RKSMODEL` around the
//! model encoded with serde + bincode 2. The feature map is stored as its
//! [`SavedAny`] (its spec and a checksum, a few dozen bytes, and Nyström's landmarks) and rebuilt from its seed on load.
//!
//! Versions: 6 (written for a classifier fitted with class weights) is version 4 followed by
//! the calibration if any (`None` otherwise) and each class's weight (checked against the
//! classes: one per class, each finite and > 0). 5 (written for a classifier with a probability
//! calibration and no class weights) is version 4
//! followed by the [`Calibration`] (checked against the classes); a model without one is
//! written as version 4, the same bytes as before version 5 existed. 4 is version 3 followed by the class names of a classifier fitted on
//! names (`None` otherwise; each name checked by [`LabelMap::with_names`]) and the categories
//! of the training file's columns (`None` when every column held numbers; checked by
//! [`KernelMachine::with_input_categories`]); 3 is version 2 followed by, for a Nyström model, K_mm^{+1/2}·W (m × k),
//! so that a loaded Nyström model predicts from its landmarks without the O(m³)
//! eigendecomposition (see [`Nystrom::kernel_values`](rks::Nystrom::kernel_values)); 2 is the
//! envelope with length and checksum and the map header inline; version 1 files (tag, version,
//! payload; the map header encoded as a byte string inside) still load. Versions 1 and 2 load
//! without the product and make it on the first prediction.
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

use crate::calibration::Calibration;
use crate::error::{Result, SolversError};
use crate::labels::LabelMap;
use crate::machine::{FitInfo, KernelMachine, Task};

/// The first 8 bytes of every model file.
pub const MAGIC: [u8; 8] = *b"RKSMODEL";
/// The format version this build writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 6;

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

/// Version 3's payload: version 2's, then a Nyström model's K_mm^{+1/2}·W (`None` otherwise).
#[derive(Serialize, Deserialize)]
struct StoredV3 {
    model: Stored<SavedAny>,
    whitened: Option<Array2<f64>>,
}

/// Version 4's payload: version 3's, then the class names (`None` without names) and the
/// categories of the training file's columns (`None` when every column held numbers).
#[derive(Serialize, Deserialize)]
struct StoredV4 {
    model: StoredV3,
    class_names: Option<Vec<String>>,
    categories: Option<Vec<Option<Vec<String>>>>,
}

/// Version 5's payload: version 4's, then the probability calibration.
#[derive(Serialize, Deserialize)]
struct StoredV5 {
    model: StoredV4,
    calibration: Calibration,
}

/// Version 6's payload: version 4's, then the probability calibration (`None` without) and
/// each class's weight in the fit.
#[derive(Serialize, Deserialize)]
struct StoredV6 {
    model: StoredV4,
    calibration: Option<Calibration>,
    class_weights: Vec<f64>,
}

/// The version a model with a probability calibration and no class weights is written as
/// (the same bytes as before version 6 existed).
pub const CALIBRATED_VERSION: u32 = 5;

/// The version a model without a probability calibration is written as (the same bytes as
/// before version 5 existed, so files of such models still open with older builds).
pub const UNCALIBRATED_VERSION: u32 = 4;

impl StoredV4 {
    /// An older payload as version 4's, without names or categories.
    fn of(model: Stored<SavedAny>, whitened: Option<Array2<f64>>) -> Self {
        StoredV4 {
            model: StoredV3 { model, whitened },
            class_names: None,
            categories: None,
        }
    }
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
        let whitened = self.whitened_weights()?.cloned();
        let v4 = StoredV4 {
            model: StoredV3 {
                model: stored,
                whitened,
            },
            class_names: self.class_names().map(<[String]>::to_vec),
            categories: self.categories.clone(),
        };
        let as_version = |version| FileKind {
            version,
            ..MODEL_FILE
        };
        Ok(match (&self.calibration, &self.class_weights) {
            (calibration, Some(class_weights)) => MODEL_FILE.encode(&StoredV6 {
                model: v4,
                calibration: calibration.clone(),
                class_weights: class_weights.clone(),
            })?,
            (Some(calibration), None) => as_version(CALIBRATED_VERSION).encode(&StoredV5 {
                model: v4,
                calibration: calibration.clone(),
            })?,
            (None, None) => as_version(UNCALIBRATED_VERSION).encode(&v4)?,
        })
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
        let (v4, calibration, class_weights) = match version {
            1 => {
                let old: Stored<Vec<u8>> = MODEL_FILE.decode(payload)?;
                let map = MODEL_FILE.decode(&old.map)?;
                (StoredV4::of(old.with_map(map), None), None, None)
            }
            2 => (StoredV4::of(MODEL_FILE.decode(payload)?, None), None, None),
            3 => {
                let v3: StoredV3 = MODEL_FILE.decode(payload)?;
                (StoredV4::of(v3.model, v3.whitened), None, None)
            }
            4 => (MODEL_FILE.decode(payload)?, None, None),
            5 => {
                let v5: StoredV5 = MODEL_FILE.decode(payload)?;
                (v5.model, Some(v5.calibration), None)
            }
            _ => {
                let v6: StoredV6 = MODEL_FILE.decode(payload)?;
                (v6.model, v6.calibration, Some(v6.class_weights))
            }
        };
        let StoredV4 {
            model:
                StoredV3 {
                    model: mut stored,
                    whitened,
                },
            class_names,
            categories,
        } = v4;
        if let Some(names) = class_names {
            let labels = stored.labels.take().ok_or_else(|| {
                corrupt("class names stored with a model that has no classes".into())
            })?;
            stored.labels = Some(
                labels
                    .with_names(names)
                    .map_err(|e| corrupt(e.to_string()))?,
            );
        }
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
            product: Default::default(),
            folded: Default::default(),
            categories: None,
            calibration,
            class_weights,
        };
        model.validate().map_err(|e| match e {
            SolversError::CorruptModel(reason) => corrupt(reason),
            other => other,
        })?;
        let model = match categories {
            Some(categories) => model
                .with_input_categories(categories)
                .map_err(|e| corrupt(e.to_string()))?,
            None => model,
        };
        if let Some(whitened) = whitened {
            let fits = matches!(model.map, AnyMap::Nystrom(_))
                && whitened.dim() == model.weights.dim()
                && whitened.iter().all(|v| v.is_finite());
            if !fits {
                return Err(corrupt(format!(
                    "a stored K_mm^(+1/2)·W of {} × {} for a {:?} map with {} × {} weights, or \
                     with a value that is not finite",
                    whitened.nrows(),
                    whitened.ncols(),
                    model.map.kind(),
                    model.weights.nrows(),
                    model.weights.ncols()
                )));
            }
            model.whitened.set(whitened);
        }
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
    use crate::calibration::Sigmoid;
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

    /// A version-4 file of `v4`.
    fn encode_v4(v4: &StoredV4) -> Vec<u8> {
        FileKind {
            version: UNCALIBRATED_VERSION,
            ..MODEL_FILE
        }
        .encode(v4)
        .unwrap()
    }

    #[test]
    fn a_calibration_that_does_not_fit_the_model_is_refused() {
        let good = model(); // two classes: one sigmoid
        let scores = ndarray::array![[-1.0, 1.0], [1.0, -1.0], [0.5, -0.5], [-0.2, 0.2]];
        let calibration = Calibration::fit(scores.view(), &[1, 0, 0, 1], 2).unwrap();
        let with = |calibration: Calibration| {
            FileKind {
                version: CALIBRATED_VERSION,
                ..MODEL_FILE
            }
            .encode(&StoredV5 {
                model: decoded(&good),
                calibration,
            })
            .unwrap()
        };
        let loaded = KernelMachine::from_bytes(&with(calibration.clone())).unwrap();
        assert_eq!(loaded.calibration(), Some(&calibration));
        assert_eq!(
            KernelMachine::from_bytes(&loaded.to_bytes().unwrap()).unwrap(),
            loaded
        );
        let three = ndarray::array![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        let wrong_classes = Calibration::fit(three.view(), &[0, 1, 2], 2).unwrap();
        let a = calibration.sigmoids()[0];
        for bad in [
            wrong_classes,
            Calibration::from_parts(vec![Sigmoid { a: f64::NAN, ..a }], 2, 0.5, 0.9),
            Calibration::from_parts(vec![a], 1, 0.5, 0.9),
            Calibration::from_parts(vec![a], 5, -1.0, 0.9),
            Calibration::from_parts(vec![a], 5, 0.5, 1.5),
        ] {
            let err = KernelMachine::from_bytes(&with(bad));
            assert!(
                matches!(err, Err(SolversError::File(FileError::Corrupt { .. }))),
                "{err:?}"
            );
        }
    }

    #[test]
    fn class_weights_that_do_not_fit_the_model_are_refused() {
        let good = model(); // two classes
        let with = |model: &KernelMachine, class_weights: Vec<f64>| {
            MODEL_FILE
                .encode(&StoredV6 {
                    model: decoded(model),
                    calibration: None,
                    class_weights,
                })
                .unwrap()
        };
        let loaded = KernelMachine::from_bytes(&with(&good, vec![0.5, 2.0])).unwrap();
        assert_eq!(loaded.class_weights(), Some(&[0.5, 2.0][..]));
        let bytes = loaded.to_bytes().unwrap();
        assert_eq!(MODEL_FILE.open(&bytes).unwrap().0, FORMAT_VERSION);
        assert_eq!(KernelMachine::from_bytes(&bytes).unwrap(), loaded);
        let mut regressor = good.clone();
        regressor.task = Task::Regression;
        regressor.labels = None;
        for bytes in [
            with(&good, vec![1.0]),
            with(&good, vec![1.0, 2.0, 3.0]),
            with(&good, vec![1.0, f64::NAN]),
            with(&good, vec![0.0, 1.0]),
            with(&good, vec![-1.0, 1.0]),
            with(&good, vec![f64::INFINITY, 1.0]),
            with(&regressor, vec![1.0]),
        ] {
            let err = KernelMachine::from_bytes(&bytes);
            assert!(
                matches!(err, Err(SolversError::File(FileError::Corrupt { .. }))),
                "{err:?}"
            );
        }
    }

    /// The payload of `model`'s file.
    fn decoded(model: &KernelMachine) -> StoredV4 {
        let bytes = model.to_bytes().unwrap();
        MODEL_FILE
            .decode(MODEL_FILE.open(&bytes).unwrap().1)
            .unwrap()
    }

    #[test]
    fn class_names_that_do_not_fit_the_model_are_refused() {
        let good = model();
        let names = |n: &[&str]| Some(n.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let with = |model: &KernelMachine, class_names| {
            let mut v4 = decoded(model);
            v4.class_names = class_names;
            encode_v4(&v4)
        };
        let named = KernelMachine::from_bytes(&with(&good, names(&["no", "yes"]))).unwrap();
        assert_eq!(named.class_name(1.0), Some("yes"));
        let mut regressor = good.clone();
        regressor.task = Task::Regression;
        regressor.labels = None;
        for bytes in [
            with(&good, names(&["no"])),
            with(&good, names(&["no", "yes", "maybe"])),
            with(&good, names(&["yes", "yes"])),
            with(&good, names(&["", "yes"])),
            with(&regressor, names(&["no", "yes"])),
        ] {
            let err = KernelMachine::from_bytes(&bytes);
            assert!(
                matches!(err, Err(SolversError::File(FileError::Corrupt { .. }))),
                "{err:?}"
            );
        }
    }

    #[test]
    fn categories_that_do_not_make_the_inputs_are_refused() {
        let good = model(); // 2 inputs
        let with = |categories: Option<Vec<Option<Vec<String>>>>| {
            let mut v4 = decoded(&good);
            v4.categories = categories;
            encode_v4(&v4)
        };
        let cats = |c: &[&str]| Some(c.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let loaded = KernelMachine::from_bytes(&with(Some(vec![cats(&["a", "b"])]))).unwrap();
        assert_eq!(loaded.input_categories().unwrap(), [cats(&["a", "b"])]);
        assert_eq!(
            KernelMachine::from_bytes(&loaded.to_bytes().unwrap()).unwrap(),
            loaded
        );
        for bad in [
            vec![None],
            vec![None, None, None],
            vec![cats(&["a", "a"])],
            vec![cats(&[]), None, None],
            vec![cats(&["a", ""])],
        ] {
            let err = KernelMachine::from_bytes(&with(Some(bad)));
            assert!(
                matches!(err, Err(SolversError::File(FileError::Corrupt { .. }))),
                "{err:?}"
            );
        }
    }

    /// A Nyström model, and the parts of its version-3 payload.
    fn nystrom_parts() -> (KernelMachine, Stored<SavedAny>, Array2<f64>) {
        let x = Array2::from_shape_fn((40, 2), |(i, j)| ((i * 7 + j * 3) % 10) as f64);
        let y = x.column(0).mapv(|v| f64::from(v > 4.0));
        let model = KernelMachine::params()
            .map(rks::MapKind::Nystrom)
            .n_frequencies(12)
            .check()
            .unwrap()
            .fit(x.view(), y.view())
            .unwrap();
        let v3 = decoded(&model).model;
        let whitened = v3.whitened.clone().unwrap();
        (model, v3.model, whitened)
    }

    #[test]
    fn a_version_2_nystrom_file_makes_its_product_on_first_use() {
        let (model, stored, whitened) = nystrom_parts();
        let rows = Array2::from_shape_fn((9, 2), |(i, j)| (i + 2 * j) as f64 / 3.0);
        let expected = model.decision_function(&rows).unwrap();
        let v2 = FileKind {
            version: 2,
            ..MODEL_FILE
        }
        .encode(&stored)
        .unwrap();
        let old = KernelMachine::from_bytes(&v2).unwrap();
        assert!(old.whitened.get().is_none());
        assert_eq!(old, model);
        let got = old.decision_function(&rows).unwrap();
        assert!(
            got.iter()
                .zip(&expected)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        assert_eq!(old.whitened.get(), Some(&whitened));
    }

    #[test]
    fn a_stored_product_that_does_not_fit_the_model_is_refused() {
        let (model, _, whitened) = nystrom_parts();
        let encode = |model: &KernelMachine, whitened: Array2<f64>| {
            let mut v4 = decoded(model);
            v4.model.whitened = Some(whitened);
            encode_v4(&v4)
        };
        let mut nan = whitened.clone();
        nan[[3, 0]] = f64::NAN;
        let short = whitened
            .slice_axis(ndarray::Axis(0), (1..).into())
            .to_owned();
        let fastfood = super::tests::model();
        for bytes in [
            encode(&model, nan),
            encode(&model, short),
            encode(&fastfood, Array2::zeros(fastfood.weights.dim())),
        ] {
            let err = KernelMachine::from_bytes(&bytes);
            assert!(
                matches!(err, Err(SolversError::File(FileError::Corrupt { .. }))),
                "{err:?}"
            );
        }
        // The product as saved loads.
        assert!(KernelMachine::from_bytes(&encode(&model, whitened)).is_ok());
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

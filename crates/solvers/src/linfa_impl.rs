//! linfa interoperability: [`KernelMachineParams`](crate::machine::KernelMachineParams) fits a
//! `linfa::DatasetBase` through linfa's `Fit` (via `ParamGuard`), and a fitted
//! [`KernelMachine`] predicts through `PredictInplace` (so linfa's `Predict` works).
//!
//! Targets may be `f64` (labels or regression values) or `usize` class labels. linfa's
//! `PredictInplace` cannot return an error: on bad input (wrong column count, non-finite values)
//! it fills the targets with NaN. Use [`KernelMachine::predict`] to get the typed error.

use linfa::dataset::DatasetBase;
use linfa::traits::{Fit, PredictInplace};
use ndarray::{Array1, Array2};

use crate::error::{Result, SolversError};
use crate::machine::{KernelMachine, KernelMachineValidParams};

impl Fit<Array2<f64>, Array1<f64>, SolversError> for KernelMachineValidParams {
    type Object = KernelMachine;

    fn fit(&self, dataset: &DatasetBase<Array2<f64>, Array1<f64>>) -> Result<KernelMachine> {
        KernelMachineValidParams::fit(self, dataset.records.view(), dataset.targets.view())
    }
}

impl Fit<Array2<f64>, Array1<usize>, SolversError> for KernelMachineValidParams {
    type Object = KernelMachine;

    fn fit(&self, dataset: &DatasetBase<Array2<f64>, Array1<usize>>) -> Result<KernelMachine> {
        let y = dataset.targets.mapv(|v| v as f64);
        KernelMachineValidParams::fit(self, dataset.records.view(), y.view())
    }
}

impl PredictInplace<Array2<f64>, Array1<f64>> for KernelMachine {
    fn predict_inplace(&self, x: &Array2<f64>, y: &mut Array1<f64>) {
        match KernelMachine::predict(self, x) {
            Ok(p) if p.len() == y.len() => y.assign(&p),
            _ => y.fill(f64::NAN),
        }
    }

    fn default_target(&self, x: &Array2<f64>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}

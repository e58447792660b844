//! The trait every feature map implements.

use crate::error::Param;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use crate::{Element, RksError};

/// A random feature map φ: R^`input_dim` → R^`output_dim`.
///
/// Implementations check the input (column count, finiteness) and the output shape, and return a
/// typed error instead of panicking. The output depends only on the map and the row, never on the
/// number of threads.
pub trait FeatureMap: Send + Sync {
    /// Number of input columns d.
    fn input_dim(&self) -> usize;

    /// Number of output features (2n for the cos/sin maps).
    fn output_dim(&self) -> usize;

    /// Transforms the rows of `x` into `out` (shape rows × `output_dim`) without allocating it.
    fn transform_into<F: Element>(
        &self,
        x: ArrayView2<'_, F>,
        out: ArrayViewMut2<'_, F>,
    ) -> Result<(), RksError>;

    /// Transforms the rows of `x` into a new array.
    fn transform<F: Element>(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>, RksError> {
        let shape = (x.nrows(), self.output_dim());
        let mut out = crate::alloc::zeros(shape, "the features", Param::NFrequencies)?;
        self.transform_into(x, out.view_mut())?;
        Ok(out)
    }
}

//! The linear map: the features are the rows themselves over σ, φ(x) = x/σ, so that
//! φ(x)ᵀφ(y) = xᵀy/σ², the linear kernel ([`crate::Kernel::Linear`]) exactly.
//!
//! A linear model on these features is the model LIBLINEAR fits (Fan et al., "LIBLINEAR: A
//! Library for Large Linear Classification", JMLR 2008): on text and other wide, sparse rows,
//! where every column is a word, a linear model over all d columns is as accurate as a kernel
//! machine and far cheaper (Joachims, "Text Categorization with Support Vector Machines", ECML
//! 1998). It has no frequencies and no parameters: its "n" is d, and σ only rescales the
//! regularisation (ridge's λ by σ², the SVM's C by 1/σ²).

use ndarray::{ArrayView2, ArrayViewMut2, Zip};

use crate::features::{check_io, for_row_blocks};
use crate::spec::{MapParams, MapSpec, SavedMap, serde_via_saved};
use crate::{Bandwidth, Element, FeatureMap, Kernel, MapKind, RksError};

/// Rows per parallel block of the copy.
const BLOCK_ROWS: usize = 256;

/// The linear map x ↦ x/σ, for the linear kernel xᵀy/σ².
///
/// ```
/// use ndarray::array;
/// use rks::{Bandwidth, FeatureMap, Kernel, Linear};
///
/// let map = Linear::params().sigma(2.0).build(3)?;
/// assert_eq!((map.input_dim(), map.output_dim()), (3, 3));
/// let phi = map.transform(array![[1.0, 0.0, 2.0], [0.5, 0.5, 1.0]].view())?;
/// assert_eq!(phi, array![[0.5, 0.0, 1.0], [0.25, 0.25, 0.5]]);
/// let exact = Kernel::Linear.exact(&[1.0, 0.0, 2.0], &[0.5, 0.5, 1.0], Bandwidth::Sigma(2.0))?;
/// assert_eq!(phi.row(0).dot(&phi.row(1)), exact);
/// # Ok::<(), rks::RksError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Linear {
    spec: MapSpec,
}

impl Linear {
    /// The builder: `Linear::params().sigma(σ).build(d)` (the kernel is the linear one; n is d
    /// whatever is set).
    pub fn params() -> MapParams<Linear> {
        MapParams::default().kernel(Kernel::Linear)
    }

    /// The map a validated spec describes (which must be of kind [`MapKind::Linear`]).
    pub fn from_spec(spec: &MapSpec) -> Result<Self, RksError> {
        spec.expect_kind(MapKind::Linear)?;
        Ok(Self { spec: *spec })
    }

    /// The spec of the map.
    pub fn spec(&self) -> &MapSpec {
        &self.spec
    }
    /// σ.
    pub fn sigma(&self) -> f64 {
        self.spec.sigma()
    }
    /// The bandwidth as given.
    pub fn bandwidth(&self) -> Bandwidth {
        self.spec.bandwidth()
    }

    /// Memory of the parameters: none.
    pub fn parameter_bytes(&self) -> usize {
        0
    }

    pub(crate) fn saved(&self) -> SavedMap {
        // No parameters: the checksum of nothing.
        SavedMap::new(&self.spec, 0)
    }

    pub(crate) fn from_saved(saved: &SavedMap) -> Result<Self, RksError> {
        saved.rebuild(Self::from_spec, |_| 0)
    }
}

impl FeatureMap for Linear {
    fn input_dim(&self) -> usize {
        self.spec.input_dim()
    }

    fn output_dim(&self) -> usize {
        self.spec.output_dim()
    }

    /// Writes x/σ (each entry times 1/σ, rounded once; a copy when σ = 1).
    fn transform_into<F: Element>(
        &self,
        x: ArrayView2<'_, F>,
        mut out: ArrayViewMut2<'_, F>,
    ) -> Result<(), RksError> {
        check_io(&x, &out, self.input_dim(), self.output_dim())?;
        let scale = F::from_f64_lossy(1.0 / self.sigma());
        for_row_blocks(x, out.view_mut(), BLOCK_ROWS, |xb, ob| {
            Zip::from(ob).and(xb).for_each(|o, &v| *o = v * scale);
        });
        Ok(())
    }
}

crate::spec::drawn_from_spec!(Linear, MapKind::Linear);
serde_via_saved!(Linear);
crate::linfa_impl::transformer_via_feature_map!(Linear);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn features_are_the_rows_over_sigma_and_give_the_linear_kernel() {
        let x = array![[1.0, -2.0, 0.0, 4.0], [0.5, 0.25, -3.0, 1.0]];
        let map = Linear::params().sigma(4.0).build(4).unwrap();
        let phi = map.transform(x.view()).unwrap();
        assert_eq!(phi, &x / 4.0);
        let k = Kernel::Linear
            .exact(
                x.row(0).as_slice().unwrap(),
                x.row(1).as_slice().unwrap(),
                Bandwidth::Sigma(4.0),
            )
            .unwrap();
        assert_eq!(k, phi.row(0).dot(&phi.row(1)));
        let phi32 = map.transform(x.mapv(|v| v as f32).view()).unwrap();
        assert_eq!(phi32, phi.mapv(|v| v as f32));
    }

    #[test]
    fn n_is_d_and_only_the_linear_kernel_is_made() {
        let map = Linear::params().n_frequencies(4096).build(7).unwrap();
        assert_eq!((map.spec().n_frequencies(), map.output_dim()), (7, 7));
        let gaussian = MapParams::<Linear>::default().build(7);
        assert!(matches!(gaussian, Err(RksError::InvalidParameter { .. })));
        let err = MapSpec::new(
            MapKind::Dense,
            3,
            8,
            Bandwidth::Sigma(1.0),
            Kernel::Linear,
            0,
        );
        assert!(
            err.unwrap_err()
                .to_string()
                .contains("use the nystrom or linear map")
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        let map = Linear::params().build(3).unwrap();
        assert!(matches!(
            map.transform(Array2::<f64>::zeros((2, 4)).view()),
            Err(RksError::WrongInputDim { .. })
        ));
        assert!(map.transform(array![[1.0, f64::NAN, 0.0]].view()).is_err());
        let mut out = Array2::<f64>::zeros((1, 2));
        assert!(
            map.transform_into(array![[1.0, 2.0, 3.0]].view(), out.view_mut())
                .is_err()
        );
    }

    #[test]
    fn saved_map_loads_back() {
        let map = Linear::params().sigma(3.0).build(5).unwrap();
        let back = Linear::from_saved(&map.saved()).unwrap();
        assert_eq!(back, map);
        let mut tampered = map.saved();
        tampered.checksum = 1;
        assert!(Linear::from_saved(&tampered).is_err());
    }
}

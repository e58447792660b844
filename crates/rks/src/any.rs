//! [`AnyMap`]: either map behind one type, chosen at run time (for command lines and saved models).

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::spec::{MapSpec, SavedMap, serde_via_saved};
use crate::{Bandwidth, DenseRks, Element, Fastfood, FeatureMap, Kernel, MapKind, RksError};

/// A dense or a Fastfood map. Serialises to the same spec form as the maps themselves, so a saved
/// [`DenseRks`] or [`Fastfood`] loads as an `AnyMap` and the other way round (kind permitting).
///
/// ```
/// use rks::{AnyMap, Bandwidth, FeatureMap, Kernel, MapKind};
///
/// let map = AnyMap::build(MapKind::Fastfood, 10, 512, Bandwidth::Gamma(0.1), Kernel::Gaussian, 3)?;
/// assert_eq!(map.output_dim(), 1024);
/// let bytes = bincode::serde::encode_to_vec(&map, bincode::config::standard()).unwrap();
/// let (back, _): (AnyMap, usize) =
///     bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
/// assert_eq!(back, map);
/// # Ok::<(), rks::RksError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum AnyMap {
    /// Dense Random Kitchen Sinks.
    Dense(DenseRks),
    /// Fastfood.
    Fastfood(Fastfood),
}

impl AnyMap {
    /// Validates the arguments and draws the map.
    pub fn build(
        kind: MapKind,
        input_dim: usize,
        n_frequencies: usize,
        bandwidth: Bandwidth,
        kernel: Kernel,
        seed: u64,
    ) -> Result<Self, RksError> {
        Self::from_spec(&MapSpec::new(
            kind,
            input_dim,
            n_frequencies,
            bandwidth,
            kernel,
            seed,
        )?)
    }

    /// Draws the map a validated spec describes.
    pub fn from_spec(spec: &MapSpec) -> Result<Self, RksError> {
        Ok(match spec.kind() {
            MapKind::Dense => AnyMap::Dense(DenseRks::from_spec(spec)?),
            MapKind::Fastfood => AnyMap::Fastfood(Fastfood::from_spec(spec)?),
        })
    }

    /// The spec the map was drawn from.
    pub fn spec(&self) -> &MapSpec {
        match self {
            AnyMap::Dense(m) => m.spec(),
            AnyMap::Fastfood(m) => m.spec(),
        }
    }

    /// Which construction.
    pub fn kind(&self) -> MapKind {
        self.spec().kind()
    }

    /// Number of frequencies n (output 2n).
    pub fn n_frequencies(&self) -> usize {
        self.spec().n_frequencies()
    }

    /// Memory of the parameters in bytes.
    pub fn parameter_bytes(&self) -> usize {
        match self {
            AnyMap::Dense(m) => m.parameter_bytes(),
            AnyMap::Fastfood(m) => m.parameter_bytes(),
        }
    }

    /// The map's stored form: its spec and the checksum of its parameters.
    pub fn saved(&self) -> SavedMap {
        match self {
            AnyMap::Dense(m) => m.saved(),
            AnyMap::Fastfood(m) => m.saved(),
        }
    }

    /// Draws the map a stored form describes: the spec is validated (caps included) and the
    /// checksum of the drawn parameters compared with the stored one.
    pub fn from_saved(saved: &SavedMap) -> Result<Self, RksError> {
        Ok(match saved.kind {
            MapKind::Dense => AnyMap::Dense(DenseRks::from_saved(saved)?),
            MapKind::Fastfood => AnyMap::Fastfood(Fastfood::from_saved(saved)?),
        })
    }
}

impl From<DenseRks> for AnyMap {
    fn from(m: DenseRks) -> Self {
        AnyMap::Dense(m)
    }
}

impl From<Fastfood> for AnyMap {
    fn from(m: Fastfood) -> Self {
        AnyMap::Fastfood(m)
    }
}

impl FeatureMap for AnyMap {
    fn input_dim(&self) -> usize {
        self.spec().input_dim()
    }

    fn output_dim(&self) -> usize {
        2 * self.n_frequencies()
    }

    fn transform_into<F: Element>(
        &self,
        x: ArrayView2<'_, F>,
        out: ArrayViewMut2<'_, F>,
    ) -> Result<(), RksError> {
        match self {
            AnyMap::Dense(m) => m.transform_into(x, out),
            AnyMap::Fastfood(m) => m.transform_into(x, out),
        }
    }
}

serde_via_saved!(AnyMap);
crate::linfa_impl::transformer_via_feature_map!(AnyMap);

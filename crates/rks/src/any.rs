//! [`AnyMap`]: any map behind one type, chosen at run time (for command lines and saved models).

use crate::error::Param;
use ndarray::{ArrayView2, ArrayViewMut2};

use crate::spec::{MapSpec, SavedAny};
use crate::{
    Bandwidth, DenseRks, Element, Fastfood, FeatureMap, Kernel, Linear, MapKind, Nystrom, Orf,
    RksError, Sorf,
};

/// Calls `$body` with `$m` bound to the map inside `$any`, whichever kind it is.
macro_rules! each {
    ($any:expr, $m:ident => $body:expr) => {
        match $any {
            AnyMap::Dense($m) => $body,
            AnyMap::Fastfood($m) => $body,
            AnyMap::Orf($m) => $body,
            AnyMap::Sorf($m) => $body,
            AnyMap::Nystrom($m) => $body,
            AnyMap::Linear($m) => $body,
        }
    };
}

/// A dense, Fastfood, ORF, SORF, Nyström or linear map. Serialises to the same spec form as the
/// maps themselves, so a saved [`DenseRks`], [`Fastfood`], [`Orf`], [`Sorf`], [`Nystrom`] or
/// [`Linear`] loads as an `AnyMap` and the other way round (kind permitting).
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
    /// Orthogonal random features.
    Orf(Orf),
    /// Structured orthogonal random features.
    Sorf(Sorf),
    /// Nyström (fitted to rows).
    Nystrom(Nystrom),
    /// The linear map (the rows themselves).
    Linear(Linear),
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

    /// Draws the map a validated spec describes. A Nyström map needs rows: use [`AnyMap::fit`].
    pub fn from_spec(spec: &MapSpec) -> Result<Self, RksError> {
        Ok(match spec.kind() {
            MapKind::Dense => AnyMap::Dense(DenseRks::from_spec(spec)?),
            MapKind::Fastfood => AnyMap::Fastfood(Fastfood::from_spec(spec)?),
            MapKind::Orf => AnyMap::Orf(Orf::from_spec(spec)?),
            MapKind::Sorf => AnyMap::Sorf(Sorf::from_spec(spec)?),
            MapKind::Linear => AnyMap::Linear(Linear::from_spec(spec)?),
            MapKind::Nystrom => {
                return Err(RksError::InvalidParameter {
                    name: Param::Map,
                    reason: "a Nyström map is fitted to rows: use AnyMap::fit or \
                             Nystrom::params().fit(x)"
                        .into(),
                });
            }
        })
    }

    /// The map a validated spec describes, for the training rows `x`: Nyström picks its
    /// landmarks among them (uniformly, the spec's n_frequencies as m, default floor); every
    /// other kind ignores `x` and is [`AnyMap::from_spec`].
    pub fn fit<F: Element>(spec: &MapSpec, x: ArrayView2<'_, F>) -> Result<Self, RksError> {
        if spec.kind() != MapKind::Nystrom {
            return Self::from_spec(spec);
        }
        if x.ncols() != spec.input_dim() {
            return Err(RksError::WrongInputDim {
                expected: spec.input_dim(),
                found: x.ncols(),
            });
        }
        Ok(AnyMap::Nystrom(Self::nystrom_params(spec).fit(x)?))
    }

    /// The rows of `rows` that [`fit`](Self::fit) with `spec` keeps (sorted): all of them
    /// (`None`) for a data-free map; for Nyström its landmarks
    /// ([`NystromParams::landmark_rows`](crate::nystrom::NystromParams::landmark_rows)). A fit
    /// on just those rows, in that order, makes the same map.
    pub fn landmark_rows(spec: &MapSpec, rows: usize) -> Option<Vec<usize>> {
        match spec.kind() {
            MapKind::Nystrom => Self::nystrom_params(spec).landmark_rows(rows),
            _ => None,
        }
    }

    /// The Nyström construction of `spec`.
    fn nystrom_params(spec: &MapSpec) -> crate::nystrom::NystromParams {
        Nystrom::params()
            .n_landmarks(spec.n_frequencies())
            .bandwidth(spec.bandwidth())
            .kernel(spec.kernel())
            .seed(spec.seed())
    }

    /// The spec the map was drawn from.
    pub fn spec(&self) -> &MapSpec {
        each!(self, m => m.spec())
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
        each!(self, m => m.parameter_bytes())
    }

    /// The map's stored form: its spec and the checksum of its parameters (and, for Nyström,
    /// its landmarks).
    pub fn saved(&self) -> SavedAny {
        let map = match self {
            AnyMap::Dense(m) => m.saved(),
            AnyMap::Fastfood(m) => m.saved(),
            AnyMap::Orf(m) => m.saved(),
            AnyMap::Sorf(m) => m.saved(),
            AnyMap::Linear(m) => m.saved(),
            AnyMap::Nystrom(m) => return m.saved(),
        };
        SavedAny { map, nystrom: None }
    }

    /// Draws the map a stored form describes: the spec is validated (caps included) and the
    /// checksum of the drawn parameters compared with the stored one.
    pub fn from_saved(saved: &SavedAny) -> Result<Self, RksError> {
        let map = &saved.map;
        Ok(match map.kind {
            MapKind::Dense => AnyMap::Dense(DenseRks::from_saved(map)?),
            MapKind::Fastfood => AnyMap::Fastfood(Fastfood::from_saved(map)?),
            MapKind::Orf => AnyMap::Orf(Orf::from_saved(map)?),
            MapKind::Sorf => AnyMap::Sorf(Sorf::from_saved(map)?),
            MapKind::Nystrom => AnyMap::Nystrom(Nystrom::from_saved(saved)?),
            MapKind::Linear => AnyMap::Linear(Linear::from_saved(map)?),
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

impl From<Orf> for AnyMap {
    fn from(m: Orf) -> Self {
        AnyMap::Orf(m)
    }
}

impl From<Sorf> for AnyMap {
    fn from(m: Sorf) -> Self {
        AnyMap::Sorf(m)
    }
}

impl From<Linear> for AnyMap {
    fn from(m: Linear) -> Self {
        AnyMap::Linear(m)
    }
}

impl From<Nystrom> for AnyMap {
    fn from(m: Nystrom) -> Self {
        AnyMap::Nystrom(m)
    }
}

impl FeatureMap for AnyMap {
    fn input_dim(&self) -> usize {
        self.spec().input_dim()
    }

    fn output_dim(&self) -> usize {
        self.spec().output_dim()
    }

    fn transform_into<F: Element>(
        &self,
        x: ArrayView2<'_, F>,
        out: ArrayViewMut2<'_, F>,
    ) -> Result<(), RksError> {
        each!(self, m => m.transform_into(x, out))
    }
}

impl serde::Serialize for AnyMap {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.saved().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for AnyMap {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let saved = SavedAny::deserialize(deserializer)?;
        Self::from_saved(&saved).map_err(serde::de::Error::custom)
    }
}
crate::linfa_impl::transformer_via_feature_map!(AnyMap);

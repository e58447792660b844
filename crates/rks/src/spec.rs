//! What defines a map: (kind, input dim, frequencies, bandwidth, kernel, seed), the builder that
//! validates it, and the stored form that serialisation writes.
//!
//! A map is a pure function of its [`MapSpec`]: the parameters are drawn from a ChaCha8 generator
//! seeded with the seed (see [`crate::DenseRks`] and [`crate::Fastfood`] for the draw order). So
//! the serialised form is the spec plus a checksum of the parameters; loading rebuilds the
//! parameters and compares the checksum, which catches a change of the sampling code between the
//! version that saved a model and the one that loads it, instead of silently using another map.

use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::{Bandwidth, Kernel, RksError};

/// Largest number of frequencies n (output 2n): 2²⁶.
pub const MAX_FREQUENCIES: usize = 1 << 26;
/// Largest input dimension d: 2²⁶.
pub const MAX_INPUT_DIM: usize = 1 << 26;
/// Largest n·d of a dense map: 2³⁰ entries, 8 GiB of f64 parameters.
pub const MAX_DENSE_PARAMETERS: usize = 1 << 30;

/// Which construction a map uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum MapKind {
    /// Dense Random Kitchen Sinks: an explicit n × d frequency matrix.
    Dense,
    /// Fastfood: structured blocks S H G Π H B.
    #[default]
    Fastfood,
}

/// A validated description of a map (built by the builders or [`MapSpec::new`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapSpec {
    kind: MapKind,
    input_dim: usize,
    n_frequencies: usize,
    bandwidth: Bandwidth,
    sigma: f64,
    kernel: Kernel,
    seed: u64,
}

impl MapSpec {
    /// Checks every field: dims ≥ 1 and within the caps, bandwidth valid, kernel available for
    /// the kind (Fastfood makes radial kernels only).
    pub fn new(
        kind: MapKind,
        input_dim: usize,
        n_frequencies: usize,
        bandwidth: Bandwidth,
        kernel: Kernel,
        seed: u64,
    ) -> Result<Self, RksError> {
        let invalid = |name, reason: String| Err(RksError::InvalidParameter { name, reason });
        if input_dim == 0 || input_dim > MAX_INPUT_DIM {
            return invalid(
                "input_dim",
                format!("must be in 1..={MAX_INPUT_DIM}, got {input_dim}"),
            );
        }
        if n_frequencies == 0 || n_frequencies > MAX_FREQUENCIES {
            return invalid(
                "n_frequencies",
                format!("must be in 1..={MAX_FREQUENCIES}, got {n_frequencies}"),
            );
        }
        if kind == MapKind::Dense && n_frequencies * input_dim > MAX_DENSE_PARAMETERS {
            return invalid(
                "n_frequencies",
                format!(
                    "a dense map of {n_frequencies} frequencies × {input_dim} inputs exceeds \
                     {MAX_DENSE_PARAMETERS} parameters: use Fastfood or fewer frequencies"
                ),
            );
        }
        if kind == MapKind::Fastfood && !kernel.is_radial() {
            return invalid(
                "kernel",
                format!("Fastfood draws radial kernels only; {kernel:?} needs the dense map"),
            );
        }
        let sigma = bandwidth.sigma()?;
        Ok(Self {
            kind,
            input_dim,
            n_frequencies,
            bandwidth,
            sigma,
            kernel,
            seed,
        })
    }

    /// The construction.
    pub fn kind(&self) -> MapKind {
        self.kind
    }
    /// Input dimension d.
    pub fn input_dim(&self) -> usize {
        self.input_dim
    }
    /// Number of frequencies n (the map outputs 2n features).
    pub fn n_frequencies(&self) -> usize {
        self.n_frequencies
    }
    /// The bandwidth as given.
    pub fn bandwidth(&self) -> Bandwidth {
        self.bandwidth
    }
    /// σ (from the bandwidth).
    pub fn sigma(&self) -> f64 {
        self.sigma
    }
    /// The kernel.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }
    /// The seed of the ChaCha8 generator.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

/// Hyper-parameters of a map of type `M` ([`crate::DenseRks`] or [`crate::Fastfood`]), set
/// fluently and checked once by `build`.
///
/// Defaults: 1,024 frequencies, σ = 1, Gaussian kernel, seed 0.
// Clone, Copy and PartialEq by hand: derives would demand them of the map type M too.
#[derive(Debug)]
pub struct MapParams<M> {
    n_frequencies: usize,
    bandwidth: Bandwidth,
    kernel: Kernel,
    seed: u64,
    map: PhantomData<fn() -> M>,
}

impl<M> Clone for MapParams<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for MapParams<M> {}

impl<M> PartialEq for MapParams<M> {
    fn eq(&self, other: &Self) -> bool {
        (self.n_frequencies, self.bandwidth, self.kernel, self.seed)
            == (
                other.n_frequencies,
                other.bandwidth,
                other.kernel,
                other.seed,
            )
    }
}

impl<M> Default for MapParams<M> {
    fn default() -> Self {
        Self {
            n_frequencies: 1024,
            bandwidth: Bandwidth::Sigma(1.0),
            kernel: Kernel::Gaussian,
            seed: 0,
            map: PhantomData,
        }
    }
}

impl<M> MapParams<M> {
    /// Number of frequencies n; the map outputs 2n features.
    pub fn n_frequencies(mut self, n: usize) -> Self {
        self.n_frequencies = n;
        self
    }
    /// The kernel bandwidth.
    pub fn bandwidth(mut self, bandwidth: Bandwidth) -> Self {
        self.bandwidth = bandwidth;
        self
    }
    /// Shortcut for `bandwidth(Bandwidth::Sigma(sigma))`.
    pub fn sigma(self, sigma: f64) -> Self {
        self.bandwidth(Bandwidth::Sigma(sigma))
    }
    /// Shortcut for `bandwidth(Bandwidth::Gamma(gamma))`, γ = 1/(2σ²).
    pub fn gamma(self, gamma: f64) -> Self {
        self.bandwidth(Bandwidth::Gamma(gamma))
    }
    /// The kernel to approximate.
    pub fn kernel(mut self, kernel: Kernel) -> Self {
        self.kernel = kernel;
        self
    }
    /// Seed of the ChaCha8 generator that draws the parameters.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Validates these parameters for `input_dim` columns.
    pub fn check(&self, kind: MapKind, input_dim: usize) -> Result<MapSpec, RksError> {
        MapSpec::new(
            kind,
            input_dim,
            self.n_frequencies,
            self.bandwidth,
            self.kernel,
            self.seed,
        )
    }
}

/// The serialised form of every map, its header: the spec and a checksum of the parameters it
/// produces, fields in this order.
///
/// A file that holds a map stores this; reading it back is cheap and allocates nothing, so a
/// reader can compare `input_dim` and `n_frequencies` with the rest of the file before
/// [`AnyMap::from_saved`](crate::AnyMap::from_saved) draws the parameters (which validates the
/// spec against the caps and compares the checksum).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SavedMap {
    /// The construction.
    pub kind: MapKind,
    /// Input dimension d.
    pub input_dim: u64,
    /// Number of frequencies n.
    pub n_frequencies: u64,
    /// The bandwidth as given.
    pub bandwidth: Bandwidth,
    /// The kernel.
    pub kernel: Kernel,
    /// The seed of the ChaCha8 generator.
    pub seed: u64,
    /// The checksum of the parameters the spec produces.
    pub checksum: u64,
}

impl SavedMap {
    pub(crate) fn new(spec: &MapSpec, checksum: u64) -> Self {
        Self {
            kind: spec.kind,
            input_dim: spec.input_dim as u64,
            n_frequencies: spec.n_frequencies as u64,
            bandwidth: spec.bandwidth,
            kernel: spec.kernel,
            seed: spec.seed,
            checksum,
        }
    }

    /// The validated spec (caps apply: a hostile file cannot request a huge allocation).
    pub(crate) fn spec(&self) -> Result<MapSpec, RksError> {
        let to_usize = |v: u64, name| {
            usize::try_from(v).map_err(|_| RksError::InvalidParameter {
                name,
                reason: format!("{v} does not fit this platform"),
            })
        };
        MapSpec::new(
            self.kind,
            to_usize(self.input_dim, "input_dim")?,
            to_usize(self.n_frequencies, "n_frequencies")?,
            self.bandwidth,
            self.kernel,
            self.seed,
        )
    }

    /// Compares a rebuilt map's checksum with the stored one.
    pub(crate) fn verify(&self, rebuilt: u64) -> Result<(), RksError> {
        if rebuilt == self.checksum {
            Ok(())
        } else {
            Err(RksError::ChecksumMismatch {
                stored: self.checksum,
                rebuilt,
            })
        }
    }
}

/// A 64-bit checksum of parameter words, order-dependent (not cryptographic: it detects drift
/// of the sampling code, not tampering).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Checksum(u64);

impl Checksum {
    pub fn new() -> Self {
        Checksum(0x243F_6A88_85A3_08D3)
    }
    pub fn word(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(23) ^ w).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    pub fn floats(&mut self, v: impl IntoIterator<Item = f64>) {
        v.into_iter().for_each(|x| self.word(x.to_bits()));
    }
    pub fn finish(self) -> u64 {
        // A final avalanche so nearby inputs give unrelated outputs (splitmix64's finaliser).
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Implements `Serialize` (through [`SavedMap`]) and `Deserialize` (validate, rebuild, verify)
/// for a map type with `saved()` and `from_saved()`.
macro_rules! serde_via_saved {
    ($map:ty) => {
        impl serde::Serialize for $map {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.saved().serialize(serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $map {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let saved = $crate::spec::SavedMap::deserialize(deserializer)?;
                Self::from_saved(&saved).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use serde_via_saved;

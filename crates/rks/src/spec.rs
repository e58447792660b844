//! What defines a map: (kind, input dim, frequencies, bandwidth, kernel, seed), the builder that
//! validates it, and the stored form that serialisation writes.
//!
//! A map is a pure function of its [`MapSpec`]: the parameters are drawn from a ChaCha8 generator
//! seeded with the seed (see [`crate::DenseRks`] and [`crate::Fastfood`] for the draw order), its
//! normal, Cauchy and χ² variates by the spec's [`Sampler`] ([`crate::variates`]). So the
//! serialised form is the spec plus a checksum of the parameters; loading rebuilds the
//! parameters and compares the checksum, which catches a change of the sampling code between the
//! version that saved a model and the one that loads it, instead of silently using another map.
//! The checksum also tells the sampler: a map that does not rebuild with the portable sampler is
//! tried with rand_distr's, which drew every map saved before the portable one existed.

use crate::error::Param;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::variates::Sampler;
use crate::vocabulary::Named;
use crate::{Bandwidth, Kernel, RksError};

/// Largest number of frequencies n (output 2n): 2²⁶.
pub const MAX_FREQUENCIES: usize = 1 << 26;
/// Largest input dimension d: 2²⁶.
pub const MAX_INPUT_DIM: usize = 1 << 26;
/// Largest n·d of a dense or ORF map (and m·d of Nyström's landmarks): 2³⁰ entries, 8 GiB of
/// f64 parameters.
pub const MAX_DENSE_PARAMETERS: usize = 1 << 30;
/// Most landmarks m of a Nyström map: 2¹⁴ (its m × m projection takes 2 GiB in f64).
pub const MAX_LANDMARKS: usize = 1 << 14;

/// Which construction a map uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum MapKind {
    /// Dense Random Kitchen Sinks: an explicit n × d frequency matrix.
    Dense,
    /// Fastfood: structured blocks S H G Π H B.
    #[default]
    Fastfood,
    /// Orthogonal random features: blocks of a random orthogonal matrix, rows of χ lengths.
    Orf,
    /// Structured orthogonal random features: blocks H D₁ H D₂ H D₃.
    Sorf,
    /// Nyström: kernel values against m landmark rows, whitened by K_mm^{-1/2}.
    Nystrom,
    /// The linear map: the features are the rows themselves over σ (the linear kernel, exactly).
    Linear,
}

impl MapKind {
    /// Every kind, in the order of their serialised tags.
    pub const ALL: [MapKind; 6] = [
        MapKind::Dense,
        MapKind::Fastfood,
        MapKind::Orf,
        MapKind::Sorf,
        MapKind::Nystrom,
        MapKind::Linear,
    ];

    /// True when a map of this kind can approximate `kernel`: Fastfood, ORF and SORF draw a
    /// frequency as a direction times a length, so they make radial kernels only; the dense map
    /// draws each coordinate and Nyström evaluates the kernel itself, so Nyström makes every
    /// kernel and the dense map every one but the linear kernel, which the linear map makes
    /// exactly (and no other).
    ///
    /// ```
    /// use rks::{Kernel, MapKind};
    /// assert!(MapKind::Dense.supports(Kernel::Laplacian));
    /// assert!(!MapKind::Sorf.supports(Kernel::Laplacian));
    /// assert!(MapKind::Linear.supports(Kernel::Linear));
    /// assert!(!MapKind::Linear.supports(Kernel::Gaussian));
    /// ```
    pub fn supports(&self, kernel: Kernel) -> bool {
        match self {
            MapKind::Linear => kernel == Kernel::Linear,
            MapKind::Nystrom => true,
            MapKind::Dense => kernel != Kernel::Linear,
            MapKind::Fastfood | MapKind::Orf | MapKind::Sorf => kernel.is_radial(),
        }
    }

    /// True for the maps drawn from the seed alone; Nyström is fitted to rows.
    pub fn is_data_free(&self) -> bool {
        *self != MapKind::Nystrom
    }

    /// Output features of a map of this kind with n frequencies (m landmarks for Nyström): 2n for
    /// cos/sin features, n for the arc-cosine kernels, m for Nyström, n = d for the linear map.
    pub fn output_dim(&self, kernel: Kernel, n_frequencies: usize) -> usize {
        match self {
            MapKind::Nystrom | MapKind::Linear => n_frequencies,
            _ => kernel.activation().output_dim(n_frequencies),
        }
    }
}

impl Named for MapKind {
    const WHAT: &'static str = "map";
    const ALL: &'static [Self] = &MapKind::ALL;

    fn name(&self) -> &'static str {
        match self {
            MapKind::Dense => "dense",
            MapKind::Fastfood => "fastfood",
            MapKind::Orf => "orf",
            MapKind::Sorf => "sorf",
            MapKind::Nystrom => "nystrom",
            MapKind::Linear => "linear",
        }
    }

    fn help(&self) -> &'static str {
        match self {
            MapKind::Dense => {
                "Dense Random Kitchen Sinks: a Gaussian matrix, O(n·d) time and memory"
            }
            MapKind::Fastfood => "Fastfood: O(n log d) time and O(n) memory per row",
            MapKind::Orf => {
                "Orthogonal random features: orthogonal blocks with χ row lengths, O(n·d), lower error"
            }
            MapKind::Sorf => {
                "Structured orthogonal random features: blocks H D₁ H D₂ H D₃, O(n log d) time, O(n) memory"
            }
            MapKind::Nystrom => {
                "Nyström: n landmark rows of the training data (n features, not 2n), K_mm^{-1/2} k(L, x)"
            }
            MapKind::Linear => {
                "Linear: the rows themselves over σ (d features; --kernel linear), as LIBLINEAR"
            }
        }
    }
}

crate::named_choice!(MapKind);

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
    sampler: Sampler,
}

impl MapSpec {
    /// Checks every field: dims ≥ 1 and within the caps, bandwidth valid, kernel available for
    /// the kind (Fastfood, ORF and SORF make radial and arc-cosine kernels only; the linear map
    /// the linear kernel alone, which only it and Nyström make). For Nyström, `n_frequencies` is the number of landmarks m; the
    /// linear map has no frequencies and takes `n_frequencies` to be `input_dim` (its features,
    /// whatever was asked: a search that grows n leaves it as it is).
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
                Param::InputDim,
                format!("must be in 1..={MAX_INPUT_DIM}, got {input_dim}"),
            );
        }
        let n_frequencies = if kind == MapKind::Linear {
            input_dim
        } else {
            n_frequencies
        };
        if n_frequencies == 0 || n_frequencies > MAX_FREQUENCIES {
            return invalid(
                Param::NFrequencies,
                format!("must be in 1..={MAX_FREQUENCIES}, got {n_frequencies}"),
            );
        }
        if kind == MapKind::Nystrom && n_frequencies > MAX_LANDMARKS {
            return invalid(
                Param::NLandmarks,
                format!("must be in 1..={MAX_LANDMARKS}, got {n_frequencies}"),
            );
        }
        if matches!(kind, MapKind::Dense | MapKind::Orf | MapKind::Nystrom)
            && n_frequencies * input_dim > MAX_DENSE_PARAMETERS
        {
            return invalid(
                Param::NFrequencies,
                format!(
                    "a {kind} map of {n_frequencies} rows × {input_dim} inputs exceeds \
                     {MAX_DENSE_PARAMETERS} parameters: use Fastfood or SORF, or fewer rows"
                ),
            );
        }
        if !kind.supports(kernel) {
            let makers: Vec<&str> = MapKind::ALL
                .iter()
                .filter(|m| m.supports(kernel))
                .map(|m| m.name())
                .collect();
            return invalid(
                Param::Kernel,
                format!(
                    "the {kind} map does not make the {kernel} kernel: use the {} map",
                    makers.join(" or ")
                ),
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
            sampler: Sampler::Portable,
        })
    }

    /// The same spec with the variates drawn by `sampler` (a new spec draws with
    /// [`Sampler::Portable`]; [`Sampler::RandDistr`] rebuilds maps drawn before it existed).
    ///
    /// ```
    /// use rks::variates::Sampler;
    /// use rks::{Bandwidth, DenseRks, Kernel, MapKind, MapSpec};
    ///
    /// let spec = MapSpec::new(MapKind::Dense, 4, 8, Bandwidth::Sigma(1.0), Kernel::Gaussian, 3)?;
    /// assert_eq!(spec.sampler(), Sampler::Portable);
    /// let old = DenseRks::from_spec(&spec.with_sampler(Sampler::RandDistr))?;
    /// assert_ne!(old.weights(), DenseRks::from_spec(&spec)?.weights());
    /// # Ok::<(), rks::RksError>(())
    /// ```
    pub fn with_sampler(mut self, sampler: Sampler) -> Self {
        self.sampler = sampler;
        self
    }

    /// The algorithms the map's normal, Cauchy and χ² variates are drawn by.
    pub fn sampler(&self) -> Sampler {
        self.sampler
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

    /// An upper bound on the bytes a map built from this spec holds at once: its parameters in
    /// f64 and in f32 (each made by the first transform in that precision) and the scratch of
    /// their drawing. With D = d rounded up to a power of two and B = ⌈n/D⌉ blocks:
    ///
    /// - dense: Wᵀ packed in f64 and f32 (n rounded up to a panel of 16), 12·(n + 16)·d;
    /// - ORF: the same, plus W as drawn (f64) and one d × d Gaussian block, 20·(n + 16)·d + 8·d²;
    /// - Fastfood: B, G, S (f64) and Π (8 bytes) per block, Π as 32-bit gather indices, and
    ///   B, G, S in each precision: 72·D·B;
    /// - SORF: D₁, D₂, D₃ and the scaling (f64) per block, and the same in each precision:
    ///   80·D·B;
    /// - Nyström with m = n landmarks: the landmarks (f64), K_mm, its eigenvectors and
    ///   K_mm^{-1/2} in f64 and f32, and the (2m)² kernel matrix of a leverage pilot with its
    ///   factorisation: 8·m·d + 92·m²;
    /// - linear: nothing (it has no parameters).
    pub fn memory_bound(&self) -> u128 {
        let (d, n) = (self.input_dim as u128, self.n_frequencies as u128);
        let padded = self.input_dim.next_power_of_two() as u128;
        let blocks = n.div_ceil(padded);
        match self.kind {
            MapKind::Dense => 12 * (n + 16) * d,
            MapKind::Orf => 20 * (n + 16) * d + 8 * d * d,
            MapKind::Fastfood => 72 * padded * blocks,
            MapKind::Sorf => 80 * padded * blocks,
            MapKind::Nystrom => 8 * n * d + 92 * n * n,
            MapKind::Linear => 0,
        }
    }

    /// Whether [`memory_bound`](Self::memory_bound) bytes can be allocated now
    /// ([`crate::alloc::probe`]): the maps ask before drawing anything, so a size the machine
    /// cannot give is [`RksError::TooLarge`] naming n (or m), never an abort.
    pub fn check_memory(&self) -> Result<(), RksError> {
        let parameter = match self.kind {
            MapKind::Nystrom => Param::NLandmarks,
            _ => Param::NFrequencies,
        };
        crate::alloc::probe(self.memory_bound(), "the map's parameters", parameter)
    }
    /// The seed of the ChaCha8 generator.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Number of output features (see [`MapKind::output_dim`]).
    pub fn output_dim(&self) -> usize {
        self.kind.output_dim(self.kernel, self.n_frequencies)
    }

    /// [`RksError::WrongMapKind`] unless this spec is of kind `expected`.
    pub(crate) fn expect_kind(&self, expected: MapKind) -> Result<(), RksError> {
        if self.kind == expected {
            Ok(())
        } else {
            Err(RksError::WrongMapKind {
                expected: expected.name(),
                found: self.kind.name(),
            })
        }
    }
}

/// Hyper-parameters of a map whose kind is chosen at run time ([`crate::AnyMap`]), with the
/// bandwidth possibly left open for the caller to choose from data (the kernel machine's median
/// heuristic or model selection). The one map-parameters value of `rks-solvers`' kernel machine
/// and of the command line.
///
/// Defaults: Fastfood, 1,024 frequencies, bandwidth open, Gaussian kernel, seed 0.
///
/// ```
/// use rks::spec::AnyMapParams;
/// use rks::{Kernel, MapKind};
///
/// let params = AnyMapParams::default().kind(MapKind::Orf).n_frequencies(64).kernel(Kernel::Matern52);
/// params.validate()?;
/// let spec = params.spec(10, 0.5)?; // 10 columns, σ chosen as 0.5
/// assert_eq!((spec.kind(), spec.n_frequencies(), spec.sigma()), (MapKind::Orf, 64, 0.5));
/// assert!(AnyMapParams::default().kernel(Kernel::Laplacian).validate().is_err());
/// # Ok::<(), rks::RksError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnyMapParams {
    kind: MapKind,
    n_frequencies: usize,
    bandwidth: Option<Bandwidth>,
    kernel: Kernel,
    seed: u64,
}

impl Default for AnyMapParams {
    fn default() -> Self {
        Self {
            kind: MapKind::Fastfood,
            n_frequencies: 1024,
            bandwidth: None,
            kernel: Kernel::Gaussian,
            seed: 0,
        }
    }
}

impl AnyMapParams {
    /// The construction.
    pub fn kind(mut self, kind: MapKind) -> Self {
        self.kind = kind;
        self
    }
    /// Number of frequencies n (landmarks m for Nyström).
    pub fn n_frequencies(mut self, n: usize) -> Self {
        self.n_frequencies = n;
        self
    }
    /// The bandwidth; `None` leaves it to the caller ([`AnyMapParams::spec`] takes it).
    pub fn bandwidth(mut self, bandwidth: impl Into<Option<Bandwidth>>) -> Self {
        self.bandwidth = bandwidth.into();
        self
    }
    /// The kernel to approximate.
    pub fn kernel(mut self, kernel: Kernel) -> Self {
        self.kernel = kernel;
        self
    }
    /// Seed of the generator that draws the parameters.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The construction.
    pub fn get_kind(&self) -> MapKind {
        self.kind
    }
    /// Number of frequencies n.
    pub fn get_n_frequencies(&self) -> usize {
        self.n_frequencies
    }
    /// The given bandwidth, `None` when open.
    pub fn get_bandwidth(&self) -> Option<Bandwidth> {
        self.bandwidth
    }
    /// The kernel.
    pub fn get_kernel(&self) -> Kernel {
        self.kernel
    }
    /// The seed.
    pub fn get_seed(&self) -> u64 {
        self.seed
    }

    /// Checks everything the data does not decide (the kind with the kernel, n, the bandwidth
    /// when given, the seed), with the same errors as [`MapSpec::new`].
    pub fn validate(&self) -> Result<(), RksError> {
        self.spec_with(1, self.bandwidth.unwrap_or_default())
            .map(drop)
    }

    /// The spec for `input_dim` columns with the given bandwidth if there is one, else σ =
    /// `chosen_sigma` (the caller's choice from data).
    pub fn spec(&self, input_dim: usize, chosen_sigma: f64) -> Result<MapSpec, RksError> {
        let bandwidth = self.bandwidth.unwrap_or(Bandwidth::Sigma(chosen_sigma));
        self.spec_with(input_dim, bandwidth)
    }

    fn spec_with(&self, input_dim: usize, bandwidth: Bandwidth) -> Result<MapSpec, RksError> {
        MapSpec::new(
            self.kind,
            input_dim,
            self.n_frequencies,
            bandwidth,
            self.kernel,
            self.seed,
        )
    }
}

/// Hyper-parameters of a map of type `M` ([`crate::DenseRks`], [`crate::Fastfood`],
/// [`crate::Orf`] or [`crate::Sorf`]), set
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
            to_usize(self.input_dim, Param::InputDim)?,
            to_usize(self.n_frequencies, Param::NFrequencies)?,
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

    /// Draws the map this header describes with `draw` and checks it against the stored
    /// checksum: first with the portable sampler (every map saved since it exists), then, if
    /// that does not match, with rand_distr's (maps saved before). The file carries no sampler
    /// field; the checksum tells which sampler drew the parameters, and the map keeps it, so it
    /// saves again with the same checksum. A checksum neither matches is
    /// [`RksError::ChecksumMismatch`] with the portable draw's checksum.
    pub(crate) fn rebuild<M>(
        &self,
        draw: impl Fn(&MapSpec) -> Result<M, RksError>,
        checksum: impl Fn(&M) -> u64,
    ) -> Result<M, RksError> {
        let spec = self.spec()?;
        let map = draw(&spec)?;
        let rebuilt = checksum(&map);
        if rebuilt == self.checksum {
            return Ok(map);
        }
        // One map's parameters at a time: the memory the spec's bound was checked for.
        drop(map);
        let old = draw(&spec.with_sampler(Sampler::RandDistr))?;
        if checksum(&old) == self.checksum {
            return Ok(old);
        }
        Err(RksError::ChecksumMismatch {
            stored: self.checksum,
            rebuilt,
        })
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

/// Implements what every map drawn from its spec alone has: `MapParams::build` (validate, then
/// draw for `input_dim` columns) and equality of maps as equality of their specs (the
/// parameters are a function of the spec).
macro_rules! drawn_from_spec {
    ($map:ty, $kind:expr) => {
        impl $crate::spec::MapParams<$map> {
            /// Validates the parameters and draws the map for `input_dim` columns.
            pub fn build(&self, input_dim: usize) -> Result<$map, $crate::RksError> {
                <$map>::from_spec(&self.check($kind, input_dim)?)
            }
        }

        impl PartialEq for $map {
            /// Two maps are equal when their specs are (the parameters are a function of the
            /// spec).
            fn eq(&self, other: &Self) -> bool {
                self.spec == other.spec
            }
        }
    };
}
pub(crate) use drawn_from_spec;

/// The landmarks and eigenvalue floor of a Nyström map, stored after its [`SavedMap`] fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NystromPayload {
    pub eigen_floor: f64,
    /// m × d, row-major.
    pub landmarks: Vec<f64>,
}

/// The stored form of any map: [`SavedMap`]'s seven fields, then, for a Nyström map only, its
/// [`NystromPayload`]. A map saved before Nyström existed is the seven fields alone, so it
/// decodes unchanged. (Serialised as a struct of 7 or 8 fields: a sequence in bincode.)
#[derive(Debug, Clone, PartialEq)]
pub struct SavedAny {
    /// The spec and checksum every map has.
    pub map: SavedMap,
    /// Nyström's landmarks and floor.
    pub nystrom: Option<NystromPayload>,
}

const SAVED_FIELDS: [&str; 8] = [
    "kind",
    "input_dim",
    "n_frequencies",
    "bandwidth",
    "kernel",
    "seed",
    "checksum",
    "nystrom",
];

impl Serialize for SavedAny {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let m = &self.map;
        let len = 7 + usize::from(self.nystrom.is_some());
        let mut st = serializer.serialize_struct("SavedMap", len)?;
        st.serialize_field("kind", &m.kind)?;
        st.serialize_field("input_dim", &m.input_dim)?;
        st.serialize_field("n_frequencies", &m.n_frequencies)?;
        st.serialize_field("bandwidth", &m.bandwidth)?;
        st.serialize_field("kernel", &m.kernel)?;
        st.serialize_field("seed", &m.seed)?;
        st.serialize_field("checksum", &m.checksum)?;
        if let Some(payload) = &self.nystrom {
            st.serialize_field("nystrom", payload)?;
        }
        st.end()
    }
}

impl<'de> Deserialize<'de> for SavedAny {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = SavedAny;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a saved feature map")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<SavedAny, A::Error> {
                let map = SavedMap {
                    kind: field(&mut seq, "kind")?,
                    input_dim: field(&mut seq, "input_dim")?,
                    n_frequencies: field(&mut seq, "n_frequencies")?,
                    bandwidth: field(&mut seq, "bandwidth")?,
                    kernel: field(&mut seq, "kernel")?,
                    seed: field(&mut seq, "seed")?,
                    checksum: field(&mut seq, "checksum")?,
                };
                let nystrom = if map.kind == MapKind::Nystrom {
                    Some(field(&mut seq, "nystrom")?)
                } else {
                    None
                };
                Ok(SavedAny { map, nystrom })
            }
        }
        deserializer.deserialize_struct("SavedMap", &SAVED_FIELDS, Visit)
    }
}

/// The next element of a sequence, or a missing-field error naming it.
fn field<'de, T: Deserialize<'de>, A: serde::de::SeqAccess<'de>>(
    seq: &mut A,
    name: &'static str,
) -> Result<T, A::Error> {
    seq.next_element()?
        .ok_or_else(|| <A::Error as serde::de::Error>::missing_field(name))
}

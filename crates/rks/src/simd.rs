//! The low-level layer: what the CPU offers, decided in one place, and the vector kernels that
//! need it.
//!
//! Every kernel compiled for AVX2 + FMA, or using intrinsics or unchecked loads, sits in an
//! `avx2.rs` file beside its portable reference and is tested against it bit for bit:
//!
//! | algorithm | portable reference | AVX2 + FMA |
//! |---|---|---|
//! | Walsh–Hadamard transform | `hadamard.rs` | `hadamard/avx2.rs` (in-register stages) |
//! | cos/sin step | `trig.rs` | `trig/avx2.rs` (the same loops, 8 or 4 lanes) |
//! | Fastfood's fused B, Π, G steps | `fastfood/memory.rs` | `fastfood/avx2.rs` |
//! | dense GEMM | `gemm.rs` | `gemm/avx2.rs` (micro-kernel) |
//! | dot/axpy ([`Kernels`]) | `dot.rs` | `dot/avx2.rs` |
//!
//! An AVX2 kernel can only be called with an [`Avx2Fma`] token, and [`Avx2Fma::detect`] is the
//! only place the crate asks the CPU for its features, so no kernel can run on a CPU without
//! them. A caller detects once ([`Simd::detect`]) and passes the result down: a map's transform
//! detects once per block of rows, not per step. [`Simd::portable`] forces the portable kernels
//! (the tests compare the two). Per-type kernels are chosen through the sealed
//! [`Element`](crate::Element) trait, never by comparing type ids.
//!
//! ```
//! use rks::simd::{Kernels, Simd};
//!
//! let simd = Simd::detect(); // AVX2 + FMA where the CPU has both, else portable
//! let (a, b) = ([1.0f32, 2.0, 3.0], [4.0f32, 5.0, 6.0]);
//! assert_eq!(f32::dot(&a, &b), 32.0);
//! let mut v = [1.0f64, 0.0, 0.0, 0.0];
//! rks::hadamard::fwht_with(simd, &mut v)?;
//! assert_eq!(v, [1.0; 4]);
//! # Ok::<(), rks::RksError>(())
//! ```

pub use crate::dot::Kernels;

/// Proof that the running CPU has AVX2 and FMA: only [`Avx2Fma::detect`] makes one, and every
/// AVX2 kernel takes one, so it cannot be called without the features.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Avx2Fma(());

#[cfg(target_arch = "x86_64")]
impl Avx2Fma {
    /// The token if the CPU supports both features (std caches the CPUID answer: a load and a
    /// test). The one place the crate detects CPU features.
    #[inline]
    pub fn detect() -> Option<Self> {
        (std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma"))
            .then_some(Self(()))
    }
}

/// The vector instructions the kernels may use: detected once and passed down, or forced to
/// the portable kernels (which compute the same bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Simd {
    #[cfg(target_arch = "x86_64")]
    avx2_fma: Option<Avx2Fma>,
}

impl Simd {
    /// What the running CPU offers.
    #[inline]
    pub fn detect() -> Self {
        Self {
            #[cfg(target_arch = "x86_64")]
            avx2_fma: Avx2Fma::detect(),
        }
    }

    /// The portable kernels only (the references the SIMD kernels are tested against).
    pub fn portable() -> Self {
        Self {
            #[cfg(target_arch = "x86_64")]
            avx2_fma: None,
        }
    }

    /// The AVX2 + FMA token, if those kernels may run.
    #[cfg(target_arch = "x86_64")]
    #[inline]
    pub fn avx2_fma(self) -> Option<Avx2Fma> {
        self.avx2_fma
    }
}

#[cfg(target_arch = "x86_64")]
impl From<Avx2Fma> for Simd {
    /// The AVX2 + FMA kernels (the token proves the CPU has them).
    fn from(cpu: Avx2Fma) -> Self {
        Self {
            avx2_fma: Some(cpu),
        }
    }
}

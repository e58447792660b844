//! The low-level layer: what the CPU offers, decided in one place, and the vector kernels that
//! need it.
//!
//! Every kernel compiled for AVX2 + FMA or AVX-512, or using intrinsics or unchecked loads, sits
//! in an `avx2.rs` or `avx512.rs` file beside its portable reference and is tested against it
//! bit for bit, at every level the CPU has ([`Simd::portable`], AVX2 through an [`Avx2Fma`]
//! token, AVX-512 through an [`Avx512`] token):
//!
//! | algorithm | portable reference | AVX2 + FMA | AVX-512 |
//! |---|---|---|---|
//! | Walsh–Hadamard transform | `hadamard.rs` | `hadamard/avx2.rs` (in-register stages; the radix-16 passes of `hadamard/passes.rs`) | `hadamard/avx512.rs` (the same passes, 16 or 8 lanes) |
//! | cos/sin step | `trig.rs` | `trig/avx2.rs` (the same loops, 8 or 4 lanes) | `trig/avx512.rs` (16 or 8 lanes) |
//! | Fastfood's fused B, Π, G steps | `fastfood/memory.rs` | `fastfood/avx2.rs` | `fastfood/avx512.rs` |
//! | dense GEMM | `gemm.rs` | `gemm/avx2.rs` (micro-kernel) | (AVX2) |
//! | dot/axpy ([`Kernels`]) | `dot.rs` | `dot/avx2.rs` | (AVX2) |
//! | radial kernel values (Nyström): the sums, then the values with the crate's own exp (`exp.rs`) | `radial.rs` | `radial/avx2.rs` (the same loops, 4 lanes) | `radial/avx512.rs` (8 lanes) |
//! | exact 16-bit Gram | `gram.rs` | `gram/avx2.rs` (`vpmaddwd`) | `gram/avx512.rs` (VNNI `vpdpwssd`, through an [`Avx512Vnni`] token) |
//! | symmetric eigendecomposition's passes (Nyström's K_mm^{+1/2}) | `symmetric/loops.rs`, one source compiled three times: plain loops of separate multiplies and adds | the same source with `avx2,fma` enabled | with `avx512f,…` enabled |
//!
//! A SIMD kernel can only be called with its token, and [`Avx2Fma::detect`] and
//! [`Avx512::detect`] (with [`Avx512Vnni::detect`]) are the only places the crate asks the CPU for its features, so no kernel
//! can run on a CPU without them. A caller detects once ([`Simd::detect`]) and passes the result
//! down: a map's transform detects once per block of rows, not per step. [`Simd::portable`]
//! forces the portable kernels and `Simd::from(token)` a lower level (the tests compare them).
//! Per-type kernels are chosen through the sealed [`Element`](crate::Element) trait, never by
//! comparing type ids.
//!
//! ```
//! use rks::simd::{Kernels, Simd};
//!
//! let simd = Simd::detect(); // AVX-512 or AVX2 + FMA where the CPU has them, else portable
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

/// Proof that the running CPU has AVX-512 (foundation, DQ, VL, BW) as well as AVX2 and FMA:
/// only [`Avx512::detect`] makes one, and every AVX-512 kernel takes one.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Avx512(Avx2Fma);

#[cfg(target_arch = "x86_64")]
impl Avx512 {
    /// The token if the CPU supports AVX-512F, DQ, VL and BW besides AVX2 and FMA (the
    /// AVX-512 kernels fall back to the AVX2 ones for short slices).
    #[inline]
    pub fn detect() -> Option<Self> {
        let avx2 = Avx2Fma::detect()?;
        (std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512bw"))
        .then_some(Self(avx2))
    }

    /// The AVX2 + FMA token (implied by AVX-512's).
    #[inline]
    pub fn avx2_fma(self) -> Avx2Fma {
        self.0
    }

    /// True on a CPU that runs each 512-bit operation as two 256-bit halves (AMD family 19h,
    /// Zen 4), where the shortest transforms from a buffer off a 64-byte boundary are faster
    /// in 256-bit registers; false where the 512-bit units are whole (Intel; Zen 5). A speed
    /// choice only: every kernel computes the same bits. Asked of the CPU once (`CPUID`).
    #[inline]
    pub fn splits_512_bit_operations(self) -> bool {
        static SPLITS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *SPLITS.get_or_init(|| {
            use std::arch::x86_64::__cpuid;
            let vendor = __cpuid(0);
            amd_family_19h([vendor.ebx, vendor.edx, vendor.ecx], __cpuid(1).eax)
        })
    }
}

/// "AuthenticAMD", as `CPUID` leaf 0 returns it in EBX, EDX, ECX.
#[cfg(target_arch = "x86_64")]
const AMD: [u32; 3] = [0x6874_7541, 0x6974_6e65, 0x444d_4163];

/// True for AMD's family 19h (Zen 3 and Zen 4; of the two only Zen 4 has AVX-512) from `CPUID`
/// leaf 0's vendor registers (EBX, EDX, ECX) and leaf 1's EAX.
#[cfg(target_arch = "x86_64")]
fn amd_family_19h(vendor: [u32; 3], eax: u32) -> bool {
    // The family: the base field, plus the extended one when the base is 0xF.
    let family = match (eax >> 8) & 0xF {
        0xF => 0xF + ((eax >> 20) & 0xFF),
        base => base,
    };
    vendor == AMD && family == 0x19
}

/// Proof that the running CPU has AVX-512 VNNI (the 16-bit dot products `vpdpwssd`) besides
/// what an [`Avx512`] token proves: only [`Avx512Vnni::detect`] makes one.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Avx512Vnni(Avx512);

#[cfg(target_arch = "x86_64")]
impl Avx512Vnni {
    /// The token if the CPU supports AVX-512 VNNI and everything [`Avx512::detect`] asks for.
    #[inline]
    pub fn detect() -> Option<Self> {
        let avx512 = Avx512::detect()?;
        std::arch::is_x86_feature_detected!("avx512vnni").then_some(Self(avx512))
    }

    /// The AVX-512 token (implied by this one).
    #[inline]
    pub fn avx512(self) -> Avx512 {
        self.0
    }
}

/// The vector instructions the kernels may use: detected once and passed down, or forced to
/// a lower level (the AVX2 kernels, or the portable ones), which compute the same bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Simd {
    #[cfg(target_arch = "x86_64")]
    avx2_fma: Option<Avx2Fma>,
    #[cfg(target_arch = "x86_64")]
    avx512: Option<Avx512>,
    #[cfg(target_arch = "x86_64")]
    avx512_vnni: Option<Avx512Vnni>,
}

impl Simd {
    /// What the running CPU offers.
    #[inline]
    pub fn detect() -> Self {
        Self {
            #[cfg(target_arch = "x86_64")]
            avx2_fma: Avx2Fma::detect(),
            #[cfg(target_arch = "x86_64")]
            avx512: Avx512::detect(),
            #[cfg(target_arch = "x86_64")]
            avx512_vnni: Avx512Vnni::detect(),
        }
    }

    /// The portable kernels only (the references the SIMD kernels are tested against).
    pub fn portable() -> Self {
        Self {
            #[cfg(target_arch = "x86_64")]
            avx2_fma: None,
            #[cfg(target_arch = "x86_64")]
            avx512: None,
            #[cfg(target_arch = "x86_64")]
            avx512_vnni: None,
        }
    }

    /// Every level this CPU can run, lowest first: the portable kernels, then AVX2 + FMA and
    /// AVX-512 where the CPU has them (the tests compare them bit for bit).
    #[cfg(test)]
    pub(crate) fn levels() -> Vec<Self> {
        #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
        let mut levels = vec![Self::portable()];
        #[cfg(target_arch = "x86_64")]
        {
            levels.extend(Avx2Fma::detect().map(Self::from));
            levels.extend(Avx512::detect().map(Self::from));
            levels.extend(Avx512Vnni::detect().map(Self::from));
        }
        levels
    }

    /// The AVX2 + FMA token, if those kernels may run.
    #[cfg(target_arch = "x86_64")]
    #[inline]
    pub fn avx2_fma(self) -> Option<Avx2Fma> {
        self.avx2_fma
    }

    /// The AVX-512 token, if those kernels may run.
    #[cfg(target_arch = "x86_64")]
    #[inline]
    pub fn avx512(self) -> Option<Avx512> {
        self.avx512
    }

    /// The AVX-512 VNNI token, if those kernels may run.
    #[cfg(target_arch = "x86_64")]
    #[inline]
    pub fn avx512_vnni(self) -> Option<Avx512Vnni> {
        self.avx512_vnni
    }
}

#[cfg(target_arch = "x86_64")]
impl From<Avx2Fma> for Simd {
    /// The AVX2 + FMA kernels (the token proves the CPU has them).
    fn from(cpu: Avx2Fma) -> Self {
        Self {
            avx2_fma: Some(cpu),
            avx512: None,
            avx512_vnni: None,
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl From<Avx512> for Simd {
    /// The AVX-512 kernels, and the AVX2 + FMA ones where those are used (the token proves the
    /// CPU has both).
    fn from(cpu: Avx512) -> Self {
        Self {
            avx2_fma: Some(cpu.avx2_fma()),
            avx512: Some(cpu),
            avx512_vnni: None,
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl From<Avx512Vnni> for Simd {
    /// The AVX-512 VNNI kernels, and the lower levels' where those are used.
    fn from(cpu: Avx512Vnni) -> Self {
        Self {
            avx512_vnni: Some(cpu),
            ..Self::from(cpu.avx512())
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::{AMD, amd_family_19h};

    const INTEL: [u32; 3] = [0x756e_6547, 0x4965_6e69, 0x6c65_746e];

    /// The family decoding, on the signatures (`CPUID` leaf 1, EAX) of the machines measured.
    #[test]
    fn zen4_is_told_apart_from_whole_512_bit_units() {
        // EPYC Zen 4: family 0xF + 0xA = 0x19, model 0x11.
        assert!(amd_family_19h(AMD, 0x00A1_0F11));
        // EPYC Zen 3 (also 19h; it has no AVX-512, so no token asks).
        assert!(amd_family_19h(AMD, 0x00A0_0F11));
        // Zen 5: family 0x1A.
        assert!(!amd_family_19h(AMD, 0x00B0_0F21));
        // Xeon, Emerald Rapids: family 6, model 0xCF; the vendor decides before the family.
        assert!(!amd_family_19h(INTEL, 0x000C_06F2));
        assert!(!amd_family_19h(INTEL, 0x00A1_0F11));
    }
}

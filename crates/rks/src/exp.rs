//! exp(x) in f64 from additions, multiplications and bit operations only (no fused
//! multiply-add, which a CPU without it would emulate slowly), so that the portable code and its
//! AVX2 and AVX-512 builds give the same bits on every CPU and with every C library (the libm
//! `exp` of one C library need not round like another's).
//!
//! The classic reduction (Cody & Waite, *Software Manual for the Elementary Functions*, 1980):
//! x = k·ln 2 + r with k = round(x/ln 2) and |r| ≤ ln 2 / 2, so e^x = 2^k·e^r. k is rounded by
//! adding and subtracting 1.5·2⁵² (round to nearest even, branch-free), whose low bits then hold
//! k as an integer; r = (x − k·ln2_hi) − k·ln2_lo with ln 2 split in a high part (its last 11
//! bits zero, so k·ln2_hi is exact for |k| < 2¹¹) and a low part. e^r is its
//! Taylor polynomial of degree 13 in Horner's form (the first omitted term is below
//! 0.35¹⁴/14! ≈ 4·10⁻¹⁸ relative), and 2^k is applied as two powers of two built in the
//! exponent bits. The result is within 2 units in the last place of the C library's exp for
//! every x whose e^x is a normal number (tested), rounds gradually into the subnormal numbers
//! below that, is 0 below x = −745.2, +∞ above the largest finite value, and NaN for NaN.

/// 1.5·2⁵²: adding and subtracting it rounds |v| < 2⁵¹ to the nearest integer (ties to even).
const SHIFTER: f64 = 6_755_399_441_055_744.0;
const LOG2_E: f64 = std::f64::consts::LOG2_E;
/// ln 2 = LN2_HI + LN2_LO, LN2_HI with its last 11 bits zero (fdlibm's split), so k·LN2_HI is
/// exact for |k| < 2¹¹ (also [`crate::log`]'s).
pub(crate) const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
pub(crate) const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// Below: e^x rounds to 0; above: e^x overflows.
const LOWEST: f64 = -745.2;
const HIGHEST: f64 = 709.79;

/// 1/j! for j = 13 down to 2 (the polynomial's coefficients above the linear term).
const INVERSE_FACTORIALS: [f64; 12] = [
    1.0 / 6_227_020_800.0,
    1.0 / 479_001_600.0,
    1.0 / 39_916_800.0,
    1.0 / 3_628_800.0,
    1.0 / 362_880.0,
    1.0 / 40_320.0,
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
];

/// e^x; see the [module docs](self). Inlined, so that a loop over it vectorises.
///
/// ```
/// let e = rks::exp::exp(1.0);
/// assert!((e - std::f64::consts::E).abs() <= 2.0 * f64::EPSILON * e);
/// assert_eq!(rks::exp::exp(-800.0), 0.0);
/// assert!(rks::exp::exp(f64::NAN).is_nan());
/// ```
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    let clamped = x.clamp(LOWEST, HIGHEST);
    let shifted = clamped * LOG2_E + SHIFTER;
    let k = shifted - SHIFTER;
    // k·LN2_HI is exact (|k| < 2¹¹, LN2_HI's last 11 bits zero), and so is the subtraction.
    let r = (clamped - k * LN2_HI) - k * LN2_LO;
    let mut p = INVERSE_FACTORIALS[0];
    for c in &INVERSE_FACTORIALS[1..] {
        p = p * r + *c;
    }
    let p = (p * r + 1.0) * r + 1.0;
    // The low bits of `shifted` hold k (offset by those of the shifter). 2^k = 2^h·2^(k−h) with
    // h = ⌊k/2⌋, each factor a normal number built in the exponent bits: the first product is
    // exact, the second rounds only where e^x is subnormal.
    let k = shifted.to_bits().wrapping_sub(SHIFTER.to_bits()) as i64;
    let half = k >> 1;
    let power = |e: i64| f64::from_bits(((e + 1023) as u64) << 52);
    let value = p * power(half) * power(k - half);
    if x < LOWEST {
        0.0
    } else if x > HIGHEST {
        f64::INFINITY
    } else {
        // NaN included: its r, hence p, is NaN.
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Units in the last place between a and b (both finite, same sign).
    fn ulps(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    #[test]
    fn within_two_ulps_of_the_c_library_where_the_result_is_normal() {
        let mut worst = (0, 0.0);
        let steps = 2_000_000;
        for i in 0..=steps {
            let x = -708.39 + (709.78 + 708.39) * i as f64 / steps as f64;
            let e = ulps(exp(x), x.exp());
            if e > worst.0 {
                worst = (e, x);
            }
        }
        // Small arguments, where the polynomial alone decides.
        for i in -100_000..=100_000 {
            let x = i as f64 * 1e-6;
            let e = ulps(exp(x), x.exp());
            if e > worst.0 {
                worst = (e, x);
            }
        }
        assert!(worst.0 <= 2, "{} ulps at x = {}", worst.0, worst.1);
    }

    #[test]
    fn the_edges() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-0.0), 1.0);
        assert!(ulps(exp(1.0), std::f64::consts::E) <= 2);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp(-746.0), 0.0);
        assert!(exp(-708.0) > 0.0 && exp(-708.0).is_normal());
        // Subnormal results: gradual, to a few units of the smallest subnormal.
        for x in [-709.0, -720.0, -740.0, -745.0] {
            assert!(ulps(exp(x), x.exp()) <= 2, "x = {x}");
        }
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(710.0), f64::INFINITY);
        assert!(exp(709.7).is_finite());
        assert!(exp(f64::NAN).is_nan());
        // Every integer power of e that is normal, to 2 ulps.
        for k in -708..=709 {
            let x = f64::from(k);
            assert!(ulps(exp(x), x.exp()) <= 2, "x = {x}");
        }
    }
}

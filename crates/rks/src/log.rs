//! ln(x) and ln(1 + x) in f64 from additions, multiplications, one division and bit
//! operations only (no fused multiply-add), so that they give the same bits on every CPU and
//! with every C library, as [`crate::exp`] does for e^x.
//!
//! The reduction: x = 2^k·m with m in (√2/2, √2] (the exponent bits give k, the mantissa bits
//! m; a subnormal x is first scaled by 2⁵⁴), so ln x = k·ln 2 + ln m. With f = m − 1 (exact,
//! by Sterbenz's lemma) and s = f/(2 + f), ln m = ln((1 + s)/(1 − s)) = 2·atanh s
//! = 2s·(1 + s²/3 + s⁴/5 + …), the Taylor series of atanh; |s| ≤ 3 − 2√2 ≈ 0.172, so s² ≤
//! 0.0295 and the first omitted term of the 12 kept, s²⁴/25, is below 10⁻³⁸ relative. k·ln 2 is
//! added as k·ln2_hi (exact: ln2_hi's last 11 bits are zero) plus k·ln2_lo. The result is within
//! 2 units in the last place of the C library's ln for every positive normal or subnormal x
//! (tested); ln 0 = −∞, ln ∞ = ∞, and a negative x or NaN gives NaN.
//!
//! ln(1 + x) is ln u of u = 1 ⊕ x rounded, plus the first-order correction for that rounding:
//! ln(1 + x) = ln u + ln(1 + e/u) ≈ ln u + e/u with e = x − (u − 1) the part of x that the sum
//! lost (u − 1 is exact for u in [1/2, 2] by Sterbenz's lemma; beyond, e/u is below the result's
//! last place anyway). This keeps the relative accuracy for tiny x that ln u alone loses, and
//! gives x itself when u rounds to 1.

use crate::exp::{LN2_HI, LN2_LO};

/// 2⁵⁴, which makes a subnormal x normal.
const TWO_54: f64 = 18_014_398_509_481_984.0;
/// 1/(2j + 1) for j = 11 down to 1: the atanh series' coefficients after the first.
const ODD_RECIPROCALS: [f64; 11] = [
    1.0 / 23.0,
    1.0 / 21.0,
    1.0 / 19.0,
    1.0 / 17.0,
    1.0 / 15.0,
    1.0 / 13.0,
    1.0 / 11.0,
    1.0 / 9.0,
    1.0 / 7.0,
    1.0 / 5.0,
    1.0 / 3.0,
];

/// ln x; see the [module docs](self).
///
/// ```
/// assert!((rks::log::ln(std::f64::consts::E) - 1.0).abs() <= 2.0 * f64::EPSILON);
/// assert_eq!(rks::log::ln(1.0), 0.0);
/// assert_eq!(rks::log::ln(0.0), f64::NEG_INFINITY);
/// assert!(rks::log::ln(-1.0).is_nan());
/// ```
pub fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x == f64::INFINITY {
        return x;
    }
    let (x, mut k) = if x < f64::MIN_POSITIVE {
        (x * TWO_54, -54i64)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    k += ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        k += 1;
    }
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let mut p = ODD_RECIPROCALS[0];
    for c in &ODD_RECIPROCALS[1..] {
        p = p * z + *c;
    }
    // ln m = 2s + 2s·z·p, the small correction added last.
    let two_s = 2.0 * s;
    let k = k as f64;
    k * LN2_HI + (two_s + (two_s * z * p + k * LN2_LO))
}

/// ln(1 + x) for x ≥ −1, accurate for tiny x; see the [module docs](self).
///
/// ```
/// let tiny = 1e-20;
/// assert_eq!(rks::log::ln_1p(tiny), tiny);
/// assert!((rks::log::ln_1p(1.0) - std::f64::consts::LN_2).abs() <= 2.0 * f64::EPSILON);
/// assert_eq!(rks::log::ln_1p(-1.0), f64::NEG_INFINITY);
/// ```
pub fn ln_1p(x: f64) -> f64 {
    let u = 1.0 + x;
    if u == 1.0 {
        x
    } else if u > 0.0 && u < f64::INFINITY {
        ln(u) + (x - (u - 1.0)) / u
    } else {
        // −∞ for x = −1, ∞ for ∞, NaN below −1 and for NaN.
        ln(u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// |a − b| in units in the last place of b.
    fn ulps(a: f64, b: f64) -> f64 {
        let ulp = f64::from_bits(b.abs().to_bits() + 1) - b.abs();
        (a - b).abs() / ulp
    }

    /// Values over the whole positive range: every power of two's neighbourhood, numbers near
    /// 1, and a pseudo-random sweep of the mantissas.
    fn values() -> Vec<f64> {
        let mut v = vec![f64::MIN_POSITIVE, f64::MAX, 5e-324, 1e-310, 0.5, 1.0, 2.0];
        for e in -1074..1024 {
            let p = 2f64.powi(e);
            if p > 0.0 && p.is_finite() {
                v.extend([p, p * 1.000_000_1, p * 1.414, p * 1.4143, p * 1.9999]);
            }
        }
        let mut state = 7u64;
        for _ in 0..200_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let bits = (state >> 12) | ((((state >> 2) % 2046) + 1) << 52);
            v.push(f64::from_bits(bits & 0x7fff_ffff_ffff_ffff));
        }
        for i in 1..2000 {
            v.extend([
                1.0 + i as f64 * 1e-6,
                1.0 - i as f64 * 1e-7,
                1.0 + i as f64 * 1e-13,
            ]);
        }
        v
    }

    #[test]
    fn ln_is_within_two_ulps_of_the_c_library() {
        for x in values() {
            let (ours, libm) = (ln(x), x.ln());
            if libm == 0.0 {
                assert_eq!(ours, 0.0, "ln({x:e})");
            } else {
                assert!(
                    ulps(ours, libm) <= 2.0,
                    "ln({x:e}) = {ours:e}, libm {libm:e}"
                );
            }
        }
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert_eq!(ln(-0.0), f64::NEG_INFINITY);
        assert!(ln(-1e-300).is_nan() && ln(f64::NAN).is_nan() && ln(f64::NEG_INFINITY).is_nan());
    }

    #[test]
    fn ln_1p_is_within_two_ulps_of_the_c_library() {
        let mut xs: Vec<f64> = values().into_iter().filter(|v| *v < 1e300).collect();
        xs.extend(xs.clone().iter().filter(|v| **v < 1.0).map(|v| -v));
        xs.extend([-1.0 + 1e-16, 1e-300, -1e-300, 1e-17, 0.0]);
        for x in xs {
            let (ours, libm) = (ln_1p(x), x.ln_1p());
            if libm == 0.0 {
                assert_eq!(ours, 0.0, "ln_1p({x:e})");
            } else {
                assert!(
                    ulps(ours, libm) <= 2.0,
                    "ln_1p({x:e}) = {ours:e}, libm {libm:e}"
                );
            }
        }
        assert_eq!(ln_1p(-1.0), f64::NEG_INFINITY);
        assert_eq!(ln_1p(f64::INFINITY), f64::INFINITY);
        assert!(ln_1p(-2.0).is_nan() && ln_1p(f64::NAN).is_nan());
    }
}

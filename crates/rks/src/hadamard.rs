//! The fast Walsh–Hadamard transform (unnormalised): x ← H x, H the ±1 Sylvester–Hadamard matrix.
//!
//! H_{ij} = (−1)^{popcount(i & j)}, H² = d·I. Cost d·log₂d additions/subtractions.

use crate::{Element, RksError};

/// Applies the unnormalised Walsh–Hadamard transform to `data` in place.
///
/// `data.len()` must be a power of two (1 is allowed and is the identity).
///
/// ```
/// let mut v = [1.0f32, 0.0, 0.0, 0.0];
/// rks::hadamard::fwht(&mut v).unwrap();
/// assert_eq!(v, [1.0, 1.0, 1.0, 1.0]);
/// ```
pub fn fwht<F: Element>(data: &mut [F]) -> Result<(), RksError> {
    let n = data.len();
    if n == 0 || !n.is_power_of_two() {
        return Err(RksError::NotPowerOfTwo(n));
    }
    fwht_reference(data);
    Ok(())
}

/// The plain radix-2 butterfly loop: the slow, obvious reference the fast paths are tested against.
pub fn fwht_reference<F: Element>(data: &mut [F]) {
    let n = data.len();
    let mut h = 1;
    while h < n {
        for block in data.chunks_exact_mut(2 * h) {
            let (a, b) = block.split_at_mut(h);
            for (x, y) in a.iter_mut().zip(b.iter_mut()) {
                let (u, v) = (*x, *y);
                *x = u + v;
                *y = u - v;
            }
        }
        h *= 2;
    }
}

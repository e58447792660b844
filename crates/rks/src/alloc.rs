//! Allocations sized by a parameter or by the input, checked before they are made.
//!
//! A buffer whose size comes from a flag (the number of frequencies) or from a file (its rows)
//! can be larger than the machine can give. The global allocator aborts the process on failure;
//! these functions ask with [`Vec::try_reserve_exact`] first and return
//! [`RksError::TooLarge`], naming what the buffer is for, the parameter that sized it and the
//! bytes it would need.
//!
//! ```
//! use rks::RksError;
//! use rks::error::Param;
//! let phi = rks::alloc::zeros::<f64>((300, 8), "the features", Param::NFrequencies)?;
//! assert_eq!(phi.dim(), (300, 8));
//! let err = rks::alloc::zeros::<f64>((300, usize::MAX / 2), "the features", Param::NFrequencies);
//! assert!(matches!(err, Err(RksError::TooLarge { parameter: Param::NFrequencies, .. })));
//! # Ok::<(), RksError>(())
//! ```

use crate::error::Param;
use ndarray::Array2;

use crate::RksError;

/// A `len`-element vector filled with `value`, or [`RksError::TooLarge`] if it cannot be
/// allocated. `what` says what it holds, `parameter` which parameter sized it.
pub fn filled<T: Clone>(
    len: usize,
    value: T,
    what: &'static str,
    parameter: Param,
) -> Result<Vec<T>, RksError> {
    let too_large = || RksError::TooLarge {
        what,
        parameter,
        bytes: len as u128 * size_of::<T>() as u128,
    };
    // A Vec cannot exceed isize::MAX bytes; try_reserve_exact says so too, but explicitly here.
    if len as u128 * size_of::<T>() as u128 > isize::MAX as u128 {
        return Err(too_large());
    }
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| too_large())?;
    v.resize(len, value);
    Ok(v)
}

/// A zero-filled `rows × cols` array, or [`RksError::TooLarge`] if it cannot be allocated.
pub fn zeros<F: Clone + num_traits::Zero>(
    (rows, cols): (usize, usize),
    what: &'static str,
    parameter: Param,
) -> Result<Array2<F>, RksError> {
    let too_large = || RksError::TooLarge {
        what,
        parameter,
        bytes: rows as u128 * cols as u128 * size_of::<F>() as u128,
    };
    let len = rows.checked_mul(cols).ok_or_else(too_large)?;
    let v = filled(len, F::zero(), what, parameter)?;
    Array2::from_shape_vec((rows, cols), v).map_err(|_| too_large())
}

/// Checks that `bytes` more could be allocated now, without keeping them: a reservation of that
/// size is asked for and given back at once, so nothing is touched or kept. For a structure made
/// of several buffers (a map's parameters in both precisions), one probe of their total before
/// the first is made turns what would be an abort part-way into [`RksError::TooLarge`].
///
/// ```
/// use rks::error::Param;
/// rks::alloc::probe(1 << 20, "the map's parameters", Param::NFrequencies)?;
/// assert!(rks::alloc::probe(1 << 62, "the map's parameters", Param::NFrequencies).is_err());
/// # Ok::<(), rks::RksError>(())
/// ```
pub fn probe(bytes: u128, what: &'static str, parameter: Param) -> Result<(), RksError> {
    let too_large = || RksError::TooLarge {
        what,
        parameter,
        bytes,
    };
    if can_allocate(bytes) {
        Ok(())
    } else {
        Err(too_large())
    }
}

/// Whether `bytes` could be allocated now ([`probe`] without the error, for crates with their
/// own error types): a reservation of that size is asked for and given back at once.
pub fn can_allocate(bytes: u128) -> bool {
    usize::try_from(bytes)
        .ok()
        .filter(|&b| b <= isize::MAX as usize)
        .is_some_and(|len| Vec::<u8>::new().try_reserve_exact(len).is_ok())
}

/// Bytes of memory the system has available for new allocations now: `MemAvailable` of
/// `/proc/meminfo` (Linux; `None` where it cannot be read). Read afresh on each call, since a
/// reservation can succeed where the pages cannot (the kernel over-commits): a computation
/// whose working memory is known up front compares it with this before it starts.
///
/// ```
/// if let Some(bytes) = rks::alloc::available_memory() {
///     assert!(bytes > 0);
/// }
/// ```
pub fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_sizes_are_errors_naming_the_bytes() {
        let err = zeros::<f64>((300, 100_000_000_000), "the features", Param::NFrequencies);
        assert_eq!(
            err,
            Err(RksError::TooLarge {
                what: "the features",
                parameter: Param::NFrequencies,
                bytes: 240_000_000_000_000,
            })
        );
        let message = err.unwrap_err().to_string();
        assert!(
            message.contains("240000000000000 bytes") && message.contains("`n_frequencies`"),
            "{message}"
        );
        assert!(matches!(
            zeros::<f32>((usize::MAX, 3), "x", Param::Rows),
            Err(RksError::TooLarge { .. })
        ));
        assert!(matches!(
            filled(usize::MAX / 4, 0u64, "x", Param::Rows),
            Err(RksError::TooLarge { .. })
        ));
        assert_eq!(
            zeros::<f32>((2, 3), "x", Param::Rows).unwrap(),
            Array2::zeros((2, 3))
        );
        assert_eq!(filled(3, 7u8, "x", Param::Rows).unwrap(), [7, 7, 7]);
    }
}

//! The floating-point types the maps work in: f32 and f64.

use num_traits::{Float, FromPrimitive, ToPrimitive};

/// A float the feature maps accept and produce: implemented for `f32` and `f64` only (sealed).
///
/// Map parameters are stored once (in f64 where it matters) and converted on use, so one map
/// serves both precisions.
pub trait Element:
    Float
    + FromPrimitive
    + ToPrimitive
    + std::fmt::Debug
    + std::fmt::Display
    + std::iter::Sum
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
    + Send
    + Sync
    + Default
    + 'static
    + sealed::Sealed
{
    /// Converts from f64 (rounding to nearest for f32).
    fn from_f64_lossy(v: f64) -> Self;
    /// Widens to f64 (exact).
    fn to_f64_exact(self) -> f64;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

impl Element for f32 {
    #[inline]
    fn from_f64_lossy(v: f64) -> Self {
        v as f32
    }
    #[inline]
    fn to_f64_exact(self) -> f64 {
        self as f64
    }
}

impl Element for f64 {
    #[inline]
    fn from_f64_lossy(v: f64) -> Self {
        v
    }
    #[inline]
    fn to_f64_exact(self) -> f64 {
        self
    }
}

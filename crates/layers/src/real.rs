//! The floating-point types the layers run in: f32 for training the convolutional network (base
//! and head), f64 for the fully connected [`Network`](crate::Network) and for the gradient checks
//! against finite differences (same code, another precision).

use std::fmt::Debug;
use std::iter::Sum;
use std::ops::AddAssign;

use ndarray::{LinalgScalar, ScalarOperand};
use num_traits::Float;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// f32 or f64 (an [`rks::Element`], so the Walsh–Hadamard transform of the rks crate runs in
/// either).
pub trait Real:
    rks::Element
    + Float
    + LinalgScalar
    + ScalarOperand
    + Sum
    + AddAssign
    + Debug
    + Default
    + Send
    + Sync
    + Serialize
    + DeserializeOwned
    + 'static
{
    /// The nearest value of this type.
    fn of(v: f64) -> Self;
    /// The value as f64 (exact).
    fn f64(self) -> f64;
}

impl Real for f32 {
    fn of(v: f64) -> Self {
        v as f32
    }
    fn f64(self) -> f64 {
        f64::from(self)
    }
}

impl Real for f64 {
    fn of(v: f64) -> Self {
        v
    }
    fn f64(self) -> f64 {
        self
    }
}

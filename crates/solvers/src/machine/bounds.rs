//! The fixed-point grid of a fit's exact statistics, from its map and its training rows' ranges.
//!
//! The grid ([`crate::exact::Grid`]) must be known before pass 2 and be the same on every worker,
//! so it comes from what pass 1 merges exactly (each column's min and max, the targets' range or
//! the class set) and from the map's spec, never from the rows of one chunk:
//!
//! - **cos/sin features** (shift-invariant kernels, any projection map): |φ| ≤ n^{-1/2};
//! - **arc-cosine order 0** (step): |φ| ≤ √(2/n);
//! - **arc-cosine order 1** (ReLU, any projection map): φᵢ = √(2/n)·max(0, wᵢ·x) ≤
//!   √(2/n)·Σⱼ|wᵢⱼ|·rⱼ, with rⱼ the largest |scaled xⱼ| over the training rows (from each
//!   column's min and max, through the scaler: affine and monotone, so the extremes map to the
//!   extremes), and W the dense or ORF matrix, or Fastfood's or SORF's columns W·eⱼ;
//! - **Nyström**: ‖φ(x)‖² = k_xᵀ K⁺ k_x ≤ k(x, x) (the Nyström approximation never exceeds the
//!   kernel: the Schur complement is positive semi-definite), so |φᵢ| ≤ √k(x, x): 1 for the
//!   shift-invariant and order-0 arc-cosine kernels, ‖r‖₂/σ for order 1 and the linear kernel
//!   (k(x, x) = ‖x‖²/σ²).
//! - **the linear map**: φⱼ = xⱼ/σ, so |φ| ≤ maxⱼ rⱼ/σ.
//!
//! The grid accepts values up to √2 times a bound, which covers the rounding of the features and
//! of the bound itself.
//!
//! Targets: ±1 one-hot columns for classification; for regression the range of the training
//! targets.

use ndarray::{Array2, ArrayView1, ArrayView2};
use rks::kernel::Activation;
use rks::{AnyMap, Kernel};
use serde::{Deserialize, Serialize};

use super::fit::Prepared;
use crate::error::{Param, Result, invalid};
use crate::exact::Grid;

/// Each input column's min and max and the targets' min and max over the training rows: what a
/// grid is fixed from. Mergeable exactly (min and max are order-independent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranges {
    /// Per input column: the smallest and largest value.
    pub x_min: Vec<f64>,
    /// Per input column: the largest value.
    pub x_max: Vec<f64>,
    /// The smallest target.
    pub y_min: f64,
    /// The largest target.
    pub y_max: f64,
}

impl Ranges {
    /// No rows yet, `dim` columns.
    pub fn new(dim: usize) -> Self {
        Self {
            x_min: vec![f64::INFINITY; dim],
            x_max: vec![f64::NEG_INFINITY; dim],
            y_min: f64::INFINITY,
            y_max: f64::NEG_INFINITY,
        }
    }

    /// The ranges of rows `x` with targets `y` (finite).
    pub fn of(x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Self {
        let mut r = Self::new(x.ncols());
        r.update(x, y);
        r
    }

    /// Widens the ranges to rows `x` (as many columns) with targets `y`.
    pub fn update(&mut self, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) {
        // Row by row (the rows are contiguous): each column still sees its values in row order.
        for row in x.rows() {
            for ((&v, lo), hi) in row.iter().zip(&mut self.x_min).zip(&mut self.x_max) {
                *lo = lo.min(v);
                *hi = hi.max(v);
            }
        }
        for &v in y {
            self.y_min = self.y_min.min(v);
            self.y_max = self.y_max.max(v);
        }
    }

    /// Widens the ranges to another's (same columns).
    pub fn merge(&mut self, other: &Ranges) {
        for (a, b) in self.x_min.iter_mut().zip(&other.x_min) {
            *a = a.min(*b);
        }
        for (a, b) in self.x_max.iter_mut().zip(&other.x_max) {
            *a = a.max(*b);
        }
        self.y_min = self.y_min.min(other.y_min);
        self.y_max = self.y_max.max(other.y_max);
    }

    /// Per column, the largest |scaled x| over the training rows.
    fn reach(&self, prepared: &Prepared) -> Result<Vec<f64>> {
        let d = self.x_min.len();
        let extremes =
            Array2::from_shape_fn(
                (2, d),
                |(i, j)| {
                    if i == 0 { self.x_min[j] } else { self.x_max[j] }
                },
            );
        let scaled = prepared.scaler.transform(extremes.view())?;
        Ok((0..d)
            .map(|j| scaled[[0, j]].abs().max(scaled[[1, j]].abs()))
            .collect())
    }
}

/// The grid of the statistics of a fit with these parts: see the [module docs](self).
pub(super) fn grid(prepared: &Prepared, ranges: &Ranges) -> Result<Grid> {
    let map = &prepared.map;
    let n = map.n_frequencies() as f64;
    let kernel = map.spec().kernel();
    let feature_bound = match map {
        AnyMap::Nystrom(_) => match kernel {
            Kernel::ArcCos1 | Kernel::Linear => l2(&ranges.reach(prepared)?) / map.spec().sigma(),
            _ => 1.0,
        },
        // φⱼ = xⱼ/σ: the largest scaled column's reach.
        AnyMap::Linear(_) => {
            let reach = ranges.reach(prepared)?;
            reach.iter().fold(0.0f64, |a, &r| a.max(r)) / map.spec().sigma()
        }
        _ => match kernel.activation() {
            Activation::CosSin => 1.0 / n.sqrt(),
            Activation::Step => (2.0 / n).sqrt(),
            Activation::Relu => {
                let reach = ranges.reach(prepared)?;
                let largest = largest_projection(map, &reach)?;
                (2.0 / n).sqrt() * largest
            }
            Activation::Identity => {
                return Err(invalid(
                    Param::Grid,
                    "only the linear map makes features x/σ",
                ));
            }
        },
    };
    // Rows of zeros give a zero bound: any positive bound represents them.
    let feature_bound = if feature_bound > 0.0 {
        feature_bound
    } else {
        1.0
    };
    let (lo, hi) = match prepared.labels {
        Some(_) => (-1.0, 1.0),
        None if ranges.y_min <= ranges.y_max => (ranges.y_min, ranges.y_max),
        None => (0.0, 0.0),
    };
    Grid::new(feature_bound, lo, hi)
}

/// maxᵢ Σⱼ |Wᵢⱼ|·rⱼ, the largest |wᵢ·x| over the box |xⱼ| ≤ rⱼ, for a projection map's W:
/// the dense map's and ORF's W as stored; Fastfood's and SORF's columns W·eⱼ by projecting the
/// unit vectors, a block of them at a time (O(d·n log d), no n × d matrix held).
fn largest_projection(map: &AnyMap, reach: &[f64]) -> Result<f64> {
    let row_sums = |w: Array2<f64>| {
        w.rows()
            .into_iter()
            .map(|w| w.iter().zip(reach).map(|(w, r)| w.abs() * r).sum::<f64>())
            .fold(0.0f64, f64::max)
    };
    let project = |basis: ArrayView2<'_, f64>| match map {
        AnyMap::Fastfood(m) => m.project(basis),
        AnyMap::Sorf(m) => m.project(basis),
        _ => unreachable!("only Fastfood and SORF are projected here"),
    };
    match map {
        AnyMap::Dense(dense) => return Ok(row_sums(dense.weights())),
        AnyMap::Orf(orf) => return Ok(row_sums(orf.weights())),
        AnyMap::Fastfood(_) | AnyMap::Sorf(_) => {}
        AnyMap::Nystrom(_) | AnyMap::Linear(_) => {
            return Err(invalid(
                Param::Grid,
                "only a map of frequencies has a projection W",
            ));
        }
    }
    let d = reach.len();
    // Blocks of unit vectors of at most 2²⁰ entries.
    let block = (1 << 20) / d.max(1);
    let block = block.clamp(1, 64);
    let mut sums = vec![0.0f64; map.n_frequencies()];
    for start in (0..d).step_by(block) {
        let len = block.min(d - start);
        let mut basis = Array2::<f64>::zeros((len, d));
        (0..len).for_each(|k| basis[[k, start + k]] = 1.0);
        let columns = project(basis.view())?;
        for (column, r) in columns.rows().into_iter().zip(&reach[start..]) {
            sums.iter_mut()
                .zip(column)
                .for_each(|(s, w)| *s += w.abs() * r);
        }
    }
    Ok(sums.into_iter().fold(0.0, f64::max))
}

fn l2(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

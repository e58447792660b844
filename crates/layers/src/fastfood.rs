//! The adaptive Fastfood layer: y = c · S H G Π H B x + β, with S, G, B (and β) trainable.
//!
//! Yang, Moczulski, Denil, de Freitas, Smola, Song, Wang, "Deep Fried Convnets", ICCV 2015: the
//! Fastfood product of Le, Sarlós & Smola (ICML 2013) used as a fully connected layer d → n whose
//! diagonals are learned by backpropagation. For the input padded with zeros to D = 2^k ≥ d, each
//! of the ⌈n/D⌉ stacked blocks computes
//!
//! ```text
//! a = B x,  h₁ = H a,  p = Π h₁,  q = G p,  h₂ = H q,  y = c · S h₂ + β
//! ```
//!
//! with B, G, S diagonal (D entries each per block), Π a fixed permutation, H the unnormalised
//! Walsh–Hadamard matrix (H² = D·I, applied by [`rks::hadamard::fwht`]) and the first n rows of the
//! stacked blocks kept. The constant c = 1/(σ√D) is the Fastfood normalisation of the rks crate:
//! it is *not* a parameter, so at initialisation S is exactly rks's `scaling()` (the chi-distributed
//! row norms divided by ‖G‖_F) and a layer with everything frozen computes exactly rks's linear
//! projection Vx. Training S is equivalent to training c·S; keeping c outside only keeps the
//! parameters comparable with the random construction.
//!
//! Backward (g = ∂L/∂y for one row, ⊙ element-wise, every factor diagonal, a permutation or the
//! symmetric H):
//!
//! ```text
//! ∂L/∂β = g,  ∂L/∂S = c g ⊙ h₂,  ĝ₂ = H (c S g),  ∂L/∂G = ĝ₂ ⊙ p,
//! ĝ₁ = H Πᵀ (G ĝ₂),  ∂L/∂B = ĝ₁ ⊙ x,  ∂L/∂x = Σ_blocks B ĝ₁ (first d entries)
//! ```
//!
//! so the backward pass costs two more transforms per block and row: O(n log D) like the forward.

use crate::error::Param;
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::check::{check_finite, check_input_dim, check_shape};
use crate::real::Real;
use crate::{LayerError, ROW_CHUNK};

/// Which parameters of an [`AdaptiveFastfood`] layer are learned; the others stay as initialised.
///
/// All `false` ([`Trainable::NONE`]) is plain Fastfood, a fixed random layer; all `true`
/// ([`Trainable::ALL`]) is the adaptive layer of Deep Fried Convnets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trainable {
    /// The scaling diagonal S.
    pub s: bool,
    /// The Gaussian diagonal G.
    pub g: bool,
    /// The sign diagonal B (learned as real numbers, initialised to ±1).
    pub b: bool,
    /// The additive bias β (initialised to 0).
    pub bias: bool,
}

impl Trainable {
    /// Everything learned: the adaptive Fastfood layer.
    pub const ALL: Trainable = Trainable {
        s: true,
        g: true,
        b: true,
        bias: true,
    };
    /// Nothing learned: a fixed random Fastfood projection.
    pub const NONE: Trainable = Trainable {
        s: false,
        g: false,
        b: false,
        bias: false,
    };

    /// True if at least one parameter is learned.
    pub fn any(&self) -> bool {
        self.s || self.g || self.b || self.bias
    }
}

/// The random parameters of the stacked Fastfood blocks, concatenated block after block.
///
/// Each vector has `n_blocks · padded_dim` entries; `permutation[k·D + i]` is a block-local index
/// j < D and block k reads `p[i] = h₁[j]` (gather convention, the same as `rks::Fastfood`).
#[derive(Debug, Clone, PartialEq)]
pub struct FastfoodParts<T = f64> {
    /// S: the scaling diagonals (chi row norms / ‖G‖_F, without 1/(σ√D)).
    pub scaling: Vec<T>,
    /// G: the Gaussian diagonals.
    pub gaussian: Vec<T>,
    /// B: the sign diagonals.
    pub signs: Vec<T>,
    /// Π: the block-local permutations (gather convention).
    pub permutation: Vec<usize>,
}

/// A trainable Fastfood layer R^d → R^n (no activation; the network adds ReLU after it), computed
/// in `T`: f64 by default (the [`Network`](crate::Network)'s precision), f32 in a
/// [`ConvNet`](crate::ConvNet)'s head. The transforms are rks's [`fwht`](rks::hadamard::fwht) of
/// that type; σ (and so c) is kept in f64 and c rounded to `T` once.
///
/// ```
/// use ndarray::array;
/// use rks_layers::{AdaptiveFastfood, Trainable};
///
/// let layer = AdaptiveFastfood::<f64>::new(3, 10, 1.0, 42, Trainable::ALL).unwrap();
/// let x = array![[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]];
/// let (y, cache) = layer.forward_train(x.view()).unwrap();
/// assert_eq!(y.dim(), (2, 10));
/// // Gradient of L = Σ y with respect to every parameter and to the input.
/// let ones = Array2::<f64>::ones((2, 10));
/// # use ndarray::Array2;
/// let (grads, dx) = layer.backward(&cache, ones.view(), true).unwrap();
/// assert_eq!(grads.s.unwrap().len(), layer.n_blocks() * layer.padded_dim());
/// assert_eq!(dx.unwrap().dim(), (2, 3));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct AdaptiveFastfood<T: Real = f64> {
    input_dim: usize,
    output_dim: usize,
    padded_dim: usize,
    sigma: f64,
    s: Vec<T>,
    g: Vec<T>,
    b: Vec<T>,
    perm: Vec<usize>,
    bias: Vec<T>,
    trainable: Trainable,
}

/// What [`AdaptiveFastfood::forward_train`] keeps for the backward pass.
#[derive(Debug, Clone)]
pub struct FastfoodCache<T = f64> {
    /// The input rows (rows × d).
    x: Array2<T>,
    /// Π H B x for every block (rows × n_blocks·D).
    p: Array2<T>,
    /// H G Π H B x for every block (rows × n_blocks·D).
    h2: Array2<T>,
}

/// Gradients of a loss with respect to the parameters of an [`AdaptiveFastfood`] layer, summed
/// over the rows of the batch; `None` for the parameters that are frozen.
#[derive(Debug, Clone, PartialEq)]
pub struct FastfoodGrads<T = f64> {
    /// ∂L/∂S (n_blocks·D entries).
    pub s: Option<Vec<T>>,
    /// ∂L/∂G (n_blocks·D entries).
    pub g: Option<Vec<T>>,
    /// ∂L/∂B (n_blocks·D entries; zero at the padding positions).
    pub b: Option<Vec<T>>,
    /// ∂L/∂β (n entries).
    pub bias: Option<Vec<T>>,
}

impl<T> FastfoodGrads<T> {
    /// No gradient at all (a frozen layer).
    pub fn none() -> Self {
        Self {
            s: None,
            g: None,
            b: None,
            bias: None,
        }
    }
}

impl<T: Real> AdaptiveFastfood<T> {
    /// Builds a layer d → n from a seed: the parameters of the Gaussian-kernel `rks::Fastfood`
    /// map with the same (d, n, σ, seed) (see [`AdaptiveFastfood::from_fastfood`]; in f32 they
    /// are rounded to nearest), β = 0.
    pub fn new(
        input_dim: usize,
        output_dim: usize,
        sigma: f64,
        seed: u64,
        trainable: Trainable,
    ) -> Result<Self, LayerError> {
        crate::init::fastfood_layer(input_dim, output_dim, sigma, seed, trainable)
    }

    /// Builds a layer from explicit parameters (see [`FastfoodParts`] for the layout); β = 0.
    pub fn from_parts(
        input_dim: usize,
        output_dim: usize,
        sigma: f64,
        parts: FastfoodParts<T>,
        trainable: Trainable,
    ) -> Result<Self, LayerError> {
        if input_dim == 0 {
            return Err(LayerError::InvalidParameter {
                name: Param::InputDim,
                reason: "must be at least 1".into(),
            });
        }
        if output_dim == 0 {
            return Err(LayerError::InvalidParameter {
                name: Param::OutputDim,
                reason: "must be at least 1".into(),
            });
        }
        if !(sigma.is_finite() && sigma > 0.0) {
            return Err(LayerError::InvalidParameter {
                name: Param::Sigma,
                reason: format!("must be finite and > 0, got {sigma}"),
            });
        }
        let padded_dim = input_dim.next_power_of_two();
        let n_blocks = output_dim.div_ceil(padded_dim);
        let len = n_blocks * padded_dim;
        for (name, v) in [
            (Param::Scaling, &parts.scaling),
            (Param::Gaussian, &parts.gaussian),
            (Param::Signs, &parts.signs),
        ] {
            if v.len() != len {
                return Err(LayerError::InvalidParameter {
                    name,
                    reason: format!("has {} entries, expected {len}", v.len()),
                });
            }
            if let Some(bad) = v.iter().find(|v| !v.is_finite()) {
                return Err(LayerError::InvalidParameter {
                    name,
                    reason: format!("holds the non-finite value {bad}"),
                });
            }
        }
        if parts.permutation.len() != len {
            return Err(LayerError::InvalidParameter {
                name: Param::Permutation,
                reason: format!("has {} entries, expected {len}", parts.permutation.len()),
            });
        }
        for (k, block) in parts.permutation.chunks(padded_dim).enumerate() {
            let mut seen = vec![false; padded_dim];
            for &j in block {
                if j >= padded_dim || std::mem::replace(&mut seen[j], true) {
                    return Err(LayerError::InvalidParameter {
                        name: Param::Permutation,
                        reason: format!("block {k} is not a permutation of 0..{padded_dim}"),
                    });
                }
            }
        }
        Ok(Self {
            input_dim,
            output_dim,
            padded_dim,
            sigma,
            s: parts.scaling,
            g: parts.gaussian,
            b: parts.signs,
            perm: parts.permutation,
            bias: vec![T::zero(); output_dim],
            trainable,
        })
    }

    /// Input dimension d.
    pub fn input_dim(&self) -> usize {
        self.input_dim
    }
    /// Output dimension n.
    pub fn output_dim(&self) -> usize {
        self.output_dim
    }
    /// D: d rounded up to a power of two.
    pub fn padded_dim(&self) -> usize {
        self.padded_dim
    }
    /// Number of stacked blocks ⌈n/D⌉.
    pub fn n_blocks(&self) -> usize {
        self.s.len() / self.padded_dim
    }
    /// The bandwidth σ of the fixed normalisation c = 1/(σ√D).
    pub fn sigma(&self) -> f64 {
        self.sigma
    }
    /// The fixed normalisation c = 1/(σ√D) (not a parameter).
    pub fn scale(&self) -> f64 {
        1.0 / (self.sigma * (self.padded_dim as f64).sqrt())
    }
    /// Which parameters are learned.
    pub fn trainable(&self) -> Trainable {
        self.trainable
    }
    /// Changes which parameters are learned.
    pub fn set_trainable(&mut self, trainable: Trainable) {
        self.trainable = trainable;
    }
    /// The current parameters S, G, B, Π.
    pub fn parts(&self) -> FastfoodParts<T> {
        FastfoodParts {
            scaling: self.s.clone(),
            gaussian: self.g.clone(),
            signs: self.b.clone(),
            permutation: self.perm.clone(),
        }
    }
    /// The bias β.
    pub fn bias(&self) -> &[T] {
        &self.bias
    }

    /// Number of parameters that influence the output, trainable or not: B at the d real input
    /// positions of each block, all of G, the n used entries of S, and β (padding and the rows
    /// cut from the last block are stored but have no effect, so they are not counted).
    pub fn n_parameters(&self) -> usize {
        self.n_blocks() * (self.input_dim + self.padded_dim) + 2 * self.output_dim
    }

    /// Number of those parameters that are learned under the current [`Trainable`] setting.
    pub fn n_trainable(&self) -> usize {
        let t = self.trainable;
        let k = self.n_blocks();
        usize::from(t.b) * k * self.input_dim
            + usize::from(t.g) * k * self.padded_dim
            + usize::from(t.s) * self.output_dim
            + usize::from(t.bias) * self.output_dim
    }

    /// Forward pass for inference: rows × d → rows × n. Rows run in parallel; each output row
    /// depends only on its input row, so the result is the same for any thread count.
    pub fn forward(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>, LayerError> {
        self.check_input(x)?;
        let mut y = Array2::zeros((x.nrows(), self.output_dim));
        let width = self.s.len();
        y.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(x.axis_iter(Axis(0)))
            .for_each_init(
                || {
                    (
                        vec![T::zero(); width],
                        vec![T::zero(); width],
                        vec![T::zero(); self.input_dim],
                    )
                },
                |(p, h2, xrow), (mut yrow, xr)| {
                    xrow.iter_mut().zip(xr.iter()).for_each(|(d, s)| *d = *s);
                    let yrow = yrow.as_slice_mut().expect("rows of a standard array");
                    self.forward_row(xrow, yrow, p, h2);
                },
            );
        Ok(y)
    }

    /// Forward pass that also returns what [`AdaptiveFastfood::backward`] needs.
    pub fn forward_train(
        &self,
        x: ArrayView2<'_, T>,
    ) -> Result<(Array2<T>, FastfoodCache<T>), LayerError> {
        self.check_input(x)?;
        let rows = x.nrows();
        let width = self.s.len();
        let xs = x.as_standard_layout().into_owned();
        let mut y = Array2::zeros((rows, self.output_dim));
        let mut p = Array2::zeros((rows, width));
        let mut h2 = Array2::zeros((rows, width));
        y.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(p.axis_iter_mut(Axis(0)))
            .zip(h2.axis_iter_mut(Axis(0)))
            .zip(xs.axis_iter(Axis(0)))
            .for_each(|(((mut yrow, mut prow), mut hrow), xrow)| {
                // All four are rows of freshly allocated standard-layout arrays.
                let (Some(y), Some(p), Some(h), Some(x)) = (
                    yrow.as_slice_mut(),
                    prow.as_slice_mut(),
                    hrow.as_slice_mut(),
                    xrow.as_slice(),
                ) else {
                    unreachable!("standard layout rows are contiguous")
                };
                self.forward_row(x, y, p, h);
            });
        Ok((y, FastfoodCache { x: xs, p, h2 }))
    }

    /// Backward pass: given ∂L/∂y (rows × n) for the batch of `cache`, returns the parameter
    /// gradients summed over rows (only for the trainable parameters) and, if `input_grad`, ∂L/∂x.
    ///
    /// Rows are processed in parallel in fixed chunks of [`ROW_CHUNK`] rows whose partial sums are
    /// added in chunk order: the result does not depend on the number of threads.
    pub fn backward(
        &self,
        cache: &FastfoodCache<T>,
        grad_out: ArrayView2<'_, T>,
        input_grad: bool,
    ) -> Result<(FastfoodGrads<T>, Option<Array2<T>>), LayerError> {
        let rows = cache.x.nrows();
        check_shape("grad_out", grad_out, rows, self.output_dim)?;
        let t = self.trainable;
        let need_a = t.b || input_grad; // the second transform is only needed for B and x
        let width = self.s.len();
        let n_chunks = rows.div_ceil(ROW_CHUNK);
        let partials: Vec<(Partial<T>, Array2<T>)> = (0..n_chunks)
            .into_par_iter()
            .map(|c| {
                let lo = c * ROW_CHUNK;
                let hi = (lo + ROW_CHUNK).min(rows);
                let mut acc = Partial::new(t, width, self.output_dim);
                let mut dx = Array2::zeros((if input_grad { hi - lo } else { 0 }, self.input_dim));
                let mut gh = vec![T::zero(); self.padded_dim];
                let mut ga = vec![T::zero(); self.padded_dim];
                let mut gy = vec![T::zero(); self.output_dim];
                for r in lo..hi {
                    gy.iter_mut()
                        .zip(grad_out.row(r).iter())
                        .for_each(|(d, s)| *d = *s);
                    let dxrow = if input_grad {
                        dx.row_mut(r - lo).into_slice()
                    } else {
                        None
                    };
                    self.backward_row(
                        RowCache {
                            x: cache.x.row(r).to_slice().unwrap_or(&[]),
                            p: cache.p.row(r).to_slice().unwrap_or(&[]),
                            h2: cache.h2.row(r).to_slice().unwrap_or(&[]),
                        },
                        &gy,
                        &mut acc,
                        dxrow,
                        need_a,
                        (&mut gh, &mut ga),
                    );
                }
                (acc, dx)
            })
            .collect();
        let mut total = Partial::new(t, width, self.output_dim);
        let mut dx = input_grad.then(|| Array2::zeros((rows, self.input_dim)));
        for (c, (part, dxc)) in partials.into_iter().enumerate() {
            total.add(&part);
            if let Some(dx) = dx.as_mut() {
                let lo = c * ROW_CHUNK;
                dx.slice_axis_mut(Axis(0), (lo..lo + dxc.nrows()).into())
                    .assign(&dxc);
            }
        }
        Ok((total.into_grads(), dx))
    }

    /// Calls `f(parameter, weight_decay_applies)` on every trainable parameter vector in the fixed
    /// order S, G, B, β: the same order as the `Some` fields of [`FastfoodGrads`].
    pub(crate) fn visit_params(&mut self, f: &mut dyn FnMut(&mut [T], bool)) {
        let t = self.trainable;
        for (on, p) in [
            (t.s, &mut self.s),
            (t.g, &mut self.g),
            (t.b, &mut self.b),
            (t.bias, &mut self.bias),
        ] {
            if on {
                // The diagonals and the bias are not weight-decayed: shrinking the diagonals
                // shrinks the whole structured matrix rather than individual weights.
                f(p, false);
            }
        }
    }

    /// The same layer in the precision `U`, every value rounded to nearest (exact when widening).
    pub(crate) fn convert<U: Real>(&self) -> AdaptiveFastfood<U> {
        let r = |v: &[T]| v.iter().map(|&v| U::of(v.f64())).collect();
        AdaptiveFastfood {
            input_dim: self.input_dim,
            output_dim: self.output_dim,
            padded_dim: self.padded_dim,
            sigma: self.sigma,
            s: r(&self.s),
            g: r(&self.g),
            b: r(&self.b),
            perm: self.perm.clone(),
            bias: r(&self.bias),
            trainable: self.trainable,
        }
    }

    /// True if the stored vectors have the lengths and values a layer built by
    /// [`AdaptiveFastfood::from_parts`] has (used when checking a loaded network).
    pub(crate) fn is_consistent(&self) -> bool {
        let parts = self.parts();
        let rebuilt = Self::from_parts(
            self.input_dim,
            self.output_dim,
            self.sigma,
            parts,
            self.trainable,
        );
        rebuilt.is_ok()
            && self.padded_dim == self.input_dim.next_power_of_two()
            && self.bias.len() == self.output_dim
            && self.bias.iter().all(|v| v.is_finite())
    }

    fn check_input(&self, x: ArrayView2<'_, T>) -> Result<(), LayerError> {
        check_input_dim(x, self.input_dim)?;
        check_finite(x)
    }

    /// One row of the forward pass; `p` and `h2` receive the intermediate values (n_blocks·D).
    fn forward_row(&self, x: &[T], y: &mut [T], p: &mut [T], h2: &mut [T]) {
        let dd = self.padded_dim;
        let d = self.input_dim;
        let c = T::of(self.scale());
        let mut a = vec![T::zero(); dd];
        for (k, ((pb, hb), yb)) in p
            .chunks_exact_mut(dd)
            .zip(h2.chunks_exact_mut(dd))
            .zip(y.chunks_mut(dd))
            .enumerate()
        {
            let r = k * dd..(k + 1) * dd;
            let (s, g, b, perm) = (
                &self.s[r.clone()],
                &self.g[r.clone()],
                &self.b[r.clone()],
                &self.perm[r],
            );
            a[..d]
                .iter_mut()
                .zip(b.iter().zip(x.iter()))
                .for_each(|(a, (&b, &x))| *a = b * x);
            a[d..].iter_mut().for_each(|a| *a = T::zero());
            fwht(&mut a);
            for ((pi, &j), hi) in pb.iter_mut().zip(perm.iter()).zip(hb.iter_mut()) {
                *pi = a[j];
                *hi = *pi;
            }
            hb.iter_mut().zip(g.iter()).for_each(|(h, &g)| *h *= g);
            fwht(hb);
            let bias = &self.bias[k * dd..k * dd + yb.len()];
            for (((yi, &hi), &si), &bi) in yb.iter_mut().zip(hb.iter()).zip(s.iter()).zip(bias) {
                // (c·S)·h, the order rks uses (it folds c into S), so a frozen layer with β = 0
                // reproduces `rks::Fastfood::project` bit for bit.
                *yi = (c * si) * hi + bi;
            }
        }
    }

    /// One row of the backward pass, accumulating into `acc` and writing ∂L/∂x into `dx`.
    fn backward_row(
        &self,
        cache: RowCache<'_, T>,
        gy: &[T],
        acc: &mut Partial<T>,
        mut dx: Option<&mut [T]>,
        need_a: bool,
        (gh, ga): (&mut [T], &mut [T]),
    ) {
        let dd = self.padded_dim;
        let d = self.input_dim;
        let c = T::of(self.scale());
        if let Some(db) = acc.bias.as_mut() {
            db.iter_mut().zip(gy).for_each(|(d, &g)| *d += g);
        }
        for (k, gyb) in gy.chunks(dd).enumerate() {
            let r = k * dd..(k + 1) * dd;
            let m = gyb.len();
            let (s, g, b, perm) = (
                &self.s[r.clone()],
                &self.g[r.clone()],
                &self.b[r.clone()],
                &self.perm[r.clone()],
            );
            let (p, h2) = (&cache.p[r.clone()], &cache.h2[r.clone()]);
            if let Some(ds) = acc.s.as_mut() {
                ds[k * dd..k * dd + m]
                    .iter_mut()
                    .zip(gyb.iter().zip(h2))
                    .for_each(|(d, (&g, &h))| *d += c * g * h);
            }
            if !(acc.g.is_some() || need_a) {
                continue;
            }
            gh[..m]
                .iter_mut()
                .zip(gyb.iter().zip(s))
                .for_each(|(o, (&g, &s))| *o = c * s * g);
            gh[m..].iter_mut().for_each(|o| *o = T::zero());
            fwht(gh);
            if let Some(dg) = acc.g.as_mut() {
                dg[r.clone()]
                    .iter_mut()
                    .zip(gh.iter().zip(p))
                    .for_each(|(d, (&g, &p))| *d += g * p);
            }
            if !need_a {
                continue;
            }
            for ((&j, &gq), &gi) in perm.iter().zip(gh.iter()).zip(g) {
                ga[j] = gi * gq;
            }
            fwht(ga);
            if let Some(db) = acc.b.as_mut() {
                db[k * dd..k * dd + d]
                    .iter_mut()
                    .zip(ga.iter().zip(cache.x))
                    .for_each(|(o, (&g, &x))| *o += g * x);
            }
            if let Some(dx) = dx.as_deref_mut() {
                dx.iter_mut()
                    .zip(ga.iter().zip(b))
                    .for_each(|(o, (&g, &b))| *o += g * b);
            }
        }
    }
}

/// Walsh–Hadamard transform of a slice whose length is a power of two by construction.
fn fwht<T: Real>(v: &mut [T]) {
    // The length is the padded dimension, a power of two checked when the layer was built.
    let _ = rks::hadamard::fwht(v);
}

struct RowCache<'a, T> {
    x: &'a [T],
    p: &'a [T],
    h2: &'a [T],
}

/// Gradient sums of one chunk of rows.
struct Partial<T> {
    s: Option<Vec<T>>,
    g: Option<Vec<T>>,
    b: Option<Vec<T>>,
    bias: Option<Vec<T>>,
}

impl<T: Real> Partial<T> {
    fn new(t: Trainable, width: usize, n: usize) -> Self {
        let z = |on: bool, len: usize| on.then(|| vec![T::zero(); len]);
        Self {
            s: z(t.s, width),
            g: z(t.g, width),
            b: z(t.b, width),
            bias: z(t.bias, n),
        }
    }

    fn add(&mut self, other: &Partial<T>) {
        for (a, b) in [
            (&mut self.s, &other.s),
            (&mut self.g, &other.g),
            (&mut self.b, &other.b),
            (&mut self.bias, &other.bias),
        ] {
            if let (Some(a), Some(b)) = (a.as_mut(), b.as_ref()) {
                a.iter_mut().zip(b).for_each(|(a, &b)| *a += b);
            }
        }
    }

    fn into_grads(self) -> FastfoodGrads<T> {
        FastfoodGrads {
            s: self.s,
            g: self.g,
            b: self.b,
            bias: self.bias,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{assert_grad_close, column_major, on_threads, random_matrix};
    use ndarray::Array2;

    /// A layer with random (not ±1 / chi) values everywhere, so every parameter matters.
    fn layer(d: usize, n: usize, seed: u64) -> AdaptiveFastfood {
        let mut l = AdaptiveFastfood::<f64>::new(d, n, 1.3, seed, Trainable::ALL).unwrap();
        let len = l.s.len();
        let r = random_matrix(4, len, seed + 100);
        l.s = r.row(0).to_vec();
        l.g = r.row(1).to_vec();
        l.b = r.row(2).to_vec();
        l.bias = r.row(3).iter().take(n).copied().collect();
        l
    }

    /// The slow, obvious reference: build V as a dense n × d matrix from its factors.
    fn dense_matrix(l: &AdaptiveFastfood) -> Array2<f64> {
        let dd = l.padded_dim;
        let h = Array2::from_shape_fn((dd, dd), |(i, j)| {
            if (i & j).count_ones() % 2 == 0 {
                1.0
            } else {
                -1.0
            }
        });
        let mut rows = Vec::new();
        for k in 0..l.n_blocks() {
            let r = k * dd..(k + 1) * dd;
            let diag = |v: &[f64]| Array2::from_diag(&ndarray::Array1::from(v.to_vec()));
            let pi = Array2::from_shape_fn((dd, dd), |(i, j)| f64::from(l.perm[k * dd + i] == j));
            let v = diag(&l.s[r.clone()])
                .dot(&h)
                .dot(&diag(&l.g[r.clone()]))
                .dot(&pi)
                .dot(&h)
                .dot(&diag(&l.b[r]));
            rows.push(v * l.scale());
        }
        let views: Vec<_> = rows.iter().map(|r| r.view()).collect();
        let full = ndarray::concatenate(Axis(0), &views).unwrap();
        full.slice_axis(Axis(0), (..l.output_dim).into())
            .slice_axis(Axis(1), (..l.input_dim).into())
            .to_owned()
    }

    #[test]
    fn forward_matches_dense_matrix_reference() {
        for (d, n) in [(8, 16), (5, 20), (1, 3), (16, 7)] {
            let l = layer(d, n, 3);
            let x = random_matrix(6, d, 9);
            let want = x.dot(&dense_matrix(&l).t()) + ndarray::Array1::from(l.bias.clone());
            let got = l.forward(x.view()).unwrap();
            let (got_train, _) = l.forward_train(x.view()).unwrap();
            assert_eq!(got, got_train);
            let err = (&got - &want).iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(err < 1e-12, "d={d} n={n}: max error {err}");
        }
    }

    /// L = Σ w ⊙ sin(y): nonlinear in y, so the chain rule through the loss is exercised too.
    fn loss(l: &AdaptiveFastfood, x: &Array2<f64>, w: &Array2<f64>) -> f64 {
        let y = l.forward(x.view()).unwrap();
        (&y.mapv(f64::sin) * w).sum()
    }

    #[test]
    fn gradients_match_central_differences() {
        for (d, n) in [(8, 16), (5, 20)] {
            let l = layer(d, n, 11);
            let x = random_matrix(5, d, 12);
            let w = random_matrix(5, n, 13);
            let (y, cache) = l.forward_train(x.view()).unwrap();
            let gy = &y.mapv(f64::cos) * &w;
            let (grads, dx) = l.backward(&cache, gy.view(), true).unwrap();
            let eps = 1e-6;
            type Field = fn(&mut AdaptiveFastfood) -> &mut Vec<f64>;
            let fields: [(&str, Field, &Option<Vec<f64>>); 4] = [
                ("S", |l| &mut l.s, &grads.s),
                ("G", |l| &mut l.g, &grads.g),
                ("B", |l| &mut l.b, &grads.b),
                ("bias", |l| &mut l.bias, &grads.bias),
            ];
            for (name, field, analytic) in fields {
                let len = field(&mut l.clone()).len();
                let fd: Vec<f64> = (0..len)
                    .map(|i| {
                        let (mut lp, mut lm) = (l.clone(), l.clone());
                        field(&mut lp)[i] += eps;
                        field(&mut lm)[i] -= eps;
                        (loss(&lp, &x, &w) - loss(&lm, &x, &w)) / (2.0 * eps)
                    })
                    .collect();
                assert_grad_close(name, analytic.as_ref().unwrap(), &fd);
            }
            let fd: Vec<f64> = (0..x.len())
                .map(|i| {
                    let (mut xp, mut xm) = (x.clone(), x.clone());
                    xp.as_slice_mut().unwrap()[i] += eps;
                    xm.as_slice_mut().unwrap()[i] -= eps;
                    (loss(&l, &xp, &w) - loss(&l, &xm, &w)) / (2.0 * eps)
                })
                .collect();
            assert_grad_close("x", dx.unwrap().as_slice().unwrap(), &fd);
        }
    }

    #[test]
    fn frozen_parameters_get_no_gradient_and_same_input_gradient() {
        let l = layer(8, 16, 5);
        let x = random_matrix(3, 8, 6);
        let gy = random_matrix(3, 16, 7);
        let (_, cache) = l.forward_train(x.view()).unwrap();
        let (all, dx_all) = l.backward(&cache, gy.view(), true).unwrap();
        let mut frozen = l.clone();
        frozen.set_trainable(Trainable {
            s: false,
            g: true,
            b: false,
            bias: false,
        });
        let (some, dx) = frozen.backward(&cache, gy.view(), true).unwrap();
        assert_eq!(some.s, None);
        assert_eq!(some.b, None);
        assert_eq!(some.g, all.g);
        assert_eq!(dx, dx_all);
        let (none, dx) = frozen.backward(&cache, gy.view(), false).unwrap();
        assert_eq!((none.g, dx), (all.g, None));
    }

    impl AdaptiveFastfood<f64> {
        fn to_f32(&self) -> AdaptiveFastfood<f32> {
            self.convert()
        }
    }

    #[test]
    fn seeded_f32_layer_is_the_f64_layer_rounded() {
        let l64 = AdaptiveFastfood::<f64>::new(7, 40, 1.7, 3, Trainable::ALL).unwrap();
        let l32 = AdaptiveFastfood::<f32>::new(7, 40, 1.7, 3, Trainable::ALL).unwrap();
        assert_eq!(l32, l64.to_f32());
    }

    /// The f32 layer computes the f64 layer's values to f32 accuracy: forward, every parameter
    /// gradient and the input gradient (D = 1,024, as in LeNet's head: 10 rounded transform
    /// stages, so relative errors of a few 10⁻⁶ of the largest entry).
    #[test]
    fn f32_agrees_with_f64() {
        let l64 = layer(800, 1100, 31);
        let l32 = l64.to_f32();
        let x = random_matrix(20, 800, 32);
        let gy = random_matrix(20, 1100, 33);
        let (y64, c64) = l64.forward_train(x.view()).unwrap();
        let (y32, c32) = l32.forward_train(x.mapv(|v| v as f32).view()).unwrap();
        assert_eq!(y32, l32.forward(x.mapv(|v| v as f32).view()).unwrap());
        let (g64, dx64) = l64.backward(&c64, gy.view(), true).unwrap();
        let (g32, dx32) = l32
            .backward(&c32, gy.mapv(|v| v as f32).view(), true)
            .unwrap();
        let close = |name: &str, a: &[f32], b: &[f64]| {
            assert_eq!(a.len(), b.len());
            let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let err = a
                .iter()
                .zip(b)
                .fold(0.0f64, |m, (a, b)| m.max((f64::from(*a) - b).abs()));
            assert!(err <= 2e-5 * scale, "{name}: {err} vs scale {scale}");
        };
        close("y", y32.as_slice().unwrap(), y64.as_slice().unwrap());
        for (name, a, b) in [
            ("S", &g32.s, &g64.s),
            ("G", &g32.g, &g64.g),
            ("B", &g32.b, &g64.b),
            ("bias", &g32.bias, &g64.bias),
        ] {
            close(name, a.as_ref().unwrap(), b.as_ref().unwrap());
        }
        close(
            "x",
            dx32.unwrap().as_slice().unwrap(),
            dx64.unwrap().as_slice().unwrap(),
        );
    }

    #[test]
    fn any_memory_layout_gives_the_same_results() {
        let l = layer(12, 40, 41).to_f32();
        let x = random_matrix(35, 12, 42).mapv(|v| v as f32);
        let gy = random_matrix(35, 40, 43).mapv(|v| v as f32);
        let (xf, gyf) = (column_major(&x), column_major(&gy));
        assert!(xf.row(0).as_slice().is_none());
        assert_eq!(l.forward(x.view()).unwrap(), l.forward(xf.view()).unwrap());
        let (y, cache) = l.forward_train(x.view()).unwrap();
        let (yf, cache_f) = l.forward_train(xf.view()).unwrap();
        assert_eq!(y, yf);
        assert_eq!(
            l.backward(&cache, gy.view(), true).unwrap(),
            l.backward(&cache_f, gyf.view(), true).unwrap()
        );
    }

    #[test]
    fn same_result_for_any_number_of_threads() {
        let l = layer(16, 48, 21);
        let x = random_matrix(70, 16, 22); // several row chunks, one partial
        let gy = random_matrix(70, 48, 23);
        let l32 = l.to_f32();
        let (x32, gy32) = (x.mapv(|v| v as f32), gy.mapv(|v| v as f32));
        let run32 = |threads| {
            on_threads(threads, || {
                let (y, cache) = l32.forward_train(x32.view()).unwrap();
                let (grads, dx) = l32.backward(&cache, gy32.view(), true).unwrap();
                (y, grads, dx)
            })
        };
        assert_eq!(run32(1), run32(3));
        let run = |threads| {
            on_threads(threads, || {
                let (y, cache) = l.forward_train(x.view()).unwrap();
                let (grads, dx) = l.backward(&cache, gy.view(), true).unwrap();
                (y, grads, dx)
            })
        };
        assert_eq!(run(1), run(3));
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let l = layer(4, 8, 1);
        assert!(matches!(
            l.forward(Array2::zeros((2, 3)).view()),
            Err(LayerError::WrongInputDim {
                expected: 4,
                found: 3
            })
        ));
        let mut x = Array2::zeros((2, 4));
        x[[1, 2]] = f64::NAN;
        assert!(matches!(
            l.forward_train(x.view()),
            Err(LayerError::NonFiniteInput { row: 1, col: 2, .. })
        ));
        let (_, cache) = l.forward_train(Array2::zeros((2, 4)).view()).unwrap();
        assert!(matches!(
            l.backward(&cache, Array2::zeros((2, 7)).view(), true),
            Err(LayerError::WrongShape { .. })
        ));
        let mut parts = l.parts();
        parts.permutation[0] = parts.permutation[1];
        assert!(AdaptiveFastfood::from_parts(4, 8, 1.0, parts, Trainable::ALL).is_err());
        assert!(AdaptiveFastfood::<f64>::new(4, 8, 0.0, 1, Trainable::ALL).is_err());
        assert!(AdaptiveFastfood::<f32>::new(0, 8, 1.0, 1, Trainable::ALL).is_err());
        let l32 = layer(4, 8, 1).to_f32();
        let mut x = Array2::<f32>::zeros((2, 4));
        x[[0, 3]] = f32::INFINITY;
        assert!(matches!(
            l32.forward(x.view()),
            Err(LayerError::NonFiniteInput { row: 0, col: 3, value }) if value == f64::INFINITY
        ));
    }

    #[test]
    fn parameter_counts() {
        let l = AdaptiveFastfood::<f32>::new(5, 20, 1.0, 0, Trainable::ALL).unwrap();
        // D = 8, 3 blocks: B 3·5, G 3·8, S 20, β 20.
        assert_eq!(l.n_parameters(), 15 + 24 + 20 + 20);
        let mut f = l.clone();
        f.set_trainable(Trainable::NONE);
        assert_eq!(f.n_trainable(), 0);
    }
}

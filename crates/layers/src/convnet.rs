//! The convolutional network of Deep Fried Convnets (Yang et al., ICCV 2015) on MNIST: Caffe's
//! LeNet base with a choice of head.
//!
//! ```text
//! image 1×28×28 ─conv 20@5×5─▶ 20×24×24 ─max-pool 2─▶ 20×12×12 ─conv 50@5×5─▶ 50×8×8
//!               ─max-pool 2─▶ 800 features ─head─▶ logits ─softmax─▶ classes
//! head: dense reference   800 ─FC 500─▶ ReLU ─FC 10─▶
//!       (adaptive) Fastfood 800 (padded to 1,024) ─Fastfood n─▶ ReLU ─FC 10─▶
//! ```
//!
//! As in Caffe's LeNet there is no non-linearity after the convolutions (max pooling is the only
//! one). Optional dropout acts on the head's hidden activations.
//!
//! The whole network, base and head, runs in one floating-point type `T` ([`Real`]): f32 for
//! training and inference ([`ConvNet`] is `ConvNet<f32>`, what [`ConvNetParams::build`] returns
//! and what network files hold), f64 ([`ConvNetParams::build_as`]) for checking the gradients
//! against finite differences. The layers are the same generic code in both: [`Conv2d`],
//! [`MaxPool2`], [`Dropout`], and the head's [`AdaptiveFastfood`] (whose Walsh–Hadamard transforms
//! are rks's f32 or f64 kernels) or [`Dense`] and the softmax layer. Only the softmax
//! cross-entropy of the n_classes logits is computed in f64 (the logits are widened exactly and
//! the gradient rounded back to `T`).

use crate::error::Param;
use ndarray::{Array2, ArrayView2, Axis};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::conv::Shape3;
use crate::loss::{argmax, softmax_cross_entropy};
use crate::real::Real;
use crate::{
    AdaptiveFastfood, Conv2d, ConvGrads, Dense, DenseInit, Dropout, Hidden, LayerError, MaxPool2,
    NetworkGrads, Trainable,
};

/// The head of a [`ConvNet`]: what replaces LeNet's fully connected layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    /// The reference: a dense layer of `width` units (LeNet: 500), ReLU, the softmax layer.
    Dense { width: usize },
    /// A Fastfood layer of `width` outputs, ReLU, the softmax layer; S, G, B and β learned if
    /// `adaptive`, fixed at their random values otherwise.
    Fastfood { width: usize, adaptive: bool },
}

/// The specification of a [`ConvNet`]; validated by [`ConvNetParams::build`].
///
/// ```
/// use rks_layers::{ConvNetParams, Head};
///
/// let net = ConvNetParams::lenet(Head::Fastfood { width: 1024, adaptive: true }).seed(1).build(10).unwrap();
/// // As Yang et al. count: weights without biases, S, G and B of the Fastfood layer.
/// assert_eq!(net.n_paper_parameters(), 38_812);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ConvNetParams {
    input: Shape3,
    conv: [(usize, usize); 2],
    head: Head,
    dropout: f64,
    seed: u64,
}

impl ConvNetParams {
    /// Caffe's LeNet base (conv 20@5×5, pool, conv 50@5×5, pool) for 1×28×28 images, with `head`,
    /// no dropout, seed 0.
    pub fn lenet(head: Head) -> Self {
        Self {
            input: [1, 28, 28],
            conv: [(20, 5), (50, 5)],
            head,
            dropout: 0.0,
            seed: 0,
        }
    }
    /// The input shape (channels, height, width).
    pub fn input_shape(mut self, input: Shape3) -> Self {
        self.input = input;
        self
    }
    /// The two convolutions as (output channels, kernel size).
    pub fn convolutions(mut self, conv: [(usize, usize); 2]) -> Self {
        self.conv = conv;
        self
    }
    /// Dropout probability on the head's hidden activations (0: none).
    pub fn dropout(mut self, p: f64) -> Self {
        self.dropout = p;
        self
    }
    /// The seed every initial value is derived from.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Builds the network for `n_classes` classes, in f32 (see [`ConvNetParams::build_as`]).
    pub fn build(&self, n_classes: usize) -> Result<ConvNet, LayerError> {
        self.build_as::<f32>(n_classes)
    }

    /// Builds the network for `n_classes` classes in the precision `T`. Every initial value is
    /// drawn in f64 and rounded to `T`, so the f32 network of a seed is its f64 network rounded
    /// (f64 is for gradient checks; training and files use f32).
    ///
    /// ```
    /// use rks_layers::{ConvNetParams, Head};
    ///
    /// let p = ConvNetParams::lenet(Head::Dense { width: 20 }).seed(2);
    /// let (n32, n64) = (p.build(10).unwrap(), p.build_as::<f64>(10).unwrap());
    /// assert_eq!(n32.output().weights(), &n64.output().weights().mapv(|v| v as f32));
    /// ```
    pub fn build_as<T: Real>(&self, n_classes: usize) -> Result<ConvNet<T>, LayerError> {
        if n_classes < 2 {
            return Err(LayerError::InvalidParameter {
                name: Param::NClasses,
                reason: format!("need at least 2 classes, got {n_classes}"),
            });
        }
        // One seed per layer, drawn in layer order.
        let mut seeds = ChaCha8Rng::seed_from_u64(self.seed);
        let conv1 = Conv2d::new(self.input, self.conv[0].0, self.conv[0].1, seeds.random())?;
        let pool1 = MaxPool2::new(conv1.output_shape())?;
        let conv2 = Conv2d::new(
            pool1.output_shape(),
            self.conv[1].0,
            self.conv[1].1,
            seeds.random(),
        )?;
        let pool2 = MaxPool2::new(conv2.output_shape())?;
        let d = pool2.output_dim();
        let seed = seeds.random();
        let hidden = match self.head {
            Head::Dense { width } => Hidden::Dense(Dense::new(d, width, DenseInit::He, seed)?),
            Head::Fastfood { width, adaptive } => {
                let t = if adaptive {
                    Trainable::ALL
                } else {
                    Trainable::NONE
                };
                // σ = √(d/2), the network's default (pre-activations of variance ≈ 2 for inputs
                // of unit variance).
                Hidden::Fastfood(AdaptiveFastfood::new(
                    d,
                    width,
                    (d as f64 / 2.0).sqrt(),
                    seed,
                    t,
                )?)
            }
        };
        let output = Dense::new(
            hidden.output_dim(),
            n_classes,
            DenseInit::Glorot,
            seeds.random(),
        )?;
        Ok(ConvNet {
            conv1,
            pool1,
            conv2,
            pool2,
            hidden,
            dropout: Dropout::new(self.dropout)?,
            output,
        })
    }
}

/// A LeNet-style convolutional network with a dense or (adaptive) Fastfood head, every layer in
/// `T` (f32 by default; f64 for gradient checks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ConvNet<T: Real = f32> {
    pub(crate) conv1: Conv2d<T>,
    pub(crate) pool1: MaxPool2,
    pub(crate) conv2: Conv2d<T>,
    pub(crate) pool2: MaxPool2,
    pub(crate) hidden: Hidden<T>,
    pub(crate) dropout: Dropout,
    pub(crate) output: Dense<T>,
}

/// Gradients of the mean loss of a batch with respect to every trainable parameter of a
/// [`ConvNet`].
#[derive(Debug, Clone, PartialEq)]
pub struct ConvNetGrads<T = f32> {
    /// The first convolution.
    pub conv1: ConvGrads<T>,
    /// The second convolution.
    pub conv2: ConvGrads<T>,
    /// The head: its hidden layer and the softmax layer.
    pub head: NetworkGrads<T>,
}

impl<T: Real> ConvNetGrads<T> {
    /// The gradient vectors in the order of [`ConvNet::visit_params`]: the convolutions' W and
    /// b, then the head's.
    pub(crate) fn slices(&self) -> Vec<&[T]> {
        let mut out: Vec<&[T]> = [&self.conv1, &self.conv2]
            .into_iter()
            .flat_map(|g| [g.weights.as_slice(), g.bias.as_slice()])
            .flatten()
            .collect();
        out.extend(self.head.slices());
        out
    }
}

impl<T: Real> ConvNet<T> {
    /// Values per input image.
    pub fn input_dim(&self) -> usize {
        self.conv1.input_dim()
    }
    /// The input shape (channels, height, width).
    pub fn input_shape(&self) -> Shape3 {
        self.conv1.input_shape()
    }
    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.output.output_dim()
    }
    /// The two convolutions.
    pub fn convolutions(&self) -> [&Conv2d<T>; 2] {
        [&self.conv1, &self.conv2]
    }
    /// The head's hidden layer.
    pub fn hidden(&self) -> &Hidden<T> {
        &self.hidden
    }
    /// The softmax layer.
    pub fn output(&self) -> &Dense<T> {
        &self.output
    }
    /// The dropout on the head's hidden activations.
    pub fn dropout(&self) -> Dropout {
        self.dropout
    }

    /// Every parameter that influences the output, biases included (Fastfood: as
    /// [`AdaptiveFastfood::n_parameters`] counts).
    pub fn n_parameters(&self) -> usize {
        self.conv1.n_parameters()
            + self.conv2.n_parameters()
            + self.hidden.n_parameters()
            + self.output.n_parameters()
    }

    /// Parameters as Yang et al. (ICCV 2015, Table 1) count them: the weights of the
    /// convolutions and dense layers without their biases, and for a Fastfood layer, adaptive or
    /// not, its S, G and B over all n_blocks·D positions.
    pub fn n_paper_parameters(&self) -> usize {
        let hidden = match &self.hidden {
            Hidden::Dense(l) => l.weights().len(),
            Hidden::Fastfood(l) => 3 * l.n_blocks() * l.padded_dim(),
        };
        self.conv1.n_weights() + self.conv2.n_weights() + hidden + self.output.weights().len()
    }

    /// Class scores before the softmax for images scaled as in training (rows × n_classes),
    /// computed in `T` and widened exactly to f64; in blocks of 256 images to bound memory.
    pub fn logits(&self, x: ArrayView2<'_, T>) -> Result<Array2<f64>, LayerError> {
        self.check_input(x)?;
        let mut out = Array2::zeros((x.nrows(), self.n_classes()));
        for (xb, mut ob) in x
            .axis_chunks_iter(Axis(0), 256)
            .zip(out.axis_chunks_iter_mut(Axis(0), 256))
        {
            let f = self.features(xb)?;
            let mut h = self.hidden.forward(f.view())?;
            h.mapv_inplace(relu);
            ob.assign(&self.output.forward(h.view())?.mapv(Real::f64));
        }
        Ok(out)
    }

    /// The most probable class of every image.
    pub fn predict(&self, x: ArrayView2<'_, T>) -> Result<Vec<usize>, LayerError> {
        Ok(self
            .logits(x)?
            .rows()
            .into_iter()
            .map(|r| argmax(r.iter().copied()))
            .collect())
    }

    /// Mean cross-entropy and accuracy on labelled images.
    pub fn evaluate(
        &self,
        x: ArrayView2<'_, T>,
        labels: &[usize],
    ) -> Result<(f64, f64), LayerError> {
        self.check_labels(x.nrows(), labels)?;
        let logits = self.logits(x)?;
        let (loss, correct, _) = softmax_cross_entropy(logits.view(), labels);
        Ok((loss, correct as f64 / labels.len().max(1) as f64))
    }

    /// Mean cross-entropy of the batch, the number of correctly classified images, and the
    /// gradients of every trainable parameter. `dropout_seed` draws the dropout mask (unused
    /// without dropout).
    pub fn loss_and_gradients(
        &self,
        x: ArrayView2<'_, T>,
        labels: &[usize],
        dropout_seed: u64,
    ) -> Result<(f64, usize, ConvNetGrads<T>), LayerError> {
        self.check_input(x)?;
        self.check_labels(x.nrows(), labels)?;
        let c1 = self.conv1.forward(x)?;
        let (p1, pc1) = self.pool1.forward_train(c1.view())?;
        drop(c1);
        let c2 = self.conv2.forward(p1.view())?;
        let (p2, pc2) = self.pool2.forward_train(c2.view())?;
        drop(c2);
        let (z, hidden_cache) = self.hidden.forward_train(p2.view())?;
        let h = z.mapv(relu);
        let (h, mask) = if self.dropout.p() > 0.0 {
            let (h, m) = self.dropout.forward_train(h.view(), dropout_seed);
            (h, Some(m))
        } else {
            (h, None)
        };
        let (logits, oc) = self.output.forward_train(h.view())?;
        // The loss of the few logits in f64 (exact widening), its gradient rounded back to T.
        let (loss, correct, g_logits) =
            softmax_cross_entropy(logits.mapv(Real::f64).view(), labels);
        let g_logits = g_logits.mapv(T::of);
        let (output, gh) = self.output.backward(&oc, g_logits.view(), true)?;
        let mut gh = gh.expect("input gradient requested");
        if let Some(m) = &mask {
            gh = self.dropout.backward(m, gh.view())?;
        }
        gh.zip_mut_with(&z, |g, &z| {
            if z <= T::zero() {
                *g = T::zero()
            }
        });
        let (hidden, gf) = self.hidden.backward(&hidden_cache, gh.view(), true)?;
        let gf = gf.expect("input gradient requested");
        let gc2 = self.pool2.backward(&pc2, gf.view())?;
        let (conv2, gp1) = self.conv2.backward(p1.view(), gc2.view(), true)?;
        let gc1 = self
            .pool1
            .backward(&pc1, gp1.expect("input gradient requested").view())?;
        let (conv1, _) = self.conv1.backward(x, gc1.view(), false)?;
        Ok((
            loss,
            correct,
            ConvNetGrads {
                conv1,
                conv2,
                head: NetworkGrads {
                    hidden: vec![hidden],
                    output,
                },
            },
        ))
    }

    /// Calls `f(parameter, weight_decay_applies)` on every trainable parameter: the first
    /// convolution's W and b, the second's, then the head's in the order of [`NetworkGrads`]'s
    /// vectors (the order of [`ConvNetGrads::slices`]).
    pub(crate) fn visit_params(&mut self, f: &mut dyn FnMut(&mut [T], bool)) {
        self.conv1.visit_params(f);
        self.conv2.visit_params(f);
        self.hidden.visit_params(f);
        self.output.visit_params(f);
    }

    /// True if every parameter is finite.
    pub(crate) fn params_finite(&mut self) -> bool {
        let mut ok = true;
        self.visit_params(&mut |p, _| ok &= p.iter().all(|v| v.is_finite()));
        ok
    }

    /// Checks that the layers chain and hold finite values (for loaded networks).
    pub(crate) fn check_consistent(&self) -> Result<(), LayerError> {
        let hidden_ok = self.hidden.is_consistent();
        let ok = self.conv1.is_consistent()
            && self.conv2.is_consistent()
            && self.pool1.input_shape() == self.conv1.output_shape()
            && self.conv2.input_shape() == self.pool1.output_shape()
            && self.pool2.input_shape() == self.conv2.output_shape()
            && hidden_ok
            && self.hidden.input_dim() == self.pool2.output_dim()
            && self.output.is_consistent()
            && self.output.is_finite()
            && self.output.input_dim() == self.hidden.output_dim()
            && self.output.output_dim() >= 2
            && (0.0..1.0).contains(&self.dropout.p());
        if ok {
            Ok(())
        } else {
            Err(rks::envelope::FileError::Corrupt {
                what: crate::persist::NETWORK_FILE.what,
                reason: "the layers of the convolutional network do not chain".into(),
            }
            .into())
        }
    }

    /// The 800 (for LeNet) features of the base.
    fn features(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>, LayerError> {
        let c1 = self.conv1.forward(x)?;
        let p1 = self.pool1.forward(c1.view())?;
        let c2 = self.conv2.forward(p1.view())?;
        self.pool2.forward(c2.view())
    }

    fn check_input(&self, x: ArrayView2<'_, T>) -> Result<(), LayerError> {
        if x.ncols() != self.input_dim() {
            return Err(LayerError::WrongInputDim {
                expected: self.input_dim(),
                found: x.ncols(),
            });
        }
        if let Some(((row, col), &v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(LayerError::NonFiniteInput {
                row,
                col,
                value: v.f64(),
            });
        }
        Ok(())
    }

    pub(crate) fn check_labels(&self, rows: usize, labels: &[usize]) -> Result<(), LayerError> {
        if labels.len() != rows {
            return Err(LayerError::LabelCount {
                rows,
                labels: labels.len(),
            });
        }
        let k = self.n_classes();
        if let Some((row, &t)) = labels.iter().enumerate().find(|(_, t)| **t >= k) {
            return Err(LayerError::BadLabel {
                row,
                value: t as f64,
                n_classes: k,
            });
        }
        Ok(())
    }
}

fn relu<T: Real>(v: T) -> T {
    v.max(T::zero())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{HEADS, assert_grad_close, on_threads, random_matrix};
    use ndarray::ShapeBuilder;

    fn params(head: Head, dropout: f64) -> ConvNetParams {
        ConvNetParams::lenet(head)
            .input_shape([2, 11, 10])
            .convolutions([(3, 3), (4, 2)])
            .dropout(dropout)
            .seed(3)
    }

    fn data() -> (Array2<f64>, Vec<usize>) {
        let x = random_matrix(19, 220, 4);
        let y = (0..19).map(|i| i % 3).collect();
        (x, y)
    }

    fn small(head: Head, dropout: f64) -> (ConvNet, Array2<f32>, Vec<usize>) {
        let (x, y) = data();
        (
            params(head, dropout).build(3).unwrap(),
            x.mapv(|v| v as f32),
            y,
        )
    }

    /// The network with every parameter moved by `by` (laid out as [`ConvNetGrads::slices`]).
    fn moved<T: Real>(net: &ConvNet<T>, by: &[T]) -> ConvNet<T> {
        let mut n = net.clone();
        let mut at = 0;
        n.visit_params(&mut |p, _| {
            for (v, &d) in p.iter_mut().zip(&by[at..]) {
                *v += d;
            }
            at += p.len();
        });
        assert_eq!(at, by.len());
        n
    }

    /// The whole network in f64, every parameter entry by entry against a central difference
    /// (ε = 10⁻⁶; the same tolerance as each layer's own check), for every head, with and without
    /// dropout: the f64 instantiation of the same code that trains in f32.
    #[test]
    fn f64_gradients_match_central_differences() {
        let (x, y) = data();
        for head in HEADS {
            for dropout in [0.0, 0.3] {
                let net = params(head, dropout).build_as::<f64>(3).unwrap();
                let (_, _, g) = net.loss_and_gradients(x.view(), &y, 17).unwrap();
                let g = g.slices().concat();
                let eps = 1e-6;
                let fd: Vec<f64> = (0..g.len())
                    .map(|i| {
                        let mut d = vec![0.0; g.len()];
                        d[i] = eps;
                        let lp = moved(&net, &d).loss_and_gradients(x.view(), &y, 17);
                        d[i] = -eps;
                        let lm = moved(&net, &d).loss_and_gradients(x.view(), &y, 17);
                        (lp.unwrap().0 - lm.unwrap().0) / (2.0 * eps)
                    })
                    .collect();
                assert_grad_close(&format!("{head:?} p={dropout}"), &g, &fd);
            }
        }
    }

    /// The f32 network (what trains) against a central difference along a random direction d of
    /// all parameters: (L(θ + εd) − L(θ − εd)) / 2ε ≈ ∇L·d. In f32 the rounding of the loss needs
    /// a step as large as ε = 10⁻⁴, where some ReLU or max-pool switches along the way (the f64
    /// network's difference is off by up to 2 % too for some directions), so the f64 network is
    /// the referee: the f32 difference must equal the f64 one at the same step and direction to
    /// 0.5 % of the slope (seen: 0.01–0.16 %, the rounding of the f32 loss divided by 2ε), and
    /// the f32 slope the f64 slope to 10⁻⁵ (seen: ≤ 10⁻⁶; the f64 gradient itself is checked
    /// entry by entry above).
    #[test]
    fn f32_gradient_matches_a_directional_central_difference() {
        let (x, y) = data();
        for head in HEADS {
            for dropout in [0.0, 0.3] {
                let p = params(head, dropout);
                let (n32, n64) = (p.build(3).unwrap(), p.build_as::<f64>(3).unwrap());
                let x32 = x.mapv(|v| v as f32);
                let (_, _, g32) = n32.loss_and_gradients(x32.view(), &y, 17).unwrap();
                let (_, _, g64) = n64.loss_and_gradients(x.view(), &y, 17).unwrap();
                let (g32, g64) = (g32.slices().concat(), g64.slices().concat());
                let d = random_matrix(1, g64.len(), 5);
                let d = d.as_slice().unwrap();
                let d32: Vec<f32> = d.iter().map(|&v| v as f32).collect();
                let slope32: f64 = g32.iter().zip(&d32).map(|(g, d)| f64::from(g * d)).sum();
                let slope64: f64 = g64.iter().zip(d).map(|(g, d)| g * d).sum();
                let eps = 1e-4;
                let fd32 = {
                    let loss = |sign: f32| {
                        let by: Vec<f32> = d32.iter().map(|v| sign * eps as f32 * v).collect();
                        let n = moved(&n32, &by);
                        n.loss_and_gradients(x32.view(), &y, 17).unwrap().0
                    };
                    (loss(1.0) - loss(-1.0)) / (2.0 * f64::from(eps as f32))
                };
                let fd64 = {
                    let loss = |sign: f64| {
                        let by: Vec<f64> = d.iter().map(|v| sign * eps * v).collect();
                        let n = moved(&n64, &by);
                        n.loss_and_gradients(x.view(), &y, 17).unwrap().0
                    };
                    (loss(1.0) - loss(-1.0)) / (2.0 * eps)
                };
                let at = format!(
                    "{head:?} p={dropout}: f32 {fd32} vs {slope32}, f64 {fd64} vs {slope64}"
                );
                assert!((slope32 - slope64).abs() <= 1e-5 * slope64.abs(), "{at}");
                assert!((fd32 - fd64).abs() <= 5e-3 * slope64.abs(), "{at}");
            }
        }
    }

    /// The f32 network is the f64 network of the same seed rounded, and computes its loss,
    /// logits and gradients to f32 accuracy.
    #[test]
    fn f32_agrees_with_f64() {
        let (x, y) = data();
        for head in HEADS {
            let p = params(head, 0.2);
            let (n32, n64) = (p.build(3).unwrap(), p.build_as::<f64>(3).unwrap());
            let mut rounded = Vec::new();
            n64.clone()
                .visit_params(&mut |p, _| rounded.extend(p.iter().map(|&v| v as f32)));
            let mut got = Vec::new();
            n32.clone()
                .visit_params(&mut |p, _| got.extend_from_slice(p));
            assert_eq!(got, rounded);
            let x32 = x.mapv(|v| v as f32);
            let (l32, c32, g32) = n32.loss_and_gradients(x32.view(), &y, 5).unwrap();
            let (l64, c64, g64) = n64.loss_and_gradients(x.view(), &y, 5).unwrap();
            assert!((l32 - l64).abs() <= 1e-5 * l64, "{head:?}: {l32} vs {l64}");
            assert_eq!(c32, c64);
            let (g32, g64) = (g32.slices().concat(), g64.slices().concat());
            let scale = g64.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (a, b) in g32.iter().zip(&g64) {
                assert!(
                    (f64::from(*a) - b).abs() <= 1e-4 * scale,
                    "{head:?}: {a} vs {b}"
                );
            }
            let (z32, z64) = (
                n32.logits(x32.view()).unwrap(),
                n64.logits(x.view()).unwrap(),
            );
            let err = (&z32 - &z64).iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(err < 1e-5, "{head:?}: {err}");
        }
    }

    #[test]
    fn same_result_for_any_number_of_threads() {
        for head in HEADS {
            let (net, x, y) = small(head, 0.2);
            let run = |threads| {
                on_threads(threads, || {
                    let (loss, _, g) = net.loss_and_gradients(x.view(), &y, 1).unwrap();
                    (loss, g, net.logits(x.view()).unwrap())
                })
            };
            assert_eq!(run(1), run(2));
            assert_eq!(run(1), run(3));
        }
    }

    /// Images in a column-major array (every row strided) give the same bits as in a standard
    /// one, through the base and the f32 head.
    #[test]
    fn any_memory_layout_gives_the_same_results() {
        for head in HEADS {
            let (net, x, y) = small(head, 0.2);
            let mut xf = Array2::zeros(x.raw_dim().f());
            xf.assign(&x);
            assert!(xf.row(0).as_slice().is_none());
            assert_eq!(
                net.loss_and_gradients(x.view(), &y, 1).unwrap(),
                net.loss_and_gradients(xf.view(), &y, 1).unwrap()
            );
            assert_eq!(
                net.logits(x.view()).unwrap(),
                net.logits(xf.view()).unwrap()
            );
        }
    }

    #[test]
    fn paper_parameter_counts() {
        let count = |head| {
            ConvNetParams::lenet(head)
                .build(10)
                .unwrap()
                .n_paper_parameters()
        };
        assert_eq!(count(Head::Dense { width: 500 }), 430_500);
        assert_eq!(
            count(Head::Fastfood {
                width: 1024,
                adaptive: false
            }),
            38_812
        );
        assert_eq!(
            count(Head::Fastfood {
                width: 2048,
                adaptive: true
            }),
            52_124
        );
        let net = ConvNetParams::lenet(Head::Dense { width: 500 })
            .build(10)
            .unwrap();
        assert_eq!(net.n_parameters(), 430_500 + 20 + 50 + 500 + 10);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let (net, x, y) = small(Head::Dense { width: 4 }, 0.0);
        assert!(matches!(
            net.logits(x.slice_axis(ndarray::Axis(1), (1..).into()).view()),
            Err(LayerError::WrongInputDim { .. })
        ));
        assert!(matches!(
            net.loss_and_gradients(x.view(), &y[1..], 0),
            Err(LayerError::LabelCount { .. })
        ));
        let mut bad = x.clone();
        bad[[2, 5]] = f32::NAN;
        assert!(matches!(
            net.evaluate(bad.view(), &y),
            Err(LayerError::NonFiniteInput { row: 2, col: 5, .. })
        ));
        assert!(
            ConvNetParams::lenet(Head::Dense { width: 4 })
                .dropout(1.0)
                .build(10)
                .is_err()
        );
        assert!(
            ConvNetParams::lenet(Head::Dense { width: 4 })
                .input_shape([1, 8, 8])
                .build(10)
                .is_err()
        );
    }
}

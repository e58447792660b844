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
//! one). The base runs in f32; the head uses this crate's f64 [`Dense`] and [`AdaptiveFastfood`]
//! layers (the 800 features are widened exactly), whose cost is small next to the convolutions.
//! Optional dropout acts on the head's hidden activations.

use crate::error::Param;
use ndarray::{Array2, ArrayView2, Axis};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::conv::Shape3;
use crate::loss::{argmax, softmax_cross_entropy};
use crate::{
    AdaptiveFastfood, Conv2d, ConvGrads, Dense, DenseInit, Dropout, Hidden, HiddenGrads,
    LayerError, MaxPool2, NetworkGrads, Trainable,
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

    /// Builds the network for `n_classes` classes.
    pub fn build(&self, n_classes: usize) -> Result<ConvNet, LayerError> {
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

/// A LeNet-style convolutional network with a dense or (adaptive) Fastfood head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvNet {
    conv1: Conv2d<f32>,
    pool1: MaxPool2,
    conv2: Conv2d<f32>,
    pool2: MaxPool2,
    hidden: Hidden,
    dropout: Dropout,
    output: Dense,
}

/// Gradients of the mean loss of a batch with respect to every trainable parameter of a
/// [`ConvNet`].
#[derive(Debug, Clone, PartialEq)]
pub struct ConvNetGrads {
    /// The first convolution.
    pub conv1: ConvGrads<f32>,
    /// The second convolution.
    pub conv2: ConvGrads<f32>,
    /// The head: its hidden layer and the softmax layer.
    pub head: NetworkGrads,
}

impl ConvNetGrads {
    /// The f32 gradients in the order of [`ConvNet::visit_f32`].
    pub(crate) fn f32_slices(&self) -> Vec<&[f32]> {
        [&self.conv1, &self.conv2]
            .into_iter()
            .flat_map(|g| [g.weights.as_slice(), g.bias.as_slice()])
            .flatten()
            .collect()
    }
}

impl ConvNet {
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
    pub fn convolutions(&self) -> [&Conv2d<f32>; 2] {
        [&self.conv1, &self.conv2]
    }
    /// The head's hidden layer.
    pub fn hidden(&self) -> &Hidden {
        &self.hidden
    }
    /// The softmax layer.
    pub fn output(&self) -> &Dense {
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

    /// Class scores before the softmax for images scaled as in training (rows × n_classes);
    /// computed in blocks of 256 images to bound memory.
    pub fn logits(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f64>, LayerError> {
        self.check_input(x)?;
        let mut out = Array2::zeros((x.nrows(), self.n_classes()));
        for (xb, mut ob) in x
            .axis_chunks_iter(Axis(0), 256)
            .zip(out.axis_chunks_iter_mut(Axis(0), 256))
        {
            let f = self.features(xb)?;
            let mut h = match &self.hidden {
                Hidden::Dense(l) => l.forward(f.view())?,
                Hidden::Fastfood(l) => l.forward(f.view())?,
            };
            h.mapv_inplace(|v| v.max(0.0));
            ob.assign(&self.output.forward(h.view())?);
        }
        Ok(out)
    }

    /// The most probable class of every image.
    pub fn predict(&self, x: ArrayView2<'_, f32>) -> Result<Vec<usize>, LayerError> {
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
        x: ArrayView2<'_, f32>,
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
        x: ArrayView2<'_, f32>,
        labels: &[usize],
        dropout_seed: u64,
    ) -> Result<(f64, usize, ConvNetGrads), LayerError> {
        self.check_input(x)?;
        self.check_labels(x.nrows(), labels)?;
        let c1 = self.conv1.forward(x)?;
        let (p1, pc1) = self.pool1.forward_train(c1.view())?;
        drop(c1);
        let c2 = self.conv2.forward(p1.view())?;
        let (p2, pc2) = self.pool2.forward_train(c2.view())?;
        drop(c2);
        let f = p2.mapv(f64::from);
        let (z, (hc_dense, hc_ff)) = match &self.hidden {
            Hidden::Dense(l) => {
                let (z, c) = l.forward_train(f.view())?;
                (z, (Some(c), None))
            }
            Hidden::Fastfood(l) => {
                let (z, c) = l.forward_train(f.view())?;
                (z, (None, Some(c)))
            }
        };
        let h = z.mapv(|v| v.max(0.0));
        let (h, mask) = if self.dropout.p() > 0.0 {
            let (h, m) = self.dropout.forward_train(h.view(), dropout_seed);
            (h, Some(m))
        } else {
            (h, None)
        };
        let (logits, oc) = self.output.forward_train(h.view())?;
        let (loss, correct, g_logits) = softmax_cross_entropy(logits.view(), labels);
        let (output, gh) = self.output.backward(&oc, g_logits.view(), true)?;
        let mut gh = gh.expect("input gradient requested");
        if let Some(m) = &mask {
            gh = self.dropout.backward(m, gh.view())?;
        }
        gh.zip_mut_with(&z, |g, &z| {
            if z <= 0.0 {
                *g = 0.0
            }
        });
        let (hidden, gf) = match (&self.hidden, hc_dense, hc_ff) {
            (Hidden::Dense(l), Some(c), _) => {
                let (g, gx) = l.backward(&c, gh.view(), true)?;
                (HiddenGrads::Dense(g), gx)
            }
            (Hidden::Fastfood(l), _, Some(c)) => {
                let (g, gx) = l.backward(&c, gh.view(), true)?;
                (HiddenGrads::Fastfood(g), gx)
            }
            _ => unreachable!("the cache comes from the same layer"),
        };
        let gf = gf.expect("input gradient requested").mapv(|v| v as f32);
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

    /// Calls `f(parameter, weight_decay_applies)` on the f32 parameters: the first convolution's
    /// W and b, then the second's.
    pub(crate) fn visit_f32(&mut self, f: &mut dyn FnMut(&mut [f32], bool)) {
        self.conv1.visit_params(f);
        self.conv2.visit_params(f);
    }

    /// Calls `f(parameter, weight_decay_applies)` on the f64 (head) parameters, in the order of
    /// [`NetworkGrads`]'s vectors.
    pub(crate) fn visit_f64(&mut self, f: &mut dyn FnMut(&mut [f64], bool)) {
        match &mut self.hidden {
            Hidden::Dense(l) => l.visit_params(f),
            Hidden::Fastfood(l) => l.visit_params(f),
        }
        self.output.visit_params(f);
    }

    /// True if every parameter is finite.
    pub(crate) fn params_finite(&mut self) -> bool {
        let mut ok = true;
        self.visit_f32(&mut |p, _| ok &= p.iter().all(|v| v.is_finite()));
        self.visit_f64(&mut |p, _| ok &= p.iter().all(|v| v.is_finite()));
        ok
    }

    /// Checks that the layers chain and hold finite values (for loaded networks).
    pub(crate) fn check_consistent(&self) -> Result<(), LayerError> {
        let hidden_ok = match &self.hidden {
            Hidden::Dense(l) => l.is_consistent() && l.is_finite(),
            Hidden::Fastfood(l) => l.is_consistent(),
        };
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

    /// The 800 (for LeNet) features of the base, widened to f64.
    fn features(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f64>, LayerError> {
        let c1 = self.conv1.forward(x)?;
        let p1 = self.pool1.forward(c1.view())?;
        let c2 = self.conv2.forward(p1.view())?;
        Ok(self.pool2.forward(c2.view())?.mapv(f64::from))
    }

    fn check_input(&self, x: ArrayView2<'_, f32>) -> Result<(), LayerError> {
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
                value: f64::from(v),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::random_matrix;

    fn small(head: Head, dropout: f64) -> (ConvNet, Array2<f32>, Vec<usize>) {
        let net = ConvNetParams::lenet(head)
            .input_shape([2, 11, 10])
            .convolutions([(3, 3), (4, 2)])
            .dropout(dropout)
            .seed(3)
            .build(3)
            .unwrap();
        let x = random_matrix(19, 220, 4).mapv(|v| v as f32);
        let y = (0..19).map(|i| i % 3).collect();
        (net, x, y)
    }

    /// The gradient against a central difference along a random direction of all parameters:
    /// (L(θ + εd) − L(θ − εd)) / 2ε ≈ ∇L·d. The convolutions run in f32 (each layer is checked
    /// entry by entry in f64 in its own module), so the rounding of the loss limits the accuracy:
    /// ε = 10⁻⁴ (small enough that no ReLU or max-pool switches) and 2 %; the differences seen
    /// are 0.1–0.7 %, and a gradient with a wrong sign or scale in any layer is far outside.
    #[test]
    fn gradient_matches_a_directional_central_difference() {
        for head in [
            Head::Dense { width: 6 },
            Head::Fastfood {
                width: 12,
                adaptive: true,
            },
        ] {
            for dropout in [0.0, 0.3] {
                let (net, x, y) = small(head, dropout);
                let (_, _, g) = net.loss_and_gradients(x.view(), &y, 17).unwrap();
                let (g32, g64) = (g.f32_slices().concat(), g.head.slices().concat());
                let d32 = random_matrix(1, g32.len(), 5).mapv(|v| v as f32);
                let d64 = random_matrix(1, g64.len(), 6);
                let slope: f64 = g32
                    .iter()
                    .zip(&d32)
                    .map(|(g, d)| f64::from(g * d))
                    .sum::<f64>()
                    + g64.iter().zip(&d64).map(|(g, d)| g * d).sum::<f64>();
                let eps = 1e-4;
                let moved = |sign: f64| {
                    let mut n = net.clone();
                    let (mut i, mut j) = (0, 0);
                    n.visit_f32(&mut |p, _| {
                        for v in p {
                            *v += (sign * eps) as f32 * d32[[0, i]];
                            i += 1;
                        }
                    });
                    n.visit_f64(&mut |p, _| {
                        for v in p {
                            *v += sign * eps * d64[[0, j]];
                            j += 1;
                        }
                    });
                    n.loss_and_gradients(x.view(), &y, 17).unwrap().0
                };
                let fd = (moved(1.0) - moved(-1.0)) / (2.0 * eps);
                assert!(
                    (fd - slope).abs() <= 0.01 * slope.abs(),
                    "{head:?} p={dropout}: {fd} vs {slope}"
                );
            }
        }
    }

    #[test]
    fn same_result_for_any_number_of_threads() {
        let (net, x, y) = small(
            Head::Fastfood {
                width: 12,
                adaptive: true,
            },
            0.2,
        );
        let run = |threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let (loss, _, g) = net.loss_and_gradients(x.view(), &y, 1).unwrap();
                (loss, g, net.logits(x.view()).unwrap())
            })
        };
        assert_eq!(run(1), run(2));
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

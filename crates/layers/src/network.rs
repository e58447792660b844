//! The classification network: input scaling → [hidden layer → ReLU]* → dense → softmax.
//!
//! The hidden layers are adaptive Fastfood layers (Deep Fried Convnets, Yang et al., ICCV 2015)
//! or dense layers of the same shape, so the two can be compared directly.

use crate::error::Param;
use ndarray::{Array2, ArrayView2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rks::scaler::{Scaler, ScalerKind};
use serde::{Deserialize, Serialize};

use crate::check::check_input_dim;
use crate::loss::{argmax, softmax, softmax_cross_entropy};
use crate::real::Real;
use crate::{
    AdaptiveFastfood, Dense, DenseCache, DenseGrads, DenseInit, FastfoodCache, FastfoodGrads,
    LayerError, Trainable,
};

/// One hidden layer of a [`NetworkParams`] specification (each is followed by ReLU).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HiddenSpec {
    /// A Fastfood layer of `width` outputs. `sigma` sets the fixed normalisation c = 1/(σ√D);
    /// `None` picks σ = √(d_in/2), which gives pre-activations of variance ≈ 2 for inputs of unit
    /// variance, as He initialisation does for dense layers.
    Fastfood {
        width: usize,
        sigma: Option<f64>,
        trainable: Trainable,
    },
    /// A dense layer of `width` outputs (He-initialised).
    Dense { width: usize },
}

/// The specification of a [`Network`]: scaling, hidden layers, seed. Validated by
/// [`NetworkParams::build`].
///
/// ```
/// use ndarray::Array2;
/// use rks_layers::{NetworkParams, Trainable};
///
/// let x = Array2::from_shape_fn((20, 8), |(i, j)| (i * j) as f64);
/// let net = NetworkParams::new()
///     .fastfood(32, Trainable::ALL)
///     .seed(3)
///     .build(x.view(), 4)
///     .unwrap();
/// assert_eq!(net.predict(x.view()).unwrap().len(), 20);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkParams {
    hidden: Vec<HiddenSpec>,
    scaler: ScalerKind,
    seed: u64,
}

impl Default for NetworkParams {
    fn default() -> Self {
        Self::new()
    }
}

impl NetworkParams {
    /// No hidden layer (softmax regression), z-score scaling, seed 0.
    pub fn new() -> Self {
        Self {
            hidden: Vec::new(),
            scaler: ScalerKind::Standard,
            seed: 0,
        }
    }
    /// Appends a Fastfood layer with the default σ (see [`HiddenSpec::Fastfood`]).
    pub fn fastfood(self, width: usize, trainable: Trainable) -> Self {
        self.hidden(HiddenSpec::Fastfood {
            width,
            sigma: None,
            trainable,
        })
    }
    /// Appends a dense layer.
    pub fn dense(self, width: usize) -> Self {
        self.hidden(HiddenSpec::Dense { width })
    }
    /// Appends any hidden layer.
    pub fn hidden(mut self, spec: HiddenSpec) -> Self {
        self.hidden.push(spec);
        self
    }
    /// How the inputs are scaled (statistics from the rows given to [`NetworkParams::build`]).
    pub fn scaler(mut self, kind: ScalerKind) -> Self {
        self.scaler = kind;
        self
    }
    /// The seed every random initial value is derived from.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Builds the network for `n_classes` classes, learning the input scaling from `x_train`.
    pub fn build(
        &self,
        x_train: ArrayView2<'_, f64>,
        n_classes: usize,
    ) -> Result<Network, LayerError> {
        let scaler = Scaler::fit(x_train, self.scaler)?;
        self.build_with_scaler(scaler, n_classes)
    }

    /// Builds the network with an already fitted scaler (its dimension is the input dimension).
    pub fn build_with_scaler(
        &self,
        scaler: Scaler,
        n_classes: usize,
    ) -> Result<Network, LayerError> {
        if n_classes < 2 {
            return Err(LayerError::InvalidParameter {
                name: Param::NClasses,
                reason: format!("need at least 2 classes, got {n_classes}"),
            });
        }
        // One independent seed per layer, drawn in layer order.
        let mut seeds = ChaCha8Rng::seed_from_u64(self.seed);
        let mut dim = scaler.dim();
        let mut hidden = Vec::with_capacity(self.hidden.len());
        for spec in &self.hidden {
            let seed: u64 = seeds.random();
            let layer = match *spec {
                HiddenSpec::Fastfood {
                    width,
                    sigma,
                    trainable,
                } => {
                    let sigma = sigma.unwrap_or_else(|| (dim as f64 / 2.0).sqrt());
                    Hidden::Fastfood(AdaptiveFastfood::new(dim, width, sigma, seed, trainable)?)
                }
                HiddenSpec::Dense { width } => {
                    Hidden::Dense(Dense::new(dim, width, DenseInit::He, seed)?)
                }
            };
            dim = layer.output_dim();
            hidden.push(layer);
        }
        let output = Dense::new(dim, n_classes, DenseInit::Glorot, seeds.random())?;
        Ok(Network {
            scaler,
            hidden,
            output,
        })
    }
}

/// A hidden layer of a [`Network`] (f64, the default) or of a [`ConvNet`](crate::ConvNet)'s head
/// (f32), followed by ReLU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum Hidden<T: Real = f64> {
    /// An adaptive (or frozen) Fastfood layer.
    Fastfood(AdaptiveFastfood<T>),
    /// A dense layer.
    Dense(Dense<T>),
}

impl<T: Real> Hidden<T> {
    /// Input dimension.
    pub fn input_dim(&self) -> usize {
        match self {
            Hidden::Fastfood(l) => l.input_dim(),
            Hidden::Dense(l) => l.input_dim(),
        }
    }
    /// Output dimension.
    pub fn output_dim(&self) -> usize {
        match self {
            Hidden::Fastfood(l) => l.output_dim(),
            Hidden::Dense(l) => l.output_dim(),
        }
    }
    /// Parameters that influence the output.
    pub fn n_parameters(&self) -> usize {
        match self {
            Hidden::Fastfood(l) => l.n_parameters(),
            Hidden::Dense(l) => l.n_parameters(),
        }
    }
    /// Parameters that are learned.
    pub fn n_trainable(&self) -> usize {
        match self {
            Hidden::Fastfood(l) => l.n_trainable(),
            Hidden::Dense(l) => l.n_parameters(),
        }
    }
    pub(crate) fn is_trainable(&self) -> bool {
        match self {
            Hidden::Fastfood(l) => l.trainable().any(),
            Hidden::Dense(_) => true,
        }
    }
    pub(crate) fn forward(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>, LayerError> {
        match self {
            Hidden::Fastfood(l) => l.forward(x),
            Hidden::Dense(l) => l.forward(x),
        }
    }
    /// Forward pass keeping what [`Hidden::backward`] needs.
    pub(crate) fn forward_train(
        &self,
        x: ArrayView2<'_, T>,
    ) -> Result<(Array2<T>, LayerCache<T>), LayerError> {
        Ok(match self {
            Hidden::Fastfood(l) => {
                let (y, c) = l.forward_train(x)?;
                (y, LayerCache::Fastfood(c))
            }
            Hidden::Dense(l) => {
                let (y, c) = l.forward_train(x)?;
                (y, LayerCache::Dense(c))
            }
        })
    }
    /// Backward pass for the cache of [`Hidden::forward_train`]: the gradients of the trainable
    /// parameters and, if `input_grad`, ∂L/∂x. A frozen Fastfood layer asked for no input
    /// gradient computes nothing.
    pub(crate) fn backward(
        &self,
        cache: &LayerCache<T>,
        grad_out: ArrayView2<'_, T>,
        input_grad: bool,
    ) -> Result<(HiddenGrads<T>, Option<Array2<T>>), LayerError> {
        Ok(match (self, cache) {
            (Hidden::Fastfood(l), LayerCache::Fastfood(c)) => {
                let (gr, gx) = if l.trainable().any() || input_grad {
                    l.backward(c, grad_out, input_grad)?
                } else {
                    (FastfoodGrads::none(), None)
                };
                (HiddenGrads::Fastfood(gr), gx)
            }
            (Hidden::Dense(l), LayerCache::Dense(c)) => {
                let (gr, gx) = l.backward(c, grad_out, input_grad)?;
                (HiddenGrads::Dense(gr), gx)
            }
            _ => unreachable!("caches are built by the same layer"),
        })
    }
    /// Calls `f(parameter, weight_decay_applies)` on the trainable parameters, in the order of
    /// the layer's gradient vectors.
    pub(crate) fn visit_params(&mut self, f: &mut dyn FnMut(&mut [T], bool)) {
        match self {
            Hidden::Fastfood(l) => l.visit_params(f),
            Hidden::Dense(l) => l.visit_params(f),
        }
    }
    /// The same layer in the precision `U`, every value rounded to nearest (exact when widening).
    pub(crate) fn convert<U: Real>(&self) -> Hidden<U> {
        match self {
            Hidden::Fastfood(l) => Hidden::Fastfood(l.convert()),
            Hidden::Dense(l) => Hidden::Dense(l.convert()),
        }
    }
    /// True if the layer's arrays are consistent and its parameters finite (loaded networks).
    pub(crate) fn is_consistent(&self) -> bool {
        match self {
            Hidden::Fastfood(l) => l.is_consistent(),
            Hidden::Dense(l) => l.is_consistent() && l.is_finite(),
        }
    }
}

/// Gradients of one hidden layer.
#[derive(Debug, Clone, PartialEq)]
pub enum HiddenGrads<T = f64> {
    /// Of a Fastfood layer (only the trainable parameters are `Some`).
    Fastfood(FastfoodGrads<T>),
    /// Of a dense layer.
    Dense(DenseGrads<T>),
}

/// Gradients of the mean loss of a batch with respect to every trainable parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkGrads<T = f64> {
    /// One entry per hidden layer, in order.
    pub hidden: Vec<HiddenGrads<T>>,
    /// The output layer.
    pub output: DenseGrads<T>,
}

impl<T: Real> NetworkGrads<T> {
    /// The gradients as one vector, in the order of [`Network::parameter_vector`].
    pub fn to_vector(&self) -> Vec<T> {
        self.slices().concat()
    }

    /// The gradient vectors in the order of [`Network::parameter_vector`].
    pub(crate) fn slices(&self) -> Vec<&[T]> {
        let mut out: Vec<&[T]> = Vec::new();
        for h in &self.hidden {
            match h {
                HiddenGrads::Fastfood(g) => out.extend(
                    [&g.s, &g.g, &g.b, &g.bias]
                        .into_iter()
                        .flatten()
                        .map(Vec::as_slice),
                ),
                HiddenGrads::Dense(g) => out.extend(dense_slices(g)),
            }
        }
        out.extend(dense_slices(&self.output));
        out
    }
}

fn dense_slices<T: Real>(g: &DenseGrads<T>) -> impl Iterator<Item = &[T]> {
    [g.weights.as_slice(), g.bias.as_slice()]
        .into_iter()
        .flatten()
}

/// A trained (or freshly initialised) classification network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    scaler: Scaler,
    hidden: Vec<Hidden>,
    output: Dense,
}

/// Per-layer values kept by the forward pass for the backward pass.
pub(crate) enum LayerCache<T: Real> {
    Fastfood(FastfoodCache<T>),
    Dense(DenseCache<T>),
}

impl Network {
    /// Assembles a network from parts; checks that the dimensions chain.
    pub fn from_layers(
        scaler: Scaler,
        hidden: Vec<Hidden>,
        output: Dense,
    ) -> Result<Self, LayerError> {
        let net = Self {
            scaler,
            hidden,
            output,
        };
        net.check_consistent()?;
        Ok(net)
    }

    /// Number of input columns.
    pub fn input_dim(&self) -> usize {
        self.scaler.dim()
    }
    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.output.output_dim()
    }
    /// The input scaler.
    pub fn scaler(&self) -> &Scaler {
        &self.scaler
    }
    /// The hidden layers.
    pub fn hidden(&self) -> &[Hidden] {
        &self.hidden
    }
    /// Mutable access to the hidden layers (e.g. to freeze or unfreeze Fastfood parameters).
    pub fn hidden_mut(&mut self) -> &mut [Hidden] {
        &mut self.hidden
    }
    /// The output layer.
    pub fn output(&self) -> &Dense {
        &self.output
    }

    /// Parameters that influence the output (the scaler's statistics are not counted).
    pub fn n_parameters(&self) -> usize {
        self.hidden.iter().map(Hidden::n_parameters).sum::<usize>() + self.output.n_parameters()
    }
    /// Parameters that training changes.
    pub fn n_trainable(&self) -> usize {
        self.hidden.iter().map(Hidden::n_trainable).sum::<usize>() + self.output.n_parameters()
    }

    /// Class scores before the softmax (rows × n_classes) for raw (unscaled) inputs.
    pub fn logits(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, LayerError> {
        check_input_dim(x, self.input_dim())?;
        let xs = self.scaler.transform(x)?;
        self.logits_scaled(xs.view())
    }

    /// Class probabilities (rows × n_classes).
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, LayerError> {
        Ok(softmax(self.logits(x)?.view()))
    }

    /// The most probable class of every row.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<usize>, LayerError> {
        Ok(self
            .logits(x)?
            .rows()
            .into_iter()
            .map(|r| argmax(r.iter().copied()))
            .collect())
    }

    /// Mean cross-entropy and accuracy on labelled rows.
    pub fn evaluate(
        &self,
        x: ArrayView2<'_, f64>,
        labels: &[usize],
    ) -> Result<(f64, f64), LayerError> {
        self.check_labels(x.nrows(), labels)?;
        let xs = self.scaler.transform(x)?;
        self.evaluate_scaled(xs.view(), labels)
    }

    /// Mean cross-entropy of the batch and its gradient with respect to every trainable
    /// parameter (backpropagation through all layers).
    pub fn loss_and_gradients(
        &self,
        x: ArrayView2<'_, f64>,
        labels: &[usize],
    ) -> Result<(f64, NetworkGrads), LayerError> {
        self.check_labels(x.nrows(), labels)?;
        let xs = self.scaler.transform(x)?;
        let (loss, _, grads) = self.gradients_scaled(xs.view(), labels)?;
        Ok((loss, grads))
    }

    /// All trainable parameters as one vector: hidden layers in order (Fastfood: S, G, B, β as far
    /// as trainable; dense: W row-major, b), then the output layer's W and b.
    pub fn parameter_vector(&self) -> Vec<f64> {
        let mut out = Vec::new();
        self.clone()
            .visit_params(&mut |p: &mut [f64], _| out.extend_from_slice(p));
        out
    }

    /// Sets the trainable parameters from a vector laid out as [`Network::parameter_vector`].
    pub fn set_parameter_vector(&mut self, values: &[f64]) -> Result<(), LayerError> {
        let expected = self.parameter_vector().len();
        if values.len() != expected {
            return Err(LayerError::InvalidParameter {
                name: Param::Values,
                reason: format!("has {} entries, expected {expected}", values.len()),
            });
        }
        if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
            return Err(LayerError::InvalidParameter {
                name: Param::Values,
                reason: format!("holds the non-finite value {bad}"),
            });
        }
        let mut at = 0;
        self.visit_params(&mut |p: &mut [f64], _| {
            p.copy_from_slice(&values[at..at + p.len()]);
            at += p.len();
        });
        Ok(())
    }

    /// Calls `f(parameter, weight_decay_applies)` on every trainable parameter vector in the
    /// order of [`Network::parameter_vector`] (and of [`NetworkGrads::to_vector`]).
    pub(crate) fn visit_params(&mut self, f: &mut dyn FnMut(&mut [f64], bool)) {
        for h in &mut self.hidden {
            h.visit_params(f);
        }
        self.output.visit_params(f);
    }

    /// True if every trainable parameter is finite.
    pub(crate) fn params_finite(&mut self) -> bool {
        let mut ok = true;
        self.visit_params(&mut |p: &mut [f64], _| ok &= p.iter().all(|v| v.is_finite()));
        ok
    }

    pub(crate) fn scale_inputs(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, LayerError> {
        check_input_dim(x, self.input_dim())?;
        Ok(self.scaler.transform(x)?)
    }

    pub(crate) fn logits_scaled(&self, xs: ArrayView2<'_, f64>) -> Result<Array2<f64>, LayerError> {
        let mut h: Option<Array2<f64>> = None;
        for layer in &self.hidden {
            let mut y = layer.forward(current(&xs, &h))?;
            y.mapv_inplace(relu);
            h = Some(y);
        }
        self.output.forward(current(&xs, &h))
    }

    pub(crate) fn evaluate_scaled(
        &self,
        xs: ArrayView2<'_, f64>,
        labels: &[usize],
    ) -> Result<(f64, f64), LayerError> {
        let logits = self.logits_scaled(xs)?;
        let (loss, correct, _) = softmax_cross_entropy(logits.view(), labels);
        Ok((loss, correct as f64 / labels.len().max(1) as f64))
    }

    /// Forward and backward pass on scaled inputs: (mean loss, correct rows, gradients).
    pub(crate) fn gradients_scaled(
        &self,
        xs: ArrayView2<'_, f64>,
        labels: &[usize],
    ) -> Result<(f64, usize, NetworkGrads), LayerError> {
        let mut caches = Vec::with_capacity(self.hidden.len());
        let mut pre: Vec<Array2<f64>> = Vec::with_capacity(self.hidden.len());
        let mut h: Option<Array2<f64>> = None;
        for layer in &self.hidden {
            let (y, cache) = layer.forward_train(current(&xs, &h))?;
            h = Some(y.mapv(relu));
            pre.push(y);
            caches.push(cache);
        }
        let (logits, out_cache) = self.output.forward_train(current(&xs, &h))?;
        let (loss, correct, g_logits) = softmax_cross_entropy(logits.view(), labels);
        let any_hidden_trainable = self.hidden.iter().any(Hidden::is_trainable);
        let (output, mut g) =
            self.output
                .backward(&out_cache, g_logits.view(), any_hidden_trainable)?;
        let mut hidden = Vec::with_capacity(self.hidden.len());
        for (i, (layer, cache)) in self.hidden.iter().zip(&caches).enumerate().rev() {
            // No gradient arrives when nothing below this point is trainable (frozen Fastfood
            // layers only): nothing to compute for this layer or the ones before it.
            let Some(mut gy) = g.take() else {
                hidden.push(match layer {
                    Hidden::Fastfood(_) => HiddenGrads::Fastfood(FastfoodGrads::none()),
                    Hidden::Dense(_) => unreachable!("a dense layer is trainable, so g is set"),
                });
                continue;
            };
            // Backpropagate through the ReLU: the gradient passes where the pre-activation > 0.
            gy.zip_mut_with(&pre[i], |g, &z| {
                if z <= 0.0 {
                    *g = 0.0
                }
            });
            let need_input = self.hidden[..i].iter().any(Hidden::is_trainable);
            let (grads, gx) = layer.backward(cache, gy.view(), need_input)?;
            g = gx;
            hidden.push(grads);
        }
        hidden.reverse();
        Ok((loss, correct, NetworkGrads { hidden, output }))
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

    /// Checks that the dimensions chain and every parameter is finite (also for loaded networks).
    pub(crate) fn check_consistent(&self) -> Result<(), LayerError> {
        self.scaler.validate()?;
        let mut dim = self.scaler.dim();
        for (i, layer) in self.hidden.iter().enumerate() {
            if !layer.is_consistent() || layer.input_dim() != dim {
                return Err(LayerError::InvalidParameter {
                    name: Param::Hidden,
                    reason: format!("layer {i} is inconsistent or does not take {dim} inputs"),
                });
            }
            dim = layer.output_dim();
        }
        if !(self.output.is_consistent() && self.output.is_finite())
            || self.output.input_dim() != dim
            || self.output.output_dim() < 2
        {
            return Err(LayerError::InvalidParameter {
                name: Param::Output,
                reason: format!("output layer is inconsistent or does not take {dim} inputs"),
            });
        }
        Ok(())
    }
}

/// The input of the next layer: the scaled rows before the first hidden layer, then the previous
/// layer's activations.
fn current<'a>(xs: &'a ArrayView2<'_, f64>, h: &'a Option<Array2<f64>>) -> ArrayView2<'a, f64> {
    match h {
        Some(h) => h.view(),
        None => xs.view(),
    }
}

fn relu(v: f64) -> f64 {
    v.max(0.0)
}

/// Converts LIBSVM-style float labels (0, 1, …, k−1) to class indices; returns them with k.
///
/// ```
/// let (labels, k) = rks_layers::class_labels(&[0.0, 2.0, 1.0]).unwrap();
/// assert_eq!((labels, k), (vec![0, 2, 1], 3));
/// assert!(rks_layers::class_labels(&[0.5]).is_err());
/// ```
pub fn class_labels(y: &[f64]) -> Result<(Vec<usize>, usize), LayerError> {
    let mut labels = Vec::with_capacity(y.len());
    for (row, &v) in y.iter().enumerate() {
        // Class indices are small non-negative integers; anything else is a regression target
        // or a corrupt file.
        if !(v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1e6) {
            return Err(LayerError::BadLabel {
                row,
                value: v,
                n_classes: 0,
            });
        }
        labels.push(v as usize);
    }
    let k = labels.iter().max().map_or(0, |m| m + 1);
    Ok((labels, k))
}

//! The optimisers: Adam and SGD with momentum, with optional L2 weight decay on dense weights.

use crate::error::Param;
use serde::{Deserialize, Serialize};

use crate::{LayerError, Network, NetworkGrads};

/// How parameters are updated from their gradients.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Optimizer {
    /// Adam (Kingma & Ba, ICLR 2015): m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
    /// θ ← θ − η · m̂ / (√v̂ + ε) with the bias-corrected m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
    Adam {
        learning_rate: f64,
        beta1: f64,
        beta2: f64,
        epsilon: f64,
    },
    /// Stochastic gradient descent with (heavy-ball) momentum: v ← μv + g, θ ← θ − ηv.
    Sgd { learning_rate: f64, momentum: f64 },
}

impl Optimizer {
    /// Adam with the usual β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
    pub fn adam(learning_rate: f64) -> Self {
        Optimizer::Adam {
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
        }
    }

    /// SGD with momentum μ (0 for plain SGD).
    pub fn sgd(learning_rate: f64, momentum: f64) -> Self {
        Optimizer::Sgd {
            learning_rate,
            momentum,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), LayerError> {
        let bad = |name, reason: &str| {
            Err(LayerError::InvalidParameter {
                name,
                reason: reason.into(),
            })
        };
        let (lr, unit) = match *self {
            Optimizer::Adam {
                learning_rate,
                beta1,
                beta2,
                epsilon,
            } => {
                if !(epsilon.is_finite() && epsilon > 0.0) {
                    return bad(Param::Epsilon, "must be finite and > 0");
                }
                (learning_rate, [beta1, beta2])
            }
            Optimizer::Sgd {
                learning_rate,
                momentum,
            } => (learning_rate, [momentum, 0.0]),
        };
        if !(lr.is_finite() && lr > 0.0) {
            return bad(Param::LearningRate, "must be finite and > 0");
        }
        if unit.iter().any(|b| !(0.0..1.0).contains(b)) {
            return bad(
                Param::Momentum,
                "β₁, β₂ and the momentum must lie in [0, 1)",
            );
        }
        Ok(())
    }
}

/// The optimiser's memory: one moment vector (two for Adam) per parameter vector.
#[derive(Debug, Clone)]
pub(crate) struct OptimizerState {
    optimizer: Optimizer,
    weight_decay: f64,
    step: i32,
    first: Vec<Vec<f64>>,
    second: Vec<Vec<f64>>,
}

impl OptimizerState {
    pub(crate) fn new(optimizer: Optimizer, weight_decay: f64) -> Self {
        Self {
            optimizer,
            weight_decay,
            step: 0,
            first: Vec::new(),
            second: Vec::new(),
        }
    }

    /// One update of every trainable parameter of `net` from `grads`. Weight decay λ adds λθ to
    /// the gradient of dense weights (the L2 penalty λ/2‖W‖²), not to biases or diagonals.
    pub(crate) fn step(&mut self, net: &mut Network, grads: &NetworkGrads) {
        let grads = grads.slices();
        if self.first.len() != grads.len() {
            self.first = grads.iter().map(|g| vec![0.0; g.len()]).collect();
            self.second = self.first.clone();
        }
        self.step = self.step.saturating_add(1);
        let wd = self.weight_decay;
        let mut i = 0;
        let (first, second, t) = (&mut self.first, &mut self.second, self.step);
        let optimizer = self.optimizer;
        net.visit_params(&mut |p: &mut [f64], decay| {
            // Gradients and parameters are listed in the same order by construction; a mismatch
            // (trainable flags changed between backward and step) leaves the extra ones alone.
            let (Some(g), Some(m), Some(v)) = (grads.get(i), first.get_mut(i), second.get_mut(i))
            else {
                return;
            };
            i += 1;
            let wd = if decay { wd } else { 0.0 };
            match optimizer {
                Optimizer::Adam {
                    learning_rate,
                    beta1,
                    beta2,
                    epsilon,
                } => {
                    let c1 = 1.0 - beta1.powi(t);
                    let c2 = 1.0 - beta2.powi(t);
                    for (((p, &g), m), v) in p
                        .iter_mut()
                        .zip(g.iter())
                        .zip(m.iter_mut())
                        .zip(v.iter_mut())
                    {
                        let g = g + wd * *p;
                        *m = beta1 * *m + (1.0 - beta1) * g;
                        *v = beta2 * *v + (1.0 - beta2) * g * g;
                        *p -= learning_rate * (*m / c1) / ((*v / c2).sqrt() + epsilon);
                    }
                }
                Optimizer::Sgd {
                    learning_rate,
                    momentum,
                } => {
                    for ((p, &g), m) in p.iter_mut().zip(g.iter()).zip(m.iter_mut()) {
                        *m = momentum * *m + g + wd * *p;
                        *p -= learning_rate * *m;
                    }
                }
            }
        });
    }
}

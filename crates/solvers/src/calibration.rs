//! Class probabilities from decision values: one Platt sigmoid per class, fitted on held-out
//! scores.
//!
//! For a class c with decision value s, the probability is the sigmoid
//!
//! ```text
//! P(c | s) = 1 / (1 + exp(−(a·s + b)))
//! ```
//!
//! whose a and b minimise the cross-entropy Σᵢ −[tᵢ log pᵢ + (1 − tᵢ) log(1 − pᵢ)] over
//! held-out rows (Platt, "Probabilistic outputs for support vector machines and comparisons to
//! regularized likelihood methods", 1999). The targets are Platt's: tᵢ = (N₊ + 1)/(N₊ + 2) for
//! the class's N₊ rows and 1/(N₋ + 2) for the N₋ others, which keeps a and b finite when the
//! scores separate the classes. The minimisation is Newton's method with a backtracking line
//! search and the overflow-free loss of Lin, Lin & Weng ("A note on Platt's probabilistic
//! outputs for support vector machines", Machine Learning 68, 2007). e^x and ln are
//! [`rks::exp`]'s and [`rks::log`]'s, and every sum runs in row order, so the sigmoids and the
//! probabilities are the same bits on every CPU, with every C library and for any thread count.
//!
//! Two classes have one sigmoid, on the score of class 1 (P(class 0) = 1 − P(class 1)); k > 2
//! classes have one per class on its one-vs-rest score, and the k probabilities are normalised
//! to sum to 1. The scores must be held out — decision values of rows the model was not fitted
//! on — or the sigmoids learn the training rows' overconfidence: the kernel machine fits them
//! on k-fold cross-validated scores
//! ([`KernelMachineParams::probabilities`](crate::KernelMachineParams::probabilities)).

use ndarray::{Array2, ArrayView2};
use rks::exp::exp;
use rks::log::{ln, ln_1p};
use serde::{Deserialize, Serialize};

use crate::error::{Param, Result, SolversError, invalid};
use crate::labels::argmax_rows;
use crate::validate::check_finite;

/// Newton iterations at most (Lin, Lin & Weng's choice; a few suffice in practice).
const MAX_ITERATIONS: usize = 100;
/// The gradient's size below which the fit stops.
const TOLERANCE: f64 = 1e-5;
/// The smallest step of the line search before the fit stops where it is.
const MIN_STEP: f64 = 1e-10;
/// Added to the Hessian's diagonal, so a constant score (zero curvature in a) still solves.
const HESSIAN_RIDGE: f64 = 1e-12;

/// One class's sigmoid: P = 1 / (1 + exp(−(a·s + b))) of its decision value s.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sigmoid {
    /// The slope on the decision value.
    pub a: f64,
    /// The offset.
    pub b: f64,
}

/// log(1 + eᶻ) without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + ln_1p(exp(-z))
    } else {
        ln_1p(exp(z))
    }
}

impl Sigmoid {
    /// The sigmoid minimising the cross-entropy of `positive` (each row's membership of the
    /// class) given `scores`, with Platt's targets (see the [module documentation](self)).
    ///
    /// ```
    /// use rks_solvers::calibration::Sigmoid;
    ///
    /// // Scores that rank the rows, with one mistake on each side.
    /// let scores = [-2.0, -1.5, -1.0, -0.5, 0.4, 0.5, 1.0, 1.5, 2.0, -0.2];
    /// let positive = [false, false, false, true, false, true, true, true, true, false];
    /// let s = Sigmoid::fit(&scores, &positive)?;
    /// assert!(s.a > 0.0);
    /// assert!(s.probability(2.0) > 0.8 && s.probability(-2.0) < 0.2);
    /// # Ok::<(), rks_solvers::SolversError>(())
    /// ```
    pub fn fit(scores: &[f64], positive: &[bool]) -> Result<Sigmoid> {
        if scores.len() != positive.len() {
            return Err(SolversError::RowMismatch {
                x_rows: scores.len(),
                y_rows: positive.len(),
            });
        }
        if scores.is_empty() {
            return Err(SolversError::EmptyInput("no scores to calibrate on".into()));
        }
        if let Some(s) = scores.iter().find(|s| !s.is_finite()) {
            return Err(invalid(
                Param::Probabilities,
                format!("decision values must be finite, got {s}"),
            ));
        }
        let n_pos = positive.iter().filter(|&&p| p).count() as f64;
        let n_neg = scores.len() as f64 - n_pos;
        let (hi, lo) = ((n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0));
        let targets: Vec<f64> = positive.iter().map(|&p| if p { hi } else { lo }).collect();
        // Σ log(1 + e^z) − t·z: the cross-entropy, written so that no term overflows.
        let loss = |a: f64, b: f64| -> f64 {
            scores
                .iter()
                .zip(&targets)
                .map(|(&s, &t)| {
                    let z = a * s + b;
                    softplus(z) - t * z
                })
                .sum()
        };
        let (mut a, mut b) = (0.0, ln((n_pos + 1.0) / (n_neg + 1.0)));
        let mut current = loss(a, b);
        for _ in 0..MAX_ITERATIONS {
            // Gradient and Hessian of the loss in (a, b): ∂/∂z = p − t, ∂²/∂z² = p(1 − p).
            let (mut ga, mut gb) = (0.0, 0.0);
            let (mut haa, mut hab, mut hbb) = (HESSIAN_RIDGE, 0.0, HESSIAN_RIDGE);
            for (&s, &t) in scores.iter().zip(&targets) {
                let p = probability(a * s + b);
                let w = p * (1.0 - p);
                ga += s * (p - t);
                gb += p - t;
                haa += s * s * w;
                hab += s * w;
                hbb += w;
            }
            if ga.abs() < TOLERANCE && gb.abs() < TOLERANCE {
                break;
            }
            let det = haa * hbb - hab * hab;
            let (da, db) = (-(hbb * ga - hab * gb) / det, -(haa * gb - hab * ga) / det);
            let slope = ga * da + gb * db;
            let mut step = 1.0;
            let accepted = loop {
                if step < MIN_STEP {
                    break None;
                }
                let (na, nb) = (a + step * da, b + step * db);
                let candidate = loss(na, nb);
                if candidate <= current + 1e-4 * step * slope {
                    break Some((na, nb, candidate));
                }
                step /= 2.0;
            };
            match accepted {
                Some((na, nb, candidate)) => {
                    (a, b, current) = (na, nb, candidate);
                }
                None => break,
            }
        }
        Ok(Sigmoid { a, b })
    }

    /// P(class | s).
    pub fn probability(&self, s: f64) -> f64 {
        probability(self.a * s + self.b)
    }

    /// log P(class | s), accurate where P is tiny.
    pub fn log_probability(&self, s: f64) -> f64 {
        -softplus(-(self.a * s + self.b))
    }
}

/// 1 / (1 + e^{−z}), without overflow.
fn probability(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + exp(-z))
    } else {
        let e = exp(z);
        e / (1.0 + e)
    }
}

/// A classifier's probability calibration: the sigmoids of its classes and how they were found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// One sigmoid for two classes (on the score of class 1), else one per class.
    sigmoids: Vec<Sigmoid>,
    /// The folds the held-out scores came from.
    folds: u32,
    /// The mean cross-entropy (log loss, natural log) of the held-out rows' probabilities.
    log_loss: f64,
    /// The share of the held-out rows whose largest score is their class.
    accuracy: f64,
}

impl Calibration {
    /// The sigmoids of held-out class scores `scores` (rows × k, as
    /// [`KernelMachine::decision_function`](crate::KernelMachine::decision_function) gives them:
    /// two classes as [−f, f]) for rows of class indices `classes` (each < k), recording that
    /// they came from `folds` folds.
    ///
    /// ```
    /// use ndarray::array;
    /// use rks_solvers::calibration::Calibration;
    ///
    /// let scores = array![[1.0, -1.0], [0.5, -0.5], [-0.2, 0.2], [-1.0, 1.0], [0.3, -0.3], [-0.7, 0.7]];
    /// let classes = [0, 0, 0, 1, 1, 1];
    /// let calibration = Calibration::fit(scores.view(), &classes, 3)?;
    /// let p = calibration.probabilities(scores.view())?;
    /// assert!((p[[3, 0]] + p[[3, 1]] - 1.0).abs() < 1e-12);
    /// assert!(p[[3, 1]] > p[[0, 1]]);
    /// # Ok::<(), rks_solvers::SolversError>(())
    /// ```
    pub fn fit(scores: ArrayView2<'_, f64>, classes: &[usize], folds: usize) -> Result<Self> {
        let k = scores.ncols();
        if k < 2 {
            return Err(invalid(
                Param::Probabilities,
                format!("probabilities need the scores of at least 2 classes, got {k}"),
            ));
        }
        if classes.len() != scores.nrows() {
            return Err(SolversError::RowMismatch {
                x_rows: scores.nrows(),
                y_rows: classes.len(),
            });
        }
        if let Some(c) = classes.iter().find(|&&c| c >= k) {
            return Err(invalid(
                Param::Classes,
                format!("class index {c} for {k} classes"),
            ));
        }
        check_finite("decision value", scores)?;
        let fit_column = |c: usize| {
            let member: Vec<bool> = classes.iter().map(|&i| i == c).collect();
            Sigmoid::fit(&scores.column(c).to_vec(), &member)
        };
        let sigmoids = if k == 2 {
            vec![fit_column(1)?]
        } else {
            (0..k).map(fit_column).collect::<Result<_>>()?
        };
        let hits = argmax_rows(&scores.to_owned())
            .iter()
            .zip(classes)
            .filter(|(p, c)| p == c)
            .count();
        let mut calibration = Calibration {
            sigmoids,
            folds: u32::try_from(folds).unwrap_or(u32::MAX),
            log_loss: 0.0,
            accuracy: hits as f64 / classes.len().max(1) as f64,
        };
        let logs = calibration.log_probabilities(scores)?;
        calibration.log_loss = -classes
            .iter()
            .enumerate()
            .map(|(i, &c)| logs[[i, c]])
            .sum::<f64>()
            / classes.len().max(1) as f64;
        Ok(calibration)
    }

    /// A calibration of any parts, for the tests of what loading refuses.
    #[cfg(test)]
    pub(crate) fn from_parts(
        sigmoids: Vec<Sigmoid>,
        folds: u32,
        log_loss: f64,
        accuracy: f64,
    ) -> Self {
        Calibration {
            sigmoids,
            folds,
            log_loss,
            accuracy,
        }
    }

    /// The sigmoids: one for two classes (on class 1's score), else one per class.
    pub fn sigmoids(&self) -> &[Sigmoid] {
        &self.sigmoids
    }

    /// The number of classes.
    pub fn n_classes(&self) -> usize {
        if self.sigmoids.len() == 1 {
            2
        } else {
            self.sigmoids.len()
        }
    }

    /// The folds the held-out scores came from.
    pub fn folds(&self) -> usize {
        self.folds as usize
    }

    /// The mean log loss (natural log) of the held-out rows' probabilities, as calibrated.
    pub fn log_loss(&self) -> f64 {
        self.log_loss
    }

    /// The accuracy of the held-out scores (each row's largest score against its class): the
    /// k-fold cross-validated accuracy of the model's configuration, as LIBSVM's `-v` measures
    /// it for given parameters (the configuration itself was chosen on every row, so it leans
    /// slightly optimistic, as a grid search's best score does).
    pub fn accuracy(&self) -> f64 {
        self.accuracy
    }

    /// The log-probabilities of each class (rows × k) for class scores `scores` (rows × k).
    pub fn log_probabilities(&self, scores: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let k = self.n_classes();
        if scores.ncols() != k {
            return Err(SolversError::DimensionMismatch {
                what: "class scores",
                expected: k,
                found: scores.ncols(),
            });
        }
        let mut out = Array2::zeros(scores.dim());
        for (row, mut out) in scores.rows().into_iter().zip(out.rows_mut()) {
            if k == 2 {
                let s = &self.sigmoids[0];
                out[1] = s.log_probability(row[1]);
                out[0] = -softplus(s.a * row[1] + s.b);
            } else {
                for (c, s) in self.sigmoids.iter().enumerate() {
                    out[c] = s.log_probability(row[c]);
                }
                // Normalised to sum 1, in logs: log pᵢ − log Σⱼ pⱼ with the largest factored out.
                let top = out.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let total = top + ln(out.iter().map(|l| exp(l - top)).sum::<f64>());
                out.mapv_inplace(|l| l - total);
            }
        }
        Ok(out)
    }

    /// The probability of each class (rows × k, each row summing to 1 up to rounding) for class
    /// scores `scores` (rows × k).
    pub fn probabilities(&self, scores: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        Ok(self.log_probabilities(scores)?.mapv(exp))
    }

    /// Checks a calibration read from a file fits a classifier of `n_classes` classes.
    pub(crate) fn validate(&self, n_classes: usize) -> std::result::Result<(), String> {
        let expected = if n_classes == 2 { 1 } else { n_classes };
        if self.sigmoids.len() != expected {
            return Err(format!(
                "{} calibration sigmoids for {n_classes} classes (expected {expected})",
                self.sigmoids.len()
            ));
        }
        if self
            .sigmoids
            .iter()
            .any(|s| !(s.a.is_finite() && s.b.is_finite()))
            || !(self.log_loss.is_finite() && self.log_loss >= 0.0)
            || !(0.0..=1.0).contains(&self.accuracy)
            || self.folds < 2
        {
            return Err(
                "a calibration with a value that is not finite, a negative log loss, an \
                 accuracy outside [0, 1] or fewer than 2 folds"
                    .into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// The cross-entropy with Platt's targets, summed the obvious way.
    fn brute_loss(s: &Sigmoid, scores: &[f64], positive: &[bool]) -> f64 {
        let n_pos = positive.iter().filter(|&&p| p).count() as f64;
        let n_neg = positive.len() as f64 - n_pos;
        scores
            .iter()
            .zip(positive)
            .map(|(&x, &p)| {
                let t = if p {
                    (n_pos + 1.0) / (n_pos + 2.0)
                } else {
                    1.0 / (n_neg + 2.0)
                };
                let q = 1.0 / (1.0 + (-(s.a * x + s.b)).exp());
                -(t * q.ln() + (1.0 - t) * (1.0 - q).ln())
            })
            .sum()
    }

    /// Scores with a known logistic link: P(positive | s) = σ(2s − 0.5), from a fixed sequence.
    fn logistic_rows(n: usize) -> (Vec<f64>, Vec<bool>) {
        let mut state = 12345u64;
        let mut uniform = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| {
                let s = 6.0 * uniform() - 3.0;
                let p = 1.0 / (1.0 + (-(2.0 * s - 0.5)).exp());
                (s, uniform() < p)
            })
            .unzip()
    }

    #[test]
    fn the_fit_is_the_minimum_of_the_cross_entropy() {
        let (scores, positive) = logistic_rows(400);
        let s = Sigmoid::fit(&scores, &positive).unwrap();
        let best = brute_loss(&s, &scores, &positive);
        // Every neighbour on a small grid around the fit is no better.
        for da in [-0.01, 0.0, 0.01] {
            for db in [-0.01, 0.0, 0.01] {
                let other = Sigmoid {
                    a: s.a + da,
                    b: s.b + db,
                };
                assert!(brute_loss(&other, &scores, &positive) >= best - 1e-9);
            }
        }
    }

    #[test]
    fn a_known_logistic_link_is_recovered() {
        // 20,000 rows: a and b within a few standard errors (≈ 0.03) of 2 and −0.5.
        let (scores, positive) = logistic_rows(20_000);
        let s = Sigmoid::fit(&scores, &positive).unwrap();
        assert!((s.a - 2.0).abs() < 0.1, "{s:?}");
        assert!((s.b + 0.5).abs() < 0.1, "{s:?}");
    }

    #[test]
    fn separable_scores_give_a_finite_sigmoid() {
        let scores = [-3.0, -2.0, -1.0, 1.0, 2.0, 3.0];
        let positive = [false, false, false, true, true, true];
        let s = Sigmoid::fit(&scores, &positive).unwrap();
        assert!(s.a.is_finite() && s.b.is_finite() && s.a > 0.0, "{s:?}");
        // Platt's targets: the fitted probabilities stay below (N₊ + 1)/(N₊ + 2) = 0.8 on
        // average for the positive rows.
        assert!(s.probability(3.0) < 0.9, "{}", s.probability(3.0));
        // A constant score: only the prior is learned.
        let flat = Sigmoid::fit(&[0.0; 4], &[true, false, false, false]).unwrap();
        assert!(
            (flat.probability(0.0) - (1.0 + 1.0) / 6.0).abs() < 0.05,
            "{flat:?}"
        );
    }

    #[test]
    fn probabilities_sum_to_one_and_follow_the_scores() {
        let scores = Array2::from_shape_fn((30, 3), |(i, c)| {
            let base = if i % 3 == c { 1.0 } else { -1.0 };
            base + 0.3 * (((i * 7 + c * 5) % 11) as f64 / 11.0 - 0.5)
        });
        let classes: Vec<usize> = (0..30)
            .map(|i| if i % 10 == 0 { (i + 1) % 3 } else { i % 3 })
            .collect();
        let cal = Calibration::fit(scores.view(), &classes, 5).unwrap();
        assert_eq!(
            (cal.n_classes(), cal.sigmoids().len(), cal.folds()),
            (3, 3, 5)
        );
        let p = cal.probabilities(scores.view()).unwrap();
        for (i, row) in p.rows().into_iter().enumerate() {
            assert!((row.sum() - 1.0).abs() < 1e-12);
            assert!(row.iter().all(|&v| v > 0.0 && v < 1.0));
            let top = (0..3).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
            assert_eq!(top, i % 3);
        }
        let brute = -(0..30).map(|i| p[[i, classes[i]]].ln()).sum::<f64>() / 30.0;
        assert!((cal.log_loss() - brute).abs() < 1e-12);
        // Rows 0, 10, 20 are labelled another class than their largest score.
        assert_eq!(cal.accuracy(), 27.0 / 30.0);
        // Extreme scores: still finite and normalised.
        let far = ndarray::array![[1e6, -1e6, -1e6], [-1e300, -1e300, -1e300]];
        let p = cal.probabilities(far.view()).unwrap();
        assert!(p.iter().all(|v| v.is_finite()));
        assert!((p.row(0).sum() - 1.0).abs() < 1e-12 && (p.row(1).sum() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn bad_scores_are_errors() {
        let scores = ndarray::array![[0.0, 1.0], [f64::NAN, 0.0]];
        assert!(Calibration::fit(scores.view(), &[0, 1], 2).is_err());
        let scores = ndarray::array![[0.0, 1.0], [1.0, 0.0]];
        assert!(Calibration::fit(scores.view(), &[0, 2], 2).is_err());
        assert!(Calibration::fit(scores.view(), &[0], 2).is_err());
        assert!(
            Calibration::fit(
                scores.slice_axis(ndarray::Axis(1), (..1).into()),
                &[0, 0],
                2
            )
            .is_err()
        );
        let cal = Calibration::fit(scores.view(), &[0, 1], 2).unwrap();
        assert!(
            cal.probabilities(ndarray::array![[0.0, 1.0, 2.0]].view())
                .is_err()
        );
        assert!(cal.validate(2).is_ok() && cal.validate(3).is_err());
    }
}

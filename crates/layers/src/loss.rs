//! Softmax cross-entropy: the loss of the classification network.
//!
//! For logits z of one row and its class t, p = softmax(z), L = −log p_t = logsumexp(z) − z_t and
//! ∂L/∂z = p − e_t. The batch loss is the mean over rows, so its gradient is (p − e_t)/rows.

use ndarray::{Array2, ArrayView2, Axis};

/// Row-wise softmax, computed as exp(z − max z) / Σ exp(z − max z) so large logits cannot overflow.
pub fn softmax(logits: ArrayView2<'_, f64>) -> Array2<f64> {
    let mut p = logits.to_owned();
    for mut row in p.axis_iter_mut(Axis(0)) {
        let max = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        row.mapv_inplace(|v| (v - max).exp());
        let sum = row.sum();
        row.mapv_inplace(|v| v / sum);
    }
    p
}

/// The mean cross-entropy of a batch, the number of rows whose largest logit is the true class,
/// and ∂(mean loss)/∂logits. `labels` must hold one class index < logits.ncols() per row (the
/// caller checks this).
pub(crate) fn softmax_cross_entropy(
    logits: ArrayView2<'_, f64>,
    labels: &[usize],
) -> (f64, usize, Array2<f64>) {
    let rows = logits.nrows().max(1) as f64;
    let mut grad = softmax(logits);
    let mut loss = 0.0;
    let mut correct = 0;
    for ((mut g, z), &t) in grad
        .axis_iter_mut(Axis(0))
        .zip(logits.axis_iter(Axis(0)))
        .zip(labels)
    {
        // −log p_t from the logits (not from p) so a tiny p_t does not become log(0).
        let max = z.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        let lse = max + z.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
        loss += lse - z[t];
        if argmax(z.iter().copied()) == t {
            correct += 1;
        }
        g[t] -= 1.0;
        g.mapv_inplace(|v| v / rows);
    }
    (loss / rows, correct, grad)
}

/// Index of the largest value (the first one on ties).
pub(crate) fn argmax(values: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, v) in values.enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn matches_the_definition() {
        let z = array![[1.0, 2.0, 0.5], [-3.0, 0.0, 4.0]];
        let (loss, correct, grad) = softmax_cross_entropy(z.view(), &[1, 0]);
        let p = softmax(z.view());
        let want = -(p[[0, 1]].ln() + p[[1, 0]].ln()) / 2.0;
        assert!((loss - want).abs() < 1e-14);
        assert_eq!(correct, 1);
        assert!((grad[[0, 1]] - (p[[0, 1]] - 1.0) / 2.0).abs() < 1e-15);
        assert!((grad[[1, 2]] - p[[1, 2]] / 2.0).abs() < 1e-15);
        // Huge logits stay finite.
        let (loss, _, grad) = softmax_cross_entropy(array![[1e300, -1e300]].view(), &[1]);
        assert!(loss.is_finite() && grad.iter().all(|v| v.is_finite()));
    }
}

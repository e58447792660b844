//! The one row sampler: a seeded bottom-k sample by a hash of each row's contents.
//!
//! Every row gets the key h(seed, row values, label); the sample is the k rows with the smallest
//! keys. The key depends only on the row, never on its position, so the sample is the same
//! whether the rows come from memory, from a file in chunks, or from several workers whose
//! samples are [`merge`](RowSample::merge)d in any order — which a reservoir sample (Vitter's
//! algorithm R) is not. Identical rows get identical keys; their order is settled by the values,
//! so even ties are order-independent.
//!
//! The in-memory fit, the streamed fit and `rks tune` all draw the median-heuristic and
//! model-selection rows from here, so they see the same rows.
//!
//! A row may carry a weight ([`RowSample::offer_weighted`], [`sample_indices_weighted`]): it
//! does not change the key (a weighted row is sampled as often as an unweighted one; a fit
//! weighs the sampled rows itself), only the order of rows that are otherwise identical, so
//! that which of two such rows is kept does not depend on the order they came in.

use std::collections::BinaryHeap;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

/// One sampled row: its key, its values, its label (0 when there is none) and its weight (1
/// when it has none).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Entry {
    key: u64,
    values: Vec<f64>,
    label: f64,
    weight: f64,
}

impl Entry {
    fn order(&self, other: &Self) -> std::cmp::Ordering {
        self.key
            .cmp(&other.key)
            .then_with(|| {
                self.values
                    .iter()
                    .zip(&other.values)
                    .map(|(a, b)| a.total_cmp(b))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .then_with(|| self.label.total_cmp(&other.label))
            .then_with(|| self.weight.total_cmp(&other.weight))
    }
}

impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.order(other)
    }
}

/// A bottom-k sample of at most `capacity` rows (with their labels), fed row by row or chunk by
/// chunk.
///
/// ```
/// use ndarray::{Array1, Array2, s};
/// use rks::sample::RowSample;
///
/// let x = Array2::from_shape_fn((1000, 3), |(i, j)| (i * 3 + j) as f64);
/// let y = Array1::from_shape_fn(1000, |i| (i % 2) as f64);
/// let mut whole = RowSample::new(100, 7);
/// whole.offer(x.view(), Some(y.view()));
/// // The same rows from two chunks fed in the other order.
/// let (mut a, mut b) = (RowSample::new(100, 7), RowSample::new(100, 7));
/// a.offer(x.slice(s![600.., ..]), Some(y.slice(s![600..])));
/// b.offer(x.slice(s![..600, ..]), Some(y.slice(s![..600])));
/// a.merge(b);
/// assert_eq!(a.rows(), whole.rows());
/// assert_eq!(whole.rows().nrows(), 100);
/// ```
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RowSample {
    capacity: usize,
    seed: u64,
    dim: Option<usize>,
    /// A max-heap: the largest kept key is evicted first.
    heap: BinaryHeap<Entry>,
    seen: u64,
}

impl RowSample {
    /// An empty sample that keeps at most `capacity` rows, keyed with `seed`.
    pub fn new(capacity: usize, seed: u64) -> Self {
        Self {
            capacity,
            seed,
            dim: None,
            heap: BinaryHeap::new(),
            seen: 0,
        }
    }

    /// The key of one row: a seeded hash of its values' bits (−0 counted as +0) and its label.
    pub fn key(seed: u64, values: &[f64], label: f64) -> u64 {
        let mut h = mix(seed ^ 0x9E37_79B9_7F4A_7C15);
        for &v in values.iter().chain(std::iter::once(&label)) {
            let bits = if v == 0.0 { 0 } else { v.to_bits() };
            h = mix(h ^ bits);
        }
        h
    }

    /// Offers every row of `x` (with its label from `y`, if given; `y` must have as many entries
    /// as `x` has rows, else it is ignored).
    pub fn offer(&mut self, x: ArrayView2<'_, f64>, y: Option<ArrayView1<'_, f64>>) {
        self.offer_weighted(x, y, None);
    }

    /// [`offer`](Self::offer) with a weight per row from `weights` (if given, with as many
    /// entries as `x` has rows, else ignored; a row without one weighs 1). The weight does not
    /// change a row's key: the same rows are kept as without weights, unless two rows differ
    /// only in their weights.
    pub fn offer_weighted(
        &mut self,
        x: ArrayView2<'_, f64>,
        y: Option<ArrayView1<'_, f64>>,
        weights: Option<ArrayView1<'_, f64>>,
    ) {
        let y = y.filter(|y| y.len() == x.nrows());
        let weights = weights.filter(|w| w.len() == x.nrows());
        self.dim.get_or_insert(x.ncols());
        for (i, row) in x.rows().into_iter().enumerate() {
            self.seen += 1;
            let label = y.map_or(0.0, |y| y[i]);
            let weight = weights.map_or(1.0, |w| w[i]);
            let values: Vec<f64> = row.iter().copied().collect();
            let key = Self::key(self.seed, &values, label);
            self.push(Entry {
                key,
                values,
                label,
                weight,
            });
        }
    }

    fn push(&mut self, entry: Entry) {
        if self.capacity == 0 {
            return;
        }
        if self.heap.len() < self.capacity {
            self.heap.push(entry);
        } else if self.heap.peek().is_some_and(|top| entry < *top) {
            self.heap.pop();
            self.heap.push(entry);
        }
    }

    /// Folds another sample (same seed and capacity) into this one: the result is the sample of
    /// all rows both have seen, whatever the order of merges.
    pub fn merge(&mut self, other: RowSample) {
        self.seen += other.seen;
        if self.dim.is_none() {
            self.dim = other.dim;
        }
        for entry in other.heap {
            self.push(entry);
        }
    }

    /// Whether a decoded sample is one this type could have built: at most `capacity` rows, each
    /// of the same length and finite, with its key (a file's sample is checked before use).
    pub fn is_consistent(&self) -> bool {
        self.heap.len() <= self.capacity
            && self.heap.iter().all(|e| {
                Some(e.values.len()) == self.dim
                    && e.values.iter().all(|v| v.is_finite())
                    && e.label.is_finite()
                    && e.weight.is_finite()
                    && e.weight > 0.0
                    && e.key == Self::key(self.seed, &e.values, e.label)
            })
    }

    /// The capacity k and the seed: two samples merge into the sample of their union only when
    /// both are equal.
    pub fn setup(&self) -> (usize, u64) {
        (self.capacity, self.seed)
    }

    /// Rows offered so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// Rows kept.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when no row has been kept.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    fn sorted(&self) -> Vec<&Entry> {
        let mut entries: Vec<&Entry> = self.heap.iter().collect();
        entries.sort();
        entries
    }

    /// The kept rows in key order (rows × d).
    pub fn rows(&self) -> Array2<f64> {
        let entries = self.sorted();
        let dim = self.dim.unwrap_or(0);
        Array2::from_shape_fn((entries.len(), dim), |(i, j)| entries[i].values[j])
    }

    /// The labels of the kept rows, in the order of [`rows`](Self::rows).
    pub fn labels(&self) -> Array1<f64> {
        self.sorted().iter().map(|e| e.label).collect()
    }

    /// The weights of the kept rows, in the order of [`rows`](Self::rows) (1 for a row offered
    /// without one).
    pub fn weights(&self) -> Array1<f64> {
        self.sorted().iter().map(|e| e.weight).collect()
    }
}

/// Indices of the rows of `x` (with labels `y`) that a [`RowSample`] of `capacity` would keep,
/// in key order: the same rows as feeding them to the sample, without copying them.
pub fn sample_indices(
    x: ArrayView2<'_, f64>,
    y: Option<ArrayView1<'_, f64>>,
    capacity: usize,
    seed: u64,
) -> Vec<usize> {
    sample_indices_weighted(x, y, None, capacity, seed)
}

/// [`sample_indices`] of rows with weights `weights` (if given, one per row): the rows a
/// [`RowSample`] offered them by [`RowSample::offer_weighted`] would keep, in its order.
pub fn sample_indices_weighted(
    x: ArrayView2<'_, f64>,
    y: Option<ArrayView1<'_, f64>>,
    weights: Option<ArrayView1<'_, f64>>,
    capacity: usize,
    seed: u64,
) -> Vec<usize> {
    let y = y.filter(|y| y.len() == x.nrows());
    let weights = weights.filter(|w| w.len() == x.nrows());
    let mut keyed: Vec<(u64, usize)> = x
        .rows()
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let values: Vec<f64> = row.iter().copied().collect();
            (RowSample::key(seed, &values, y.map_or(0.0, |y| y[i])), i)
        })
        .collect();
    // The order of `Entry`: the key, then (for identical keys) the values, then the label.
    keyed.sort_by(|&(ka, a), &(kb, b)| {
        ka.cmp(&kb)
            .then_with(|| {
                x.row(a)
                    .iter()
                    .zip(x.row(b))
                    .map(|(u, v)| u.total_cmp(v))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .then_with(|| y.map_or(std::cmp::Ordering::Equal, |y| y[a].total_cmp(&y[b])))
            .then_with(|| weights.map_or(std::cmp::Ordering::Equal, |w| w[a].total_cmp(&w[b])))
    });
    keyed.truncate(capacity);
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// SplitMix64's finaliser: a bijective mixing of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::s;

    fn data() -> (Array2<f64>, Array1<f64>) {
        let x = Array2::from_shape_fn((500, 4), |(i, j)| ((i * 7919 + j * 31) % 97) as f64);
        let y = Array1::from_shape_fn(500, |i| (i % 3) as f64);
        (x, y)
    }

    #[test]
    fn indices_match_the_streamed_sample() {
        let (x, y) = data();
        let mut sample = RowSample::new(60, 3);
        for start in (0..500).step_by(37) {
            let end = (start + 37).min(500);
            sample.offer(x.slice(s![start..end, ..]), Some(y.slice(s![start..end])));
        }
        let picked = sample_indices(x.view(), Some(y.view()), 60, 3);
        assert_eq!(x.select(ndarray::Axis(0), &picked), sample.rows());
        assert_eq!(y.select(ndarray::Axis(0), &picked), sample.labels());
    }

    #[test]
    fn merge_order_does_not_matter() {
        let (x, y) = data();
        let parts: Vec<RowSample> = (0..5)
            .map(|p| {
                let mut s = RowSample::new(50, 9);
                s.offer(
                    x.slice(s![p * 100..(p + 1) * 100, ..]),
                    Some(y.slice(s![p * 100..(p + 1) * 100])),
                );
                s
            })
            .collect();
        let mut forward = RowSample::new(50, 9);
        parts.iter().cloned().for_each(|p| forward.merge(p));
        let mut backward = RowSample::new(50, 9);
        parts.into_iter().rev().for_each(|p| backward.merge(p));
        assert_eq!(forward.rows(), backward.rows());
        assert_eq!(forward.seen(), 500);
    }

    #[test]
    fn weights_keep_the_rows_and_order_rows_alike_but_for_them() {
        let (x, y) = data();
        // Every row twice, the copies weighing 1 and 2, offered in either order.
        let doubled = ndarray::concatenate![ndarray::Axis(0), x.view(), x.view()];
        let labels = ndarray::concatenate![ndarray::Axis(0), y.view(), y.view()];
        let w = Array1::from_shape_fn(1000, |i| if i < 500 { 1.0 } else { 2.0 });
        let flipped = Array1::from_shape_fn(1000, |i| if i < 500 { 2.0 } else { 1.0 });
        let (mut a, mut b) = (RowSample::new(61, 3), RowSample::new(61, 3));
        a.offer_weighted(doubled.view(), Some(labels.view()), Some(w.view()));
        b.offer_weighted(doubled.view(), Some(labels.view()), Some(flipped.view()));
        assert_eq!(a.rows(), b.rows());
        assert_eq!(a.weights(), b.weights());
        // The weight only orders copies: each kept row comes weight 1 first, and the odd
        // capacity cuts a pair after its copy of weight 1.
        let kept = a.weights();
        assert_eq!(kept.iter().filter(|&&v| v == 1.0).count(), 31);
        let picked =
            sample_indices_weighted(doubled.view(), Some(labels.view()), Some(w.view()), 61, 3);
        assert_eq!(doubled.select(ndarray::Axis(0), &picked), a.rows());
        assert_eq!(w.select(ndarray::Axis(0), &picked), kept);
        // Unweighted rows weigh 1, and the same rows are sampled as without weights.
        let mut plain = RowSample::new(60, 3);
        plain.offer(x.view(), Some(y.view()));
        assert!(plain.weights().iter().all(|&v| v == 1.0));
        let mut heavy = RowSample::new(60, 3);
        heavy.offer_weighted(
            x.view(),
            Some(y.view()),
            Some(Array1::from_elem(500, 5.0).view()),
        );
        assert_eq!(plain.rows(), heavy.rows());
    }

    #[test]
    fn keeps_everything_below_capacity_and_depends_on_the_seed() {
        let (x, y) = data();
        assert_eq!(sample_indices(x.view(), Some(y.view()), 1000, 1).len(), 500);
        let a = sample_indices(x.view(), None, 50, 1);
        let b = sample_indices(x.view(), None, 50, 2);
        assert_ne!(a, b);
    }
}

//! k-fold cross-validation folds, stratified for classification.
//!
//! Folds are drawn with a seeded ChaCha8 generator. Stratified folds deal each class's rows,
//! shuffled, round the folds in turn (continuing where the previous class stopped), so every fold
//! has nearly the class proportions of the whole set and the fold sizes differ by at most one.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// The fold (0..k) of each row. Classification folds are stratified: the rows of each class are
/// shuffled and dealt round the folds, continuing where the previous class stopped.
pub fn assign_folds(y: &[f64], k: usize, stratify: bool, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut groups: Vec<Vec<usize>> = if stratify {
        let mut order: Vec<usize> = (0..y.len()).collect();
        order.sort_by(|&a, &b| y[a].total_cmp(&y[b]).then(a.cmp(&b)));
        order
            .chunk_by(|&a, &b| y[a] == y[b])
            .map(<[usize]>::to_vec)
            .collect()
    } else {
        vec![(0..y.len()).collect()]
    };
    let mut fold = vec![0; y.len()];
    let mut next = 0;
    for group in &mut groups {
        group.shuffle(&mut rng);
        for &row in group.iter() {
            fold[row] = next % k;
            next += 1;
        }
    }
    fold
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stratified_folds_keep_class_proportions() {
        // 30 rows of class 0, 12 of class 1, 6 of class 2.
        let y: Vec<f64> = (0..48)
            .map(|i| {
                if i < 30 {
                    0.0
                } else if i < 42 {
                    1.0
                } else {
                    2.0
                }
            })
            .collect();
        let folds = assign_folds(&y, 3, true, 7);
        for k in 0..3 {
            let count = |c: f64| (0..48).filter(|&i| folds[i] == k && y[i] == c).count();
            assert_eq!((count(0.0), count(1.0), count(2.0)), (10, 4, 2), "fold {k}");
        }
        assert_eq!(folds, assign_folds(&y, 3, true, 7));
        assert_ne!(folds, assign_folds(&y, 3, true, 8));
    }

    #[test]
    fn plain_folds_are_balanced() {
        let y: Vec<f64> = (0..10).map(|i| i as f64 * 0.5).collect();
        let folds = assign_folds(&y, 3, false, 0);
        let sizes: Vec<usize> = (0..3)
            .map(|k| folds.iter().filter(|&&f| f == k).count())
            .collect();
        assert_eq!(sizes, vec![4, 3, 3]);
    }
}

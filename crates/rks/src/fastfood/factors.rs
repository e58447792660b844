//! What a Fastfood transform reads, made once: Π as checked gather indices when the map is built,
//! and B, G, S in the working precision on first use, once per precision (as the dense map keeps
//! its packed W).

/// The permutation Π of one block as gather indices: `(Πv)[i] = v[indices[i]]`.
///
/// Invariant, checked by [`Permutation::new`] (once, when the map is built): the indices are a
/// permutation of 0..D, and D ≤ `i32::MAX` (the AVX2 gather reads signed 32-bit indices). The
/// gathers' unchecked loads rely on it: every index is below [`Permutation::dim`].
#[derive(Clone, Debug)]
pub struct Permutation(Vec<u32>);

impl Permutation {
    /// The indices if they are a permutation of 0..`p.len()` with `p.len()` ≤ `i32::MAX`.
    pub(crate) fn new(p: &[usize]) -> Option<Self> {
        let dim = p.len();
        if dim > i32::MAX as usize {
            return None;
        }
        let mut seen = vec![false; dim];
        for &i in p {
            if i >= dim || std::mem::replace(&mut seen[i], true) {
                return None;
            }
        }
        Some(Self(p.iter().map(|&i| i as u32).collect()))
    }

    /// D: the number of indices, and the bound of every index.
    pub(crate) fn dim(&self) -> usize {
        self.0.len()
    }

    /// The indices, each below [`Permutation::dim`].
    pub(crate) fn indices(&self) -> &[u32] {
        &self.0
    }
}

/// One block's diagonals in the working precision, with 1/(σ√D) folded into the scaling.
#[derive(Clone, Debug)]
pub struct Factors<F> {
    /// B (±1).
    pub(crate) signs: Vec<F>,
    /// G.
    pub(crate) gaussian: Vec<F>,
    /// S/(σ√D).
    pub(crate) scaling: Vec<F>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_checks_range_and_repeats() {
        assert_eq!(Permutation::new(&[2, 0, 1]).unwrap().indices(), &[2, 0, 1]);
        assert!(Permutation::new(&[]).is_some());
        assert!(Permutation::new(&[0, 3, 1]).is_none(), "out of range");
        assert!(Permutation::new(&[0, 1, 1]).is_none(), "repeated");
    }
}

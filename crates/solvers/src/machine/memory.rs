//! The copies of its rows an in-memory fit holds, checked against the memory the system has
//! before the fit starts.
//!
//! The caller holds the N × d rows; the fit copies some of them, and on wide rows (text, many
//! one-hot columns) those copies, not the features, are what fills memory. Each map's search
//! (run side by side when [`Selection::maps`] lists several) holds, in rows of d values:
//!
//! - stage 1 (σ): the seeded sample of s = min(N, [`Selection::sample_rows`]) rows and its
//!   scaled copy; a Nyström map also its own scaled copy of them and landmarks among them: at
//!   most 4s;
//! - stage 2 (λ and n): the scored rows (≤ s), and a Nyström map the scaled copy of all N rows
//!   it picks its m landmarks among, and those landmarks: s + N + m, with m the most the budget
//!   lets n grow to;
//! - in either, one block of scaled rows whose features are being made (≤ 16 MB, or
//!   `chunk_rows` rows).
//!
//! A Nyström search's peak is thus max(4s, s + N + m) + block, any other map's 2s + block, and
//! the fit's the sum over the maps searched at once. The column-weight step and the solver
//! choice run before and after the searches on copies of the sample (≤ 2s) and are covered.
//! Without model selection a fit copies only a block, plus N + m for a Nyström map.
//!
//! Measured with heaptrack (the default fit on 3,000 and 10,000 rows of 5,000 columns and on
//! 3,000 rows of 20,000, 50 non-zeros a row; docs/benchmarks.md): the peak beyond the rows
//! themselves was 0.74–0.88, 0.72–0.75 and 2.22 GB (the two searches overlap differently from
//! run to run), against 0.75, 1.00 and 2.91 GB of copies estimated. The rest of a peak is the
//! features, the ridge statistics and the factorisations, which do not grow with d (letter, 16
//! columns: 0.48 GB). So the estimate times 8·d bytes, plus [`FEATURES_ALLOWANCE`] for those
//! (1.25, 1.50 and 3.41 GB on the three files), may take at most
//! [`rks::alloc::available_memory`] (read after the rows are in memory, so they are not counted
//! twice); beyond, the fit stops with [`SolversError::OutOfMemory`] before any work instead of
//! being killed by the kernel part-way.

use rks::MapKind;

use super::KernelMachineValidParams;
use super::fit::scaled_block_rows;
use super::select::{Selection, estimated_step_seconds};
use crate::error::{Result, SolversError};

/// Bytes left beside the copies of rows for the features, the ridge statistics and the
/// factorisations, which do not grow with d (0.3–0.5 GB at the peaks measured at the default
/// budget).
pub(super) const FEATURES_ALLOWANCE: u64 = 512 << 20;

/// Rows of d values the fit of `params` on `rows` rows of `cols` columns copies at most at once
/// (the [module docs](self)).
pub(super) fn copied_rows(params: &KernelMachineValidParams, rows: usize, cols: usize) -> u64 {
    let n = rows as u64;
    let block = scaled_block_rows(params.chunk_rows, cols).min(rows) as u64;
    match &params.selection {
        None => match params.map_kind() {
            MapKind::Nystrom => block + n + n.min(params.n_frequencies() as u64),
            _ => block,
        },
        Some(selection) => {
            let s = n.min(selection.sample_rows() as u64);
            let maps: Vec<MapKind> = searched_maps(params, selection).collect();
            let m = reachable_landmarks(params, selection, rows, maps.len()) as u64;
            maps.into_iter()
                .map(|kind| match kind {
                    MapKind::Nystrom => (4 * s).max(s + n + m) + block,
                    _ => 2 * s + block,
                })
                .sum()
        }
    }
}

/// The most landmarks a Nyström search of `rows` rows can reach: stage 2 doubles n from the n
/// given while the next step's estimated seconds ([`estimated_step_seconds`]) fit in the map's
/// share of the budget, up to [`Selection::max_frequencies`] and never beyond the rows (without
/// a budget n stays as given). Each step alone is held to the share here, not their sum, so
/// this is an upper bound.
fn reachable_landmarks(
    params: &KernelMachineValidParams,
    selection: &Selection,
    rows: usize,
    maps: usize,
) -> usize {
    let scored = rows.min(selection.loo_rows);
    let mut n = params.n_frequencies().max(1);
    if let Some(budget) = selection.budget_seconds {
        let share = budget / maps.max(1) as f64;
        while n < rows
            && 2 * n <= selection.max_frequencies
            && estimated_step_seconds(rows, (2 * n).min(rows), scored) <= share
        {
            n *= 2;
        }
    }
    n.min(rows)
}

/// The maps one fit searches at once: [`Selection::maps`] that make the params' kernel, or the
/// params' map alone.
fn searched_maps(
    params: &KernelMachineValidParams,
    selection: &Selection,
) -> impl Iterator<Item = MapKind> {
    let kernel = params.kernel();
    let listed: Vec<MapKind> = selection
        .maps
        .iter()
        .copied()
        .filter(|k| k.supports(kernel))
        .collect();
    if listed.is_empty() {
        vec![params.map_kind()]
    } else {
        listed
    }
    .into_iter()
}

/// [`SolversError::OutOfMemory`] when the copies a fit of `params` on `rows × cols` rows makes,
/// with [`FEATURES_ALLOWANCE`], would take more than the memory the system has available.
pub(super) fn check(params: &KernelMachineValidParams, rows: usize, cols: usize) -> Result<()> {
    check_against(
        rows,
        cols,
        copied_rows(params, rows, cols),
        rks::alloc::available_memory(),
    )
}

/// Bytes a fit on sparse rows (`fit_sparse`) holds per column and output: the scaler's
/// statistics and the scaler (seven values of 8 bytes a column), and per output the SVM's f32
/// weights and their warm start, the model's f64 weights and the folded copy its scores use.
fn sparse_bytes(cols: usize, outputs: usize, non_zeros: usize) -> u64 {
    let per_column = (outputs as u64).saturating_mul(28).saturating_add(56);
    // The scaled entries (f32 and a 32-bit column), twice: all rows and the CV's sample.
    (cols as u64)
        .saturating_mul(per_column)
        .saturating_add((non_zeros as u64).saturating_mul(16))
}

/// [`SolversError::SparseOutOfMemory`] when a fit on sparse rows of `cols` columns, `outputs`
/// outputs and `non_zeros` entries would take more than the memory the system has available.
pub(super) fn check_sparse(cols: usize, outputs: usize, non_zeros: usize) -> Result<()> {
    check_sparse_against(cols, outputs, non_zeros, rks::alloc::available_memory())
}

fn check_sparse_against(
    cols: usize,
    outputs: usize,
    non_zeros: usize,
    available: Option<u64>,
) -> Result<()> {
    let bytes = sparse_bytes(cols, outputs, non_zeros);
    match available {
        Some(available) if bytes > available => Err(SolversError::SparseOutOfMemory {
            cols,
            outputs,
            bytes,
            available,
        }),
        _ => Ok(()),
    }
}

/// [`check`] with the copied rows and the available bytes given (`None`: not known, no check).
fn check_against(rows: usize, cols: usize, copied: u64, available: Option<u64>) -> Result<()> {
    let bytes = copied.saturating_mul(cols as u64).saturating_mul(8);
    match available {
        Some(available) if bytes.saturating_add(FEATURES_ALLOWANCE) > available => {
            Err(SolversError::OutOfMemory {
                rows,
                cols,
                bytes,
                available,
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_fits_beyond_memory_are_refused() {
        // 4·10⁹ columns, two classes: about 336 GB of statistics and weights.
        let e = check_sparse_against(4_000_000_000, 1, 1000, Some(32 << 30)).unwrap_err();
        assert!(matches!(e, SolversError::SparseOutOfMemory { .. }), "{e}");
        assert!(e.to_string().contains("336.0 GB"), "{e}");
        assert!(check_sparse_against(1_355_191, 20, 9_000_000, Some(32 << 30)).is_ok());
        assert!(check_sparse_against(usize::MAX, usize::MAX, usize::MAX, None).is_ok());
    }
    use crate::KernelMachine;

    fn params(selection: bool, map: MapKind) -> KernelMachineValidParams {
        let p = KernelMachine::params().map(map);
        let p = if selection {
            p.selection(Selection {
                maps: vec![MapKind::Fastfood, MapKind::Nystrom],
                ..Selection::default()
            })
        } else {
            p.selection(None)
        };
        p.check().unwrap()
    }

    #[test]
    fn maps_searched_side_by_side_count_each() {
        let p = params(true, MapKind::Fastfood);
        let selection = p.selection.clone().unwrap();
        assert!(selection.maps.contains(&MapKind::Nystrom) && selection.maps.len() == 2);
        let s = selection.sample_rows() as u64;
        // 10,000 narrow rows: the sample (s ≤ N), all N rows and the landmarks for Nyström.
        let (n, block) = (10_000u64, scaled_block_rows(p.chunk_rows, 16) as u64);
        let m = reachable_landmarks(&p, &selection, 10_000, 2) as u64;
        let expected = (4 * s).max(s + n + m) + block + 2 * s + block;
        assert_eq!(copied_rows(&p, 10_000, 16), expected);
        // 3,000 rows of 5,000 columns: s = N, and blocks of 16 MB.
        let (n, block) = (3_000u64, (16u64 << 20) / 40_000);
        assert_eq!(copied_rows(&p, 3_000, 5_000), 4 * n + block + 2 * n + block);
    }

    #[test]
    fn landmarks_grow_as_far_as_the_budget_lets_a_step_go() {
        let p = params(true, MapKind::Fastfood);
        // The CLI's default budget.
        let selection = p
            .selection
            .clone()
            .unwrap()
            .growing(crate::machine::DEFAULT_BUDGET_SECONDS);
        let budget = selection.budget_seconds.unwrap();
        let given = p.n_frequencies();
        let m = reachable_landmarks(&p, &selection, 10_000, 2);
        assert!(m >= given && m.is_power_of_two(), "{m}");
        // The step to m fits the map's share, the next one does not (or is past the cap).
        let step = |n: usize| estimated_step_seconds(10_000, n, 4_000);
        assert!(m == given || step(m) <= budget / 2.0);
        assert!(2 * m > selection.max_frequencies || step(2 * m) > budget / 2.0);
        // Never more than the rows; without a budget, n as given.
        assert_eq!(reachable_landmarks(&p, &selection, 300, 2), given.min(300));
        let unbudgeted = Selection {
            budget_seconds: None,
            ..selection.clone()
        };
        assert_eq!(reachable_landmarks(&p, &unbudgeted, 10_000, 2), given);
    }

    #[test]
    fn without_selection_only_nystrom_copies_every_row() {
        let fastfood = params(false, MapKind::Fastfood);
        let block = scaled_block_rows(fastfood.chunk_rows, 100) as u64;
        assert_eq!(copied_rows(&fastfood, 50_000, 100), block);
        let nystrom = params(false, MapKind::Nystrom);
        let m = nystrom.n_frequencies() as u64;
        assert_eq!(copied_rows(&nystrom, 50_000, 100), block + 50_000 + m);
        // Fewer rows than a block or than landmarks: no more than the rows.
        assert_eq!(copied_rows(&nystrom, 10, 100), 10 + 10 + 10);
    }

    #[test]
    fn copies_beyond_the_memory_available_are_a_clear_error() {
        // 3,000 rows of 200,000 columns: 4.8 GB each copy.
        let p = params(true, MapKind::Fastfood);
        let copied = copied_rows(&p, 3_000, 200_000);
        let err = check_against(3_000, 200_000, copied, Some(16_000_000_000)).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(
                err,
                SolversError::OutOfMemory {
                    rows: 3_000,
                    cols: 200_000,
                    ..
                }
            ) && message.contains("3000 rows x 200000 columns")
                && message.contains("16.0 GB of memory available")
                && message.contains("fewer columns"),
            "{message}"
        );
        // Enough memory, or none known: no error; the copies and the allowance at most.
        let bytes = copied * 200_000 * 8 + FEATURES_ALLOWANCE;
        assert!(check_against(3_000, 200_000, copied, Some(bytes)).is_ok());
        assert!(check_against(3_000, 200_000, copied, Some(bytes - 1)).is_err());
        assert!(check_against(3_000, 200_000, copied, None).is_ok());
        // Bytes that overflow saturate, and are refused.
        assert!(check_against(usize::MAX, usize::MAX, u64::MAX, Some(u64::MAX - 1)).is_err());
    }
}

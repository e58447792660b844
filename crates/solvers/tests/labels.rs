//! One rule decides whether a label is a class, in memory and streamed alike.

use ndarray::{Array1, Array2};
use rks_solvers::{KernelMachine, SolversError};

#[test]
fn a_label_beyond_two_to_the_53_is_refused_in_memory_and_streamed() {
    let x = Array2::from_shape_fn((6, 2), |(i, j)| (i * 2 + j) as f64);
    // 1e17 is a whole f64, but neighbouring integers share it: no class can be told apart.
    let y = Array1::from(vec![0.0, 1.0, 1e17, 0.0, 1.0, 0.0]);
    let params = KernelMachine::params()
        .n_frequencies(8)
        .selection(None)
        .check()
        .unwrap();
    let in_memory = params.fit(x.view(), y.view()).unwrap_err();
    let open = || -> Result<Vec<Result<rks_solvers::Chunk, std::io::Error>>, std::io::Error> {
        Ok(vec![Ok((x.clone(), y.clone()))])
    };
    let streamed = params.fit_stream(open).unwrap_err();
    for e in [in_memory, streamed] {
        assert!(
            matches!(e, SolversError::NonIntegerLabel { row: 2, value } if value == 1e17),
            "{e:?}"
        );
    }
}

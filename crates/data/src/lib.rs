//! Data readers for the `rks` toolkit.
//!
//! - [`libsvm`]: LIBSVM / svmlight text (`label index:value ...`), whole file or in chunks, a
//!   one-pass [`scan_dims`](libsvm::scan_dims), and a writer;
//! - [`csv`]: numeric CSV with a header and a chosen label column, whole file or in chunks, and
//!   a writer;
//! - [`idx`]: the IDX format of MNIST (plain or gzipped), and the four-file MNIST directory.
//!
//! Every reader yields dense [`Dataset`]s of finite `f64` values (NaN and infinities are
//! refused), and every parse error says where it is and what is wrong, like a compiler:
//! `x.train:17:12: feature index 0 (indices are 1-based)`. Line numbers are 1-based and count
//! blank and comment lines; columns are 1-based character positions in the line.
//!
//! Read a whole file when it fits in memory:
//!
//! ```
//! use rks_data::libsvm;
//!
//! let text = "2 1:0.25 3:1\n0 2:-1\n";
//! let data = libsvm::read(text.as_bytes(), "memory", Some(4))?;
//! assert_eq!((data.n_rows(), data.n_features()), (2, 4));
//! assert_eq!(data.classes()?, vec![0, 2]);
//! # Ok::<(), rks_data::DataError>(())
//! ```
//!
//! or stream it in chunks of bounded size (the width must be known up front, because LIBSVM
//! omits zeros; [`libsvm::scan`] finds it in one pass when it is not published):
//!
//! ```
//! use rks_data::libsvm::{self, LibsvmChunks};
//!
//! let text = "1 1:1\n0 2:1\n1 1:2 2:2\n";
//! let (rows, width) = libsvm::scan(text.as_bytes(), "memory")?;
//! let mut sum = 0.0;
//! for chunk in LibsvmChunks::new(text.as_bytes(), "memory", width, 2)? {
//!     sum += chunk?.x.sum();
//! }
//! assert_eq!((rows, width, sum), (3, 2, 6.0));
//! # Ok::<(), rks_data::DataError>(())
//! ```
//!
//! Errors are values of [`DataError`]; parse errors also expose their [`Location`] and
//! [`ParseErrorKind`] for programs that want more than the message:
//!
//! ```
//! use rks_data::{ParseErrorKind, libsvm};
//!
//! let err = libsvm::read("1 3:1 2:1\n".as_bytes(), "memory", None).unwrap_err();
//! assert_eq!(err.to_string(), "memory:1:7: feature index 2 after 3: indices must be increasing");
//! assert_eq!(err.location().map(|l| (l.line, l.column)), Some((1, 7)));
//! assert!(matches!(err.parse_kind(), Some(ParseErrorKind::DecreasingIndex { .. })));
//! ```

#![forbid(unsafe_code)]

pub mod csv;
mod dataset;
mod error;
pub mod idx;
pub mod libsvm;
pub mod sparse;
mod text;

pub use dataset::{Dataset, MAX_CLASS_LABEL, class_label};
pub use error::{ColumnRef, DataError, Location, ParseErrorKind};
pub use sparse::SparseDataset;

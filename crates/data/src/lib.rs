//! Data readers for the `rks` toolkit.
//!
//! - [`libsvm`]: LIBSVM / svmlight text (`label index:value ...`), whole file or in chunks, plus
//!   a writer;
//! - [`csv`]: numeric CSV with a header and a chosen label column, whole file or in chunks.
//!
//! Every reader yields a dense [`Dataset`] of finite `f64` values, and every parse error says
//! where it is and what is wrong, like a compiler: `x.train:17:12: feature index 0 (indices are
//! 1-based)`. Line numbers are 1-based and count blank and comment lines; columns are 1-based
//! character positions in the line.
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

pub mod csv;
mod dataset;
mod error;
pub mod libsvm;
mod text;

pub use dataset::Dataset;
pub use error::{ColumnRef, DataError, Location, ParseErrorKind};

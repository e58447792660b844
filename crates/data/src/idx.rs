//! The IDX format of the MNIST database (LeCun, Bottou, Bengio & Haffner, 1998), plain or gzipped.
//!
//! An IDX file is a big-endian header followed by the elements in row-major order:
//!
//! | bytes | content |
//! |---|---|
//! | 0..2 | zero |
//! | 2 | element type (0x08: unsigned byte, the only type MNIST and Fashion-MNIST use) |
//! | 3 | number of dimensions r |
//! | 4..4+4r | the dimensions, u32 big-endian each |
//! | 4+4r.. | ∏ dims elements |
//!
//! A file that starts with the gzip magic bytes (1f 8b) is decompressed on the fly, so the
//! `.gz` files as published read the same as their uncompressed contents. The header is checked
//! before any large allocation: memory grows only with the bytes actually present, so a corrupt
//! header cannot reserve gigabytes.
//!
//! ```
//! use rks_data::idx;
//!
//! // Two 2×3 "images" of unsigned bytes.
//! let bytes = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
//! let a = idx::read(&bytes[..], "memory")?;
//! assert_eq!(a.dims(), &[2, 2, 3]);
//! assert_eq!(a.data()[6..], [7, 8, 9, 10, 11, 12]);
//! # Ok::<(), rks_data::DataError>(())
//! ```

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;
use ndarray::{Array1, Array2};

use crate::{DataError, Dataset};

/// The element type code of unsigned bytes.
const TYPE_U8: u8 = 0x08;
/// The largest element count accepted (the largest allocation Rust allows).
const MAX_ELEMENTS: u64 = isize::MAX as u64;

/// An n-dimensional array of unsigned bytes read from an IDX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    dims: Vec<usize>,
    data: Vec<u8>,
}

impl IdxArray {
    /// The dimensions, outermost first (MNIST images: count, rows, columns).
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }
    /// The elements in row-major order.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
    /// The elements, by value.
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }
}

/// Reads an IDX array of unsigned bytes from `reader` (gzip-compressed or not); `name` is the
/// file name used in error messages.
pub fn read<R: Read>(reader: R, name: &str) -> Result<IdxArray, DataError> {
    let io = |source| DataError::Io {
        file: name.to_string(),
        source,
    };
    let mut buffered = BufReader::new(reader);
    let gzipped = buffered.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
    if gzipped {
        read_plain(BufReader::new(MultiGzDecoder::new(buffered)), name)
    } else {
        read_plain(buffered, name)
    }
}

/// Reads an IDX file (gzip-compressed or not).
pub fn read_file(path: &Path) -> Result<IdxArray, DataError> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|source| DataError::Io {
        file: name.clone(),
        source,
    })?;
    read(file, &name)
}

fn read_plain<R: Read>(mut r: R, name: &str) -> Result<IdxArray, DataError> {
    let file = || name.to_string();
    let mut magic = Vec::with_capacity(4);
    read_up_to(&mut r, &mut magic, 4, name)?;
    if magic.len() < 4 || magic[0] != 0 || magic[1] != 0 || magic[3] == 0 {
        return Err(DataError::IdxMagic {
            file: file(),
            found: magic,
        });
    }
    if magic[2] != TYPE_U8 {
        return Err(DataError::IdxType {
            file: file(),
            code: magic[2],
        });
    }
    let rank = usize::from(magic[3]);
    let mut header = Vec::with_capacity(4 * rank);
    read_up_to(&mut r, &mut header, 4 * rank as u64, name)?;
    if header.len() < 4 * rank {
        return Err(DataError::IdxTruncated {
            file: file(),
            what: "header",
            expected: 4 + 4 * rank as u64,
            found: 4 + header.len() as u64,
        });
    }
    let dims: Vec<u32> = header
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let len = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(u64::from(d)))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| DataError::IdxDimOverflow {
            file: file(),
            dims: dims.clone(),
            max: MAX_ELEMENTS,
        })?;
    // One byte more than announced tells a file with trailing bytes from an exact one.
    let mut data = Vec::new();
    read_up_to(&mut r, &mut data, len + 1, name)?;
    let found = data.len() as u64;
    if found < len {
        return Err(DataError::IdxTruncated {
            file: file(),
            what: "data",
            expected: len,
            found,
        });
    }
    if found > len {
        return Err(DataError::IdxTrailing {
            file: file(),
            expected: len,
        });
    }
    Ok(IdxArray {
        dims: dims.iter().map(|&d| d as usize).collect(),
        data,
    })
}

/// Appends at most `limit` bytes; fewer only at the end of the input.
fn read_up_to<R: Read>(
    r: &mut R,
    out: &mut Vec<u8>,
    limit: u64,
    name: &str,
) -> Result<(), DataError> {
    r.take(limit)
        .read_to_end(out)
        .map_err(|source| DataError::Io {
            file: name.to_string(),
            source,
        })?;
    Ok(())
}

/// Images of `rows × cols` unsigned-byte pixels with one class label each (an MNIST split).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledImages {
    /// Pixel rows per image.
    pub rows: usize,
    /// Pixel columns per image.
    pub cols: usize,
    /// All images, row-major, one after the other (`len() · rows · cols` bytes).
    pub pixels: Vec<u8>,
    /// One label per image.
    pub labels: Vec<u8>,
}

impl LabelledImages {
    /// Pairs an images array (count × rows × cols) with a labels array (count), checking ranks
    /// and counts; the names are used in error messages.
    pub fn new(
        images: IdxArray,
        images_name: &str,
        labels: IdxArray,
        labels_name: &str,
    ) -> Result<Self, DataError> {
        let rank = |a: &IdxArray, file: &str, expected, role| {
            if a.dims.len() == expected {
                Ok(())
            } else {
                Err(DataError::IdxRank {
                    file: file.to_string(),
                    expected,
                    found: a.dims.len(),
                    role,
                })
            }
        };
        rank(&images, images_name, 3, "images")?;
        rank(&labels, labels_name, 1, "labels")?;
        if images.dims[0] != labels.dims[0] {
            return Err(DataError::IdxCountMismatch {
                images: images_name.to_string(),
                n_images: images.dims[0],
                labels: labels_name.to_string(),
                n_labels: labels.dims[0],
            });
        }
        Ok(Self {
            rows: images.dims[1],
            cols: images.dims[2],
            pixels: images.data,
            labels: labels.data,
        })
    }

    /// Reads and pairs an images file and a labels file (each possibly gzipped).
    pub fn read_files(images: &Path, labels: &Path) -> Result<Self, DataError> {
        Self::new(
            read_file(images)?,
            &images.display().to_string(),
            read_file(labels)?,
            &labels.display().to_string(),
        )
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    /// True if there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    /// The first `n` images (all if there are fewer).
    pub fn head(&self, n: usize) -> Self {
        let n = n.min(self.len());
        Self {
            rows: self.rows,
            cols: self.cols,
            pixels: self.pixels[..n * self.rows * self.cols].to_vec(),
            labels: self.labels[..n].to_vec(),
        }
    }
    /// The images as a [`Dataset`]: one row of `rows · cols` pixel values per image, scaled by
    /// `scale` (1/255 maps the bytes to [0, 1]), and the labels.
    pub fn to_dataset(&self, scale: f64) -> Dataset {
        let x = Array2::from_shape_fn((self.len(), self.rows * self.cols), |(i, j)| {
            f64::from(self.pixels[i * self.rows * self.cols + j]) * scale
        });
        let y = Array1::from_iter(self.labels.iter().map(|&l| f64::from(l)));
        Dataset { x, y }
    }
}

/// The training and test split of MNIST (or Fashion-MNIST) read from one directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MnistSplits {
    /// `train-images-idx3-ubyte` with `train-labels-idx1-ubyte`.
    pub train: LabelledImages,
    /// `t10k-images-idx3-ubyte` with `t10k-labels-idx1-ubyte`.
    pub test: LabelledImages,
}

/// The four standard file names, without the optional `.gz`.
pub const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Reads the four standard MNIST files from `dir`, each as `NAME` or `NAME.gz`.
///
/// ```
/// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/mnist-slice");
/// let mnist = rks_data::idx::read_mnist_dir(&dir)?;
/// assert_eq!((mnist.train.len(), mnist.test.len()), (500, 200));
/// assert_eq!((mnist.train.rows, mnist.train.cols), (28, 28));
/// # Ok::<(), rks_data::DataError>(())
/// ```
pub fn read_mnist_dir(dir: &Path) -> Result<MnistSplits, DataError> {
    let [tri, trl, tei, tel] = MNIST_FILES.map(|name| find(dir, name));
    Ok(MnistSplits {
        train: LabelledImages::read_files(&tri?, &trl?)?,
        test: LabelledImages::read_files(&tei?, &tel?)?,
    })
}

/// `dir/name`, else `dir/name.gz`, else a not-found error naming both.
fn find(dir: &Path, name: &str) -> Result<PathBuf, DataError> {
    let plain = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    if plain.is_file() {
        Ok(plain)
    } else if gz.is_file() {
        Ok(gz)
    } else {
        Err(DataError::Io {
            file: plain.display().to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("neither it nor {} exists", gz.display()),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, TYPE_U8, dims.len() as u8];
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reads_plain_and_gzipped_alike() {
        let data: Vec<u8> = (0..24).collect();
        let bytes = idx(&[2, 3, 4], &data);
        let plain = read(&bytes[..], "m").unwrap();
        assert_eq!(plain.dims(), &[2, 3, 4]);
        assert_eq!(plain.data(), &data[..]);
        assert_eq!(read(&gzip(&bytes)[..], "m").unwrap(), plain);
    }

    #[test]
    fn wrong_magic_is_refused() {
        for bad in [
            &b"\x01\x00\x08\x01"[..],
            b"\x00\x00\x08\x00",
            b"\x00\x00",
            b"",
        ] {
            let err = read(bad, "m").unwrap_err();
            assert!(matches!(err, DataError::IdxMagic { .. }), "{bad:?}: {err}");
        }
        let err = read(&b"\x00\x00\x0d\x01\x00\x00\x00\x01xxxx"[..], "f.idx").unwrap_err();
        assert!(matches!(err, DataError::IdxType { code: 0x0d, .. }));
        assert!(err.to_string().starts_with("f.idx: "));
    }

    #[test]
    fn truncated_header_and_data_are_refused() {
        let bytes = idx(&[2, 3], &[1, 2, 3, 4, 5]);
        let err = read(&bytes[..], "m").unwrap_err();
        assert!(matches!(
            err,
            DataError::IdxTruncated {
                what: "data",
                expected: 6,
                found: 5,
                ..
            }
        ));
        // Also when the truncation is inside a gzip stream.
        let err = read(&gzip(&bytes)[..], "m").unwrap_err();
        assert!(matches!(err, DataError::IdxTruncated { .. }));
        let err = read(&bytes[..9], "m").unwrap_err();
        assert!(matches!(
            err,
            DataError::IdxTruncated {
                what: "header",
                expected: 12,
                found: 9,
                ..
            }
        ));
        let err = read(&idx(&[2], &[1, 2, 3])[..], "m").unwrap_err();
        assert!(matches!(err, DataError::IdxTrailing { expected: 2, .. }));
    }

    #[test]
    fn overflowing_dimensions_are_refused_before_allocating() {
        let bytes = idx(&[u32::MAX, u32::MAX, u32::MAX], &[]);
        let err = read(&bytes[..], "m").unwrap_err();
        assert!(matches!(err, DataError::IdxDimOverflow { .. }), "{err}");
        // A product that fits but is absent: truncated, with no giant reservation.
        let err = read(&idx(&[u32::MAX, 1 << 20], &[0; 10])[..], "m").unwrap_err();
        assert!(matches!(err, DataError::IdxTruncated { found: 10, .. }));
    }

    #[test]
    fn image_and_label_counts_must_agree() {
        let images = read(&idx(&[3, 2, 2], &[0; 12])[..], "i").unwrap();
        let labels = read(&idx(&[2], &[0, 1])[..], "l").unwrap();
        let err = LabelledImages::new(images.clone(), "i", labels, "l").unwrap_err();
        assert!(matches!(
            err,
            DataError::IdxCountMismatch {
                n_images: 3,
                n_labels: 2,
                ..
            }
        ));
        assert_eq!(err.to_string(), "i: 3 images, but l: 2 labels");
        let err = LabelledImages::new(images.clone(), "i", images, "l").unwrap_err();
        assert!(matches!(
            err,
            DataError::IdxRank {
                expected: 1,
                found: 3,
                ..
            }
        ));
    }

    #[test]
    fn committed_slice_reads_and_converts() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/mnist-slice");
        let m = read_mnist_dir(&dir).unwrap();
        assert_eq!((m.train.len(), m.test.len()), (500, 200));
        assert!(m.train.labels.iter().all(|&l| l < 10));
        let d = m.test.head(3).to_dataset(1.0 / 255.0);
        assert_eq!(d.x.dim(), (3, 784));
        assert!(d.x.iter().all(|&v| (0.0..=1.0).contains(&v)));
        let err = read_mnist_dir(&dir.join("absent")).unwrap_err();
        assert!(err.to_string().contains("train-images-idx3-ubyte"));
    }
}

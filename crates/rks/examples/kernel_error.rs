//! Kernel error of every map at equal output width, on the bundled digits (d = 64) and letter
//! (d = 16) data, and SORF's bias against the input dimension.
//!
//! Table 1: rows standardised (column mean 0, variance 1, fitted on the training file), σ by the
//! median heuristic, the Gaussian kernel matrix of the first 300 test rows; the mean squared
//! error of φ(x)·φ(y) over its distinct pairs, averaged over 5 seeds, for output widths D of 64,
//! 256 and (digits only) 1,024 (D/2 frequencies for the cos/sin maps, D landmarks drawn from the training rows
//! for Nyström).
//!
//! Table 2: 40 rows of d standard normals scaled to ‖x‖ ≈ 1, σ = 0.75 and 1.5, the mean squared
//! error of dense, ORF and SORF at n = 16,384 frequencies (where the variance is small and a bias
//! shows), averaged over 3 seeds.
//!
//! ```text
//! cargo run --release -p rks --example kernel_error        (run from the workspace root)
//! ```

use ndarray::{Array2, s};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rks::scaler::{Scaler, ScalerKind};
use rks::{AnyMap, Bandwidth, FeatureMap, Kernel, MapKind, Nystrom, Sampling};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The rows of a LIBSVM file (labels dropped), `cols` columns.
fn read_libsvm(path: &str, cols: usize) -> Result<Array2<f64>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{path}: {e} (run from the workspace root)"))?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut x = Array2::zeros((lines.len(), cols));
    for (i, line) in lines.iter().enumerate() {
        for item in line.split_whitespace().skip(1) {
            let (index, value) = item.split_once(':').ok_or(format!("{path}:{}", i + 1))?;
            let index: usize = index.parse()?;
            x[(i, index - 1)] = value.parse()?;
        }
    }
    Ok(x)
}

fn exact_gram(x: &Array2<f64>, sigma: f64) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = x.rows().into_iter().map(|r| r.to_vec()).collect();
    Array2::from_shape_fn((x.nrows(), x.nrows()), |(i, j)| {
        Kernel::Gaussian
            .exact(&rows[i], &rows[j], Bandwidth::Sigma(sigma))
            .unwrap_or(f64::NAN)
    })
}

/// Mean squared error over the distinct pairs.
fn mse(phi: &Array2<f64>, exact: &Array2<f64>) -> f64 {
    let approx = phi.dot(&phi.t());
    let n = exact.nrows();
    let mut sum = 0.0;
    for i in 0..n {
        for j in 0..i {
            sum += (approx[(i, j)] - exact[(i, j)]).powi(2);
        }
    }
    sum / (n * (n - 1) / 2) as f64
}

/// A map of output width `width` of the named kind (Nyström fitted to `train`).
fn map(
    name: &str,
    width: usize,
    d: usize,
    sigma: f64,
    seed: u64,
    train: &Array2<f64>,
) -> Result<AnyMap> {
    let bandwidth = Bandwidth::Sigma(sigma);
    let sampling = match name {
        "nystrom" => Sampling::Uniform,
        "nystrom-rls" => Sampling::RidgeLeverage,
        kind => {
            let kind: MapKind = kind.parse()?;
            return Ok(AnyMap::build(
                kind,
                d,
                width / 2,
                bandwidth,
                Kernel::Gaussian,
                seed,
            )?);
        }
    };
    Ok(Nystrom::params()
        .n_landmarks(width)
        .bandwidth(bandwidth)
        .sampling(sampling)
        .seed(seed)
        .fit(train.view())?
        .into())
}

/// A ratio with two significant digits.
fn ratio(r: f64) -> String {
    if r < 0.095 {
        format!("{r:.3}")
    } else {
        format!("{r:.2}")
    }
}

fn data_table(name: &str, d: usize, widths: &[usize]) -> Result<()> {
    let train = read_libsvm(&format!("datasets/{name}.train"), d)?;
    let test = read_libsvm(&format!("datasets/{name}.test"), d)?;
    let scaler = Scaler::fit(train.view(), ScalerKind::Standard)?;
    let (train, test) = (
        scaler.transform(train.view())?,
        scaler.transform(test.view())?,
    );
    let sigma = rks::median::median_heuristic_sigma(train.view(), 1000, 0)?;
    let x = test.slice(s![..300, ..]).to_owned();
    let exact = exact_gram(&x, sigma);
    println!("\n{name} (d = {d}, σ = {sigma:.3}, 300 test rows): mean squared kernel error");
    let maps = ["dense", "orf", "sorf", "fastfood", "nystrom", "nystrom-rls"];
    println!("| D | {} |", maps.join(" | "));
    println!("|---:|{}", "---:|".repeat(maps.len()));
    for &width in widths {
        let mut cells = Vec::new();
        let mut dense = 0.0;
        for name in maps {
            let mut total = 0.0;
            for seed in 0..5 {
                let phi = map(name, width, d, sigma, seed, &train)?.transform(x.view())?;
                total += mse(&phi, &exact) / 5.0;
            }
            if name == "dense" {
                dense = total;
                cells.push(format!("{total:.2e}"));
            } else {
                cells.push(format!("{total:.2e} ({}×)", ratio(total / dense)));
            }
        }
        println!("| {width} | {} |", cells.join(" | "));
    }
    Ok(())
}

fn bias_table() -> Result<()> {
    let n = 16384;
    println!("\nSORF's bias: mean squared kernel error at n = {n}, 40 rows with ‖x‖ ≈ 1");
    println!("| d | σ | dense | ORF | SORF | SORF / dense |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for d in [4, 8, 16, 32, 64, 128, 256] {
        let mut rng = ChaCha8Rng::seed_from_u64(d as u64);
        let x = Array2::from_shape_simple_fn((40, d), || StandardNormal.sample(&mut rng))
            / (d as f64).sqrt();
        for sigma in [0.75, 1.5] {
            let exact = exact_gram(&x, sigma);
            let mut errors = [0.0; 3];
            for (e, kind) in errors
                .iter_mut()
                .zip([MapKind::Dense, MapKind::Orf, MapKind::Sorf])
            {
                for seed in 0..3 {
                    let map =
                        AnyMap::build(kind, d, n, Bandwidth::Sigma(sigma), Kernel::Gaussian, seed)?;
                    *e += mse(&map.transform(x.view())?, &exact) / 3.0;
                }
            }
            println!(
                "| {d} | {sigma} | {:.2e} | {:.2e} | {:.2e} | {:.2} |",
                errors[0],
                errors[1],
                errors[2],
                errors[2] / errors[0]
            );
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    let only_bias = std::env::args().any(|a| a == "--bias");
    if !only_bias {
        data_table("digits", 64, &[64, 256, 1024])?;
        // Not 1,024 on letter: ridge-leverage sampling costs O(N·m²) with N = 16,000 rows.
        data_table("letter", 16, &[64, 256])?;
    }
    bias_table()?;
    Ok(())
}

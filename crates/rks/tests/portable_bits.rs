//! The same seed gives the same feature bits on every platform (docs/architecture.md,
//! "Determinism"): for each random map and kernel, a hash of the features of fixed rows, in f32
//! and f64, pinned here. The parameters come from ChaCha8 and the portable sampler, the
//! transforms from the crate's own arithmetic (fused multiply-adds on every path), so a
//! platform, a SIMD level or a change that computes any feature differently fails this test.
//! The cases reach every branch of the cos/sin step: the f32 reduction, the f64 one for
//! arguments beyond 8,192, and `libm` beyond 10⁶. Nyström maps are pinned too (their own test
//! below): landmarks drawn uniformly and by ridge leverage, K_mm^{+1/2} from the crate's own
//! eigendecomposition (`rks::symmetric`), past its blocks of 64 and its parallel stripes.
//!
//! Pinned on x86-64 with the AVX-512 kernels (each map's own tests compare every SIMD level with
//! the portable kernels, bit for bit); passed on aarch64 and s390x under qemu-user (`.ci/cross`).

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rks::envelope::fnv1a;
use rks::{AnyMap, Bandwidth, Element, FeatureMap, Kernel, MapKind, Nystrom, Sampling};

/// 20 rows × 100 columns, uniform in [−2, 2) from ChaCha8's raw words (no float sampler).
fn rows() -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    Array2::from_shape_simple_fn((20, 100), || {
        (rng.next_u64() >> 11) as f64 * (4.0 / (1u64 << 53) as f64) - 2.0
    })
}

/// The model files' checksum (FNV-1a) over the values' bits as f64, in row-major order.
fn hash<F: Element>(values: &Array2<F>) -> u64 {
    let bytes: Vec<u8> = values
        .iter()
        .flat_map(|v| v.to_f64_exact().to_bits().to_le_bytes())
        .collect();
    fnv1a(&bytes)
}

/// Every case: its name and the hashes of its f32 and f64 features.
fn cases() -> Vec<(String, u64, u64)> {
    let x = rows();
    let x32 = x.mapv(|v| v as f32);
    let kinds = [
        MapKind::Dense,
        MapKind::Orf,
        MapKind::Fastfood,
        MapKind::Sorf,
    ];
    let mut settings: Vec<(MapKind, Kernel, f64)> = kinds
        .iter()
        .flat_map(|&kind| Kernel::ALL.map(|kernel| (kind, kernel, 3.0)))
        // The Laplacian kernel's Cauchy rows have no orthogonal or structured form, and the
        // linear kernel no frequencies.
        .filter(|&(kind, kernel, _)| kind.supports(kernel))
        .collect();
    // Narrow bandwidths: arguments beyond 8,192 (the f32 step's f64 reduction) and beyond 10⁶
    // (`libm`'s sincos).
    for kind in kinds {
        settings.push((kind, Kernel::Gaussian, 1e-3));
        settings.push((kind, Kernel::Gaussian, 1e-6));
    }
    settings
        .into_iter()
        .map(|(kind, kernel, sigma)| {
            // d = 100 pads to 128 for the structured maps; 300 frequencies end in a cut block.
            let map = AnyMap::build(kind, 100, 300, Bandwidth::Sigma(sigma), kernel, 5).unwrap();
            (
                format!("{kind:?} {kernel:?} sigma={sigma:e}"),
                hash(&map.transform(x32.view()).unwrap()),
                hash(&map.transform(x.view()).unwrap()),
            )
        })
        .collect()
}

/// The hashes computed on x86-64 when the test was written.
const PINNED: &[(&str, u64, u64)] = &[
    (
        "Dense Gaussian sigma=3e0",
        0xd9d60f000fa86f75,
        0xc8bc73788e11c1f8,
    ),
    (
        "Dense Laplacian sigma=3e0",
        0x6d5336a7c9dd6e50,
        0x789b04beea615623,
    ),
    (
        "Dense Matern12 sigma=3e0",
        0xfeb23fc232cbbcc4,
        0x074712d7251e363b,
    ),
    (
        "Dense Matern32 sigma=3e0",
        0x7338d9871d6d574a,
        0xc16ac088b5742fd8,
    ),
    (
        "Dense Matern52 sigma=3e0",
        0x8a6f6516d5d1d1f3,
        0xd8747d8372c638c6,
    ),
    (
        "Dense ArcCos0 sigma=3e0",
        0x819cbce1e1b18ba5,
        0x6caa8faa8764f725,
    ),
    (
        "Dense ArcCos1 sigma=3e0",
        0xbb95ac1f29916dec,
        0x15e9fcd923df7969,
    ),
    (
        "Orf Gaussian sigma=3e0",
        0xc401f5d7176f7992,
        0x62de5bc58f452f76,
    ),
    (
        "Orf Matern12 sigma=3e0",
        0x4c047ed8186e62ad,
        0x40aa839f25bc11b7,
    ),
    (
        "Orf Matern32 sigma=3e0",
        0xcb0eed681f2d7988,
        0x5ca89e9aa484eec8,
    ),
    (
        "Orf Matern52 sigma=3e0",
        0x48ee7027dd488267,
        0x74187ceb2d25ee0f,
    ),
    (
        "Orf ArcCos0 sigma=3e0",
        0x88cc154dacbd52d4,
        0x63a03a5a6784addc,
    ),
    (
        "Orf ArcCos1 sigma=3e0",
        0x8942cca68be9e10d,
        0xb1829d801de1bbc7,
    ),
    (
        "Fastfood Gaussian sigma=3e0",
        0xeca71aca975073fa,
        0x3018ed3f588e3b95,
    ),
    (
        "Fastfood Matern12 sigma=3e0",
        0xe72e9cfe8bb3ab6a,
        0xce723f05a5b81047,
    ),
    (
        "Fastfood Matern32 sigma=3e0",
        0xe0da3195828bba8a,
        0x70622d5c6e074fb4,
    ),
    (
        "Fastfood Matern52 sigma=3e0",
        0x2ff706ccf46b0d7c,
        0x7ee6bbf5e4339b77,
    ),
    (
        "Fastfood ArcCos0 sigma=3e0",
        0xd2a9fb77bc237311,
        0x9178322715181f19,
    ),
    (
        "Fastfood ArcCos1 sigma=3e0",
        0x31a8f7e5e6c1a68e,
        0x883d7c3290cff35c,
    ),
    (
        "Sorf Gaussian sigma=3e0",
        0xf5062cf0d5b98c5e,
        0x5a3f2036254aea02,
    ),
    (
        "Sorf Matern12 sigma=3e0",
        0xc0f55ef7cf551820,
        0x1e975df20f3dbb09,
    ),
    (
        "Sorf Matern32 sigma=3e0",
        0x977872c8d39f0da1,
        0x66a17a04759a5527,
    ),
    (
        "Sorf Matern52 sigma=3e0",
        0x960b64c6d60fca2e,
        0xf005bde95ba7d1a7,
    ),
    (
        "Sorf ArcCos0 sigma=3e0",
        0x1453d3fece8c2ab0,
        0x8115c801d228feb8,
    ),
    (
        "Sorf ArcCos1 sigma=3e0",
        0x7d7f215a25f0cdce,
        0x36027755a1e0ccf5,
    ),
    (
        "Dense Gaussian sigma=1e-3",
        0xfbbb99b4043cc3cf,
        0xd6c27fe2748952a8,
    ),
    (
        "Dense Gaussian sigma=1e-6",
        0x3f8a7b05d79c19aa,
        0x58f729e1fb90f184,
    ),
    (
        "Orf Gaussian sigma=1e-3",
        0x2691193869833a30,
        0xdfd8af8775f23603,
    ),
    (
        "Orf Gaussian sigma=1e-6",
        0xcebfb059227787df,
        0x2e46fb88f78b290d,
    ),
    (
        "Fastfood Gaussian sigma=1e-3",
        0xfd03f576f1c7069d,
        0x39b61ab9bca22ef1,
    ),
    (
        "Fastfood Gaussian sigma=1e-6",
        0xc19a928f9dbd64b5,
        0x9b1cb591303e0842,
    ),
    (
        "Sorf Gaussian sigma=1e-3",
        0x0dc77d5ce47757dd,
        0x43eabfa2f765c398,
    ),
    (
        "Sorf Gaussian sigma=1e-6",
        0x2ef4d18de81cca4a,
        0xbb515e89dd193151,
    ),
];

#[test]
fn features_have_the_same_bits_on_every_platform() {
    let found = cases();
    let table: String = found
        .iter()
        .map(|(name, h32, h64)| format!("    ({name:?}, {h32:#018x}, {h64:#018x}),\n"))
        .collect();
    let expected: Vec<(String, u64, u64)> = PINNED
        .iter()
        .map(|&(name, h32, h64)| (name.to_string(), h32, h64))
        .collect();
    let differing: Vec<&str> = found
        .iter()
        .zip(&expected)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.0.as_str())
        .collect();
    assert!(
        found.len() == expected.len() && differing.is_empty(),
        "feature bits differ from the pinned ones in {differing:?} ({} cases, {} pinned); \
         this platform computes:\n{table}",
        found.len(),
        expected.len()
    );
}

/// Nyström maps fitted on 400 rows of 10 columns: the hashes of the features of all rows, f32
/// and f64, for m = 300 uniform Gaussian landmarks (the eigendecomposition's parallel stripes),
/// 150 ridge-leverage Laplacian ones and 200 uniform arc-cosine (order 1) ones.
fn nystrom_cases() -> Vec<(String, u64, u64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let x = Array2::from_shape_simple_fn((400, 10), || {
        (rng.next_u64() >> 11) as f64 * (4.0 / (1u64 << 53) as f64) - 2.0
    });
    let x32 = x.mapv(|v| v as f32);
    [
        (300, Kernel::Gaussian, Sampling::Uniform),
        (150, Kernel::Laplacian, Sampling::RidgeLeverage),
        (200, Kernel::ArcCos1, Sampling::Uniform),
    ]
    .into_iter()
    .map(|(m, kernel, sampling)| {
        let map = Nystrom::params()
            .n_landmarks(m)
            .sigma(2.0)
            .kernel(kernel)
            .sampling(sampling)
            .seed(7)
            .fit(x.view())
            .unwrap();
        (
            format!("Nystrom {m} {kernel:?} {sampling:?}"),
            hash(&map.transform(x32.view()).unwrap()),
            hash(&map.transform(x.view()).unwrap()),
        )
    })
    .collect()
}

/// The Nyström hashes computed on x86-64 when the test was written.
const PINNED_NYSTROM: &[(&str, u64, u64)] = &[
    (
        "Nystrom 300 Gaussian Uniform",
        0x756863c3e686a043,
        0xaef8582f529eaeae,
    ),
    (
        "Nystrom 150 Laplacian RidgeLeverage",
        0x1e456654225b98b0,
        0x3d6b622cd562b65f,
    ),
    (
        "Nystrom 200 ArcCos1 Uniform",
        0x67e6c1252af7158d,
        0xad9d1af5de2c50b0,
    ),
];

#[test]
fn nystrom_features_have_the_same_bits_on_every_platform() {
    let found = nystrom_cases();
    let table: String = found
        .iter()
        .map(|(name, h32, h64)| format!("    ({name:?}, {h32:#018x}, {h64:#018x}),\n"))
        .collect();
    let expected: Vec<(String, u64, u64)> = PINNED_NYSTROM
        .iter()
        .map(|&(name, h32, h64)| (name.to_string(), h32, h64))
        .collect();
    assert!(
        found == expected,
        "Nyström feature bits differ from the pinned ones; this platform computes:\n{table}"
    );
}

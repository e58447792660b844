//! The exact 16-bit Gram kernel (`rks::gram`) at the streamed fit's shape: blocks of 1,024 rows
//! of D = 2,048 grid integers (|q| ≤ 5,792: 12 bits and the grid's √2 slack), the lower triangle of QᵀQ added into `i64` totals.
//! For each level the CPU has, one and two threads: the best wall time of one block and the
//! multiply-adds per second (D(D+1)/2 per row). The packing is timed apart.
//!
//! Run: `cargo run --release -p rks --example gram_cpu [repeats]`.

mod support;

use std::time::Instant;

use rks::gram::{PackedRows, add_lower_gram, packed_len};
use rks::simd::Simd;

const ROWS: usize = 1024;
const DIM: usize = 2048;

fn main() {
    let repeats = support::repeats(5);
    let mut s = 1u64;
    let q: Vec<i16> = (0..ROWS * DIM)
        .map(|_| {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            ((s >> 33) % 11585) as i16 - 5792
        })
        .collect();
    let mut packed = PackedRows::new();
    let t = Instant::now();
    for _ in 0..repeats {
        packed.pack(&q, DIM).unwrap();
    }
    println!(
        "pack: {:.2} ms a block",
        t.elapsed().as_secs_f64() * 1e3 / repeats as f64
    );
    let macs = (ROWS * packed_len(DIM)) as f64;
    let mut lower = vec![0i64; packed_len(DIM)];
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
    let mut levels = vec![("portable", Simd::portable())];
    #[cfg(target_arch = "x86_64")]
    {
        use rks::simd::{Avx2Fma, Avx512Vnni};
        levels.extend(Avx2Fma::detect().map(|c| ("avx2", Simd::from(c))));
        levels.extend(Avx512Vnni::detect().map(|c| ("avx512-vnni", Simd::from(c))));
    }
    println!("| level | threads | ms a block | G multiply-adds/s |\n|---|---|---|---|");
    for (name, simd) in levels {
        for threads in [1, 2] {
            let best = support::pool(threads).install(|| {
                (0..repeats)
                    .map(|_| {
                        let t = Instant::now();
                        add_lower_gram(simd, &packed, &mut lower);
                        t.elapsed().as_secs_f64()
                    })
                    .fold(f64::INFINITY, f64::min)
            });
            println!(
                "| {name} | {threads} | {:.2} | {:.1} |",
                best * 1e3,
                macs / best * 1e-9
            );
        }
    }
}

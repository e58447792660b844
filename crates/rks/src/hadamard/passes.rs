//! The register-blocked passes of the Walsh–Hadamard transform, written once for every vector
//! width: [`kernels!`] instantiates them for one lane type and one set of target features
//! (`avx2.rs`: 8 f32 or 4 f64 lanes; `avx512.rs`: 16 f32 or 8 f64 lanes).
//!
//! - The first pass loads 16 consecutive registers, runs the in-register stages of each and the
//!   four stages across them, and stores them: the first log₂(16·lanes) stages, one load and one
//!   store per entry.
//! - Each later pass loads 16 registers h apart, runs four stages on them (radix 16) and stores
//!   them.
//! - A vector longer than one cache block is transformed recursively: its parts first (each in
//!   cache), then one radix-8 pass across them.
//!
//! Every butterfly is the reference's `u + v` / `u − v` on the same operands, so every kernel is
//! bit for bit [`super::fwht_reference`] (tested in [`super`]).

/// Stage s across the registers `$v[..]` (the indices listed): lane-wise `v[i] + v[i ^ s]` where
/// i & s = 0, else `v[i ^ s] − v[i]` as `v[i]·(−1) + v[i ^ s]` (same rounding, FMA pipes).
macro_rules! stage {
    ($add:ident, $fmadd:ident, $neg:ident, $v:ident, $s:expr, $($i:expr),*) => {
        [$(if $i & $s == 0 {
            $add($v[$i], $v[$i ^ $s])
        } else {
            $fmadd($v[$i], $neg, $v[$i ^ $s])
        }),*]
    };
}

/// The kernels of one lane type, compiled with the target features `$features`: `$inner` are
/// the in-register stages (a `#[target_feature]` function of one register), `$fmadd(a, n, b)`
/// computes `b − a` (as `a·n + b` with `n` = −1, or as a subtraction), the rest are the
/// intrinsics of that type.
macro_rules! kernels {
    ($features:literal, $module:ident, $t:ty, $v:ty, $lanes:expr, $inner:ident,
     $load:ident, $store:ident, $add:ident, $fmadd:ident, $set1:ident) => {
        mod $module {
            use super::*;

            /// Entries per register.
            pub(super) const LANES: usize = $lanes;

            /// −1 in every lane, hidden from the optimiser: knowing it, the compiler turns
            /// the fused multiply-add b·(−1) + a back into a − b, on the adders.
            #[inline]
            #[target_feature(enable = $features)]
            fn minus_one() -> $v {
                std::hint::black_box($set1(-1.0))
            }

            /// Written out (macros, not loops over arrays): with loops the compiler may keep
            /// the registers in memory and copy them between stages.
            macro_rules! st {
                (32, $v_:ident, $s:expr, $neg:ident) => {
                    stage!(
                        $add, $fmadd, $neg, $v_, $s, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                        14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
                    )
                };
                (16, $v_:ident, $s:expr, $neg:ident) => {
                    stage!(
                        $add, $fmadd, $neg, $v_, $s, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                        14, 15
                    )
                };
                (8, $v_:ident, $s:expr, $neg:ident) => {
                    stage!($add, $fmadd, $neg, $v_, $s, 0, 1, 2, 3, 4, 5, 6, 7)
                };
                (4, $v_:ident, $s:expr, $neg:ident) => {
                    stage!($add, $fmadd, $neg, $v_, $s, 0, 1, 2, 3)
                };
                (2, $v_:ident, $s:expr, $neg:ident) => {
                    stage!($add, $fmadd, $neg, $v_, $s, 0, 1)
                };
            }

            /// The whole transform, recursively: a slice larger than one cache block is
            /// transformed as up to 16 parts, then one pass for the stages across them.
            /// `data.len()` a power of two ≥ 16·LANES.
            #[target_feature(enable = $features)]
            pub(super) fn recursive(data: &mut [$t]) {
                let n = data.len();
                let block = BLOCK_BYTES / size_of::<$t>();
                if n <= block {
                    let p = data.as_ptr();
                    // SAFETY: `in_cache_from` loads offsets k..k+LANES below n only.
                    return unsafe { in_cache_from(data, |k| $load(p.add(k))) };
                }
                let above = (n / block).trailing_zeros();
                // Parts at least 4 KiB apart fall in the same L1 set (and, further apart,
                // the same L2 set): at most 8 streams (radix 8), as many as a set has ways.
                // (Radix 16 here made 2^16 f32 entries 40 % slower.) The rest of the stages
                // go to the smallest parts.
                let radix_log = above.min(3);
                let part = n >> radix_log;
                for p in data.chunks_exact_mut(part) {
                    recursive(p);
                }
                pass(data, part, radix_log);
            }

            /// The whole transform of 4, 8 or 32 registers' worth (in-register stages, then
            /// two, three or five across them, one load and one store per entry); false
            /// (nothing done) for other lengths.
            #[target_feature(enable = $features)]
            pub(super) fn short(data: &mut [$t]) -> bool {
                let neg = minus_one();
                let p = data.as_mut_ptr();
                // SAFETY: register k covers p[LANES·k..LANES·(k+1)], inside `data` for
                // k < data.len()/LANES (4 or 8 in the arms taken).
                let at = |k: usize| $inner(unsafe { $load(p.add(LANES * k)) });
                let st = |v: &[$v]| {
                    for (k, v) in v.iter().enumerate() {
                        // SAFETY: as for the loads, v.len() = data.len()/LANES registers.
                        unsafe { $store(p.add(LANES * k), *v) };
                    }
                };
                match data.len() / LANES {
                    4 if data.len() == 4 * LANES => {
                        let v = [at(0), at(1), at(2), at(3)];
                        let v = st!(4, v, 1, neg);
                        let v = st!(4, v, 2, neg);
                        st(&v);
                    }
                    8 if data.len() == 8 * LANES => {
                        let v = [at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7)];
                        let v = st!(8, v, 1, neg);
                        let v = st!(8, v, 2, neg);
                        let v = st!(8, v, 4, neg);
                        st(&v);
                    }
                    32 if data.len() == 32 * LANES => {
                        let v: [$v; 32] = std::array::from_fn(at);
                        let v = st!(32, v, 1, neg);
                        let v = st!(32, v, 2, neg);
                        let v = st!(32, v, 4, neg);
                        let v = st!(32, v, 8, neg);
                        let v = st!(32, v, 16, neg);
                        st(&v);
                    }
                    _ => return false,
                }
                true
            }

            /// The transform of a slice in cache, its first pass on `load(k)` (k a multiple of
            /// LANES): `data.len()` a power of two ≥ 16·LANES.
            ///
            /// # Safety
            /// `load(k)` must be sound for every multiple k of LANES below `data.len()`.
            #[target_feature(enable = $features)]
            pub(super) unsafe fn in_cache_from(data: &mut [$t], load: impl Fn(usize) -> $v) {
                // SAFETY: the caller's contract.
                unsafe { first_pass(data, load) };
                let n = data.len();
                let mut h = 16 * LANES;
                while h < n {
                    let radix_log = (n / h).trailing_zeros().min(4);
                    pass(data, h, radix_log);
                    h <<= radix_log;
                }
            }

            /// The in-register stages of 16 consecutive registers, then the four stages across
            /// them, for each group of 16·LANES entries (`data.len()` a multiple of it).
            ///
            /// # Safety
            /// `load(k)` must be sound for every multiple k of LANES below `data.len()`.
            #[target_feature(enable = $features)]
            unsafe fn first_pass(data: &mut [$t], load: impl Fn(usize) -> $v) {
                let neg = minus_one();
                for (c, chunk) in data.chunks_exact_mut(16 * LANES).enumerate() {
                    let p = chunk.as_mut_ptr();
                    let at = |k: usize| $inner(load(16 * LANES * c + LANES * k));
                    let v = [
                        at(0),
                        at(1),
                        at(2),
                        at(3),
                        at(4),
                        at(5),
                        at(6),
                        at(7),
                        at(8),
                        at(9),
                        at(10),
                        at(11),
                        at(12),
                        at(13),
                        at(14),
                        at(15),
                    ];
                    let v = st!(16, v, 1, neg);
                    let v = st!(16, v, 2, neg);
                    let v = st!(16, v, 4, neg);
                    let v = st!(16, v, 8, neg);
                    for (k, v) in v.iter().enumerate() {
                        // SAFETY: `chunk` holds 16·LANES entries; register k writes
                        // p[LANES·k..LANES·(k+1)].
                        unsafe { $store(p.add(LANES * k), *v) };
                    }
                }
            }

            /// Stages h, 2h, … (radix 2^radix_log ≤ 16) in one pass: `data.len()` a multiple
            /// of h·2^radix_log, h a multiple of LANES.
            #[target_feature(enable = $features)]
            fn pass(data: &mut [$t], h: usize, radix_log: u32) {
                let neg = minus_one();
                let radix = 1usize << radix_log;
                for block in data.chunks_exact_mut(radix * h) {
                    let p = block.as_mut_ptr();
                    // SAFETY: register j of column `col` is at j·h + col, and
                    // j·h + col + LANES ≤ radix·h = block.len() for j < radix, col + LANES ≤ h.
                    let ld = |j: usize, col: usize| unsafe { $load(p.add(j * h + col)) };
                    let st = |v: &[$v], col: usize| {
                        for (j, v) in v.iter().enumerate() {
                            // SAFETY: as for the loads, v.len() = radix registers.
                            unsafe { $store(p.add(j * h + col), *v) };
                        }
                    };
                    match radix_log {
                        4 => {
                            for col in (0..h).step_by(LANES) {
                                let v = [
                                    ld(0, col),
                                    ld(1, col),
                                    ld(2, col),
                                    ld(3, col),
                                    ld(4, col),
                                    ld(5, col),
                                    ld(6, col),
                                    ld(7, col),
                                    ld(8, col),
                                    ld(9, col),
                                    ld(10, col),
                                    ld(11, col),
                                    ld(12, col),
                                    ld(13, col),
                                    ld(14, col),
                                    ld(15, col),
                                ];
                                let v = st!(16, v, 1, neg);
                                let v = st!(16, v, 2, neg);
                                let v = st!(16, v, 4, neg);
                                let v = st!(16, v, 8, neg);
                                st(&v, col);
                            }
                        }
                        3 => {
                            for col in (0..h).step_by(LANES) {
                                let v = [
                                    ld(0, col),
                                    ld(1, col),
                                    ld(2, col),
                                    ld(3, col),
                                    ld(4, col),
                                    ld(5, col),
                                    ld(6, col),
                                    ld(7, col),
                                ];
                                let v = st!(8, v, 1, neg);
                                let v = st!(8, v, 2, neg);
                                let v = st!(8, v, 4, neg);
                                st(&v, col);
                            }
                        }
                        2 => {
                            for col in (0..h).step_by(LANES) {
                                let v = [ld(0, col), ld(1, col), ld(2, col), ld(3, col)];
                                let v = st!(4, v, 1, neg);
                                let v = st!(4, v, 2, neg);
                                st(&v, col);
                            }
                        }
                        1 => {
                            for col in (0..h).step_by(LANES) {
                                let v = [ld(0, col), ld(1, col)];
                                let v = st!(2, v, 1, neg);
                                st(&v, col);
                            }
                        }
                        _ => unreachable!("radix 2 to 16"),
                    }
                }
            }
        }
    };
}

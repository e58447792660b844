//! The eigendecomposition's loops ([`super`]), one source compiled three times: portable, and
//! with AVX2 + FMA or AVX-512 enabled, so that the compiler vectorises them 4 or 8 lanes wide
//! where the CPU has those. Multiplies and adds stay separate (Rust never fuses them) and the
//! one reduction, the dot product of the reduction's row pass, keeps 8 lanes whatever the
//! vector width, so each entry's arithmetic is the same at every level: the same bits (the tests
//! of [`super`] compare whole decompositions at every level). Each entry point is a whole pass
//! (a stripe of the tridiagonalisation, a chain of rotations), so the level is chosen once per
//! pass and the small loops inline into it.
//!
//! One loop is also written out by hand, for AVX-512 and for AVX2: the body of the row pass
//! (`pass_body`), as one loop with the eight lanes in one register (two for AVX2), where the
//! portable source runs three loops over each chunk of a row (the compiler vectorised its dot
//! product by shuffling 128-bit halves). The same operations in the same order: the same bits,
//! and the eigendecomposition of m = 2,048 in 1.99–2.01 s instead of 2.34–2.44 on one thread
//! (AVX2: 2.14 instead of 2.36–2.43; docs/benchmarks.md).

use ndarray::ArrayViewMut2;

use crate::simd::Simd;
#[cfg(target_arch = "x86_64")]
use crate::simd::{Avx2Fma, Avx512};

/// The loops, with the given attributes (inlining, or the target features).
macro_rules! loops {
    ($(#[$attr:meta])*) => {
        use ndarray::ArrayViewMut2;

        /// y ← y + α·x, entry by entry.
        $(#[$attr])*
        fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
            for (y, &x) in y.iter_mut().zip(x) {
                *y += alpha * x;
            }
        }

        /// z ← z − (a·q + b·v), entry by entry: one row of the symmetric rank-2 update.
        $(#[$attr])*
        pub(super) fn rank2(a: f64, q: &[f64], b: f64, v: &[f64], z: &mut [f64]) {
            for ((z, &q), &v) in z.iter_mut().zip(q).zip(v) {
                *z -= a * q + b * v;
            }
        }

        /// One row's share of the tridiagonalisation's pass over equal-length slices:
        /// z_j ← z_j − (a·q_j + b·v_j), out_j += w·z_j (the new z_j), and the returned
        /// Σ z_j·u_j in 8 lanes (lane l sums the entries j ≡ l mod 8 of the body in order, the
        /// lanes added in a fixed tree, then the tail in order): `pass_body` on the entries
        /// up to the last multiple of 8, then the rest.
        $(#[$attr])*
        fn row_pass(
            (a, q, b, v): (f64, &[f64], f64, &[f64]),
            z: &mut [f64],
            (w, u): (f64, &[f64]),
            out: &mut [f64],
        ) -> f64 {
            let n = z.len();
            let body = n - n % 8;
            let mut acc = [0.0f64; 8];
            pass_body(
                (a, &q[..body], b, &v[..body]),
                &mut z[..body],
                (w, &u[..body]),
                &mut out[..body],
                &mut acc,
            );
            rank2(a, &q[body..n], b, &v[body..n], &mut z[body..]);
            axpy(w, &z[body..], &mut out[body..n]);
            let mut tail = 0.0;
            for (x, y) in z[body..].iter().zip(&u[body..n]) {
                tail += x * y;
            }
            (((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])))
                + tail
        }

        /// Rows r₀ … of the tridiagonalisation's pass over the upper triangle of a symmetric
        /// n × n block (`super::symmetric_pass`): for each row i its entries from the
        /// diagonal on, updated by (v, q) (a zero update without), then the row's dot product
        /// with u into part[i] (the diagonal's term first) and u_i times its entries right of
        /// the diagonal into part[i+1…] (zero times them without u).
        $(#[$attr])*
        pub(super) fn rows(
            r0: usize,
            mut rows: ArrayViewMut2<'_, f64>,
            part: &mut [f64],
            update: Option<(&[f64], &[f64])>,
            u: Option<&[f64]>,
        ) {
            part[r0..].fill(0.0);
            for (local, mut row) in rows.rows_mut().into_iter().enumerate() {
                let i = r0 + local;
                let row = row
                    .as_slice_mut()
                    .unwrap_or_else(|| unreachable!("a row of a standard-layout block"));
                // Without an update, a = b = 0 leaves every finite z as it is; without u, w = 0
                // adds nothing that is read (part is scratch then). `any` is a finite vector of
                // the block's length to stand in for the missing ones.
                let Some(any) = u.or(update.map(|(v, _)| v)) else {
                    return;
                };
                let (a, q, b, v) = match update {
                    Some((v, q)) => (v[i], q, q[i], v),
                    None => (0.0, any, 0.0, any),
                };
                let (w, u) = match u {
                    Some(u) => (u[i], u),
                    None => (0.0, any),
                };
                let segment = &mut row[i..];
                let diagonal = segment[0] - (a * q[i] + b * v[i]);
                segment[0] = diagonal;
                let (head, tail) = part[i..].split_at_mut(1);
                let factors = (a, &q[i + 1..], b, &v[i + 1..]);
                let rest = row_pass(factors, &mut segment[1..], (w, &u[i + 1..]), tail);
                head[0] += diagonal * u[i] + rest;
            }
        }

        /// A chain of plane rotations down a block of rows of `width` entries: `rows` holds
        /// rows lo, …, hi = lo + k, and rotation j of the k (i = hi − 1 − j, its c and s) takes
        /// rows (i, i+1) to (c·z_i − s·z_{i+1}, s·z_i + c·z_{i+1}), entry by entry. Row i+1 is
        /// final once rotation i is done, so the new z_i is carried to the next rotation in
        /// `carry` (`width` entries) instead of going back to memory and forth.
        $(#[$attr])*
        pub(super) fn chain(
            rotations: &[(usize, f64, f64)],
            rows: &mut [f64],
            width: usize,
            carry: &mut [f64],
        ) {
            let k = rotations.len();
            let carry = &mut carry[..width];
            carry.copy_from_slice(&rows[k * width..(k + 1) * width]);
            for (j, &(_, c, s)) in rotations.iter().enumerate() {
                let i = k - 1 - j;
                let (lower, upper) = rows.split_at_mut((i + 1) * width);
                let (z, out) = (&lower[i * width..], &mut upper[..width]);
                for ((&a, o), t) in z.iter().zip(out.iter_mut()).zip(carry.iter_mut()) {
                    let b = *t;
                    *o = s * a + c * b;
                    *t = c * a - s * b;
                }
            }
            rows[..width].copy_from_slice(carry);
        }
    };
}

/// [`row_pass`](portable)'s body (equal-length slices whose length is a multiple of 8):
/// z_j ← z_j − (a·q_j + b·v_j), out_j += w·z_j, and acc[l] += z_j·u_j over the entries
/// j ≡ l mod 8 in order (a dot product's lanes). By chunks of 512 entries, each loop over a
/// chunk while it is in L1 cache (the chunks change no sum): the form the compiler vectorises,
/// and the reference of the AVX-512 form below.
macro_rules! pass_body {
    ($(#[$attr:meta])*) => {
        $(#[$attr])*
        fn pass_body(
            (a, q, b, v): (f64, &[f64], f64, &[f64]),
            z: &mut [f64],
            (w, u): (f64, &[f64]),
            out: &mut [f64],
            acc: &mut [f64; 8],
        ) {
            let mut s = *acc;
            for start in (0..z.len()).step_by(512) {
                let r = start..(start + 512).min(z.len());
                rank2(a, &q[r.clone()], b, &v[r.clone()], &mut z[r.clone()]);
                axpy(w, &z[r.clone()], &mut out[r.clone()]);
                for (x, y) in z[r.clone()].chunks_exact(8).zip(u[r].chunks_exact(8)) {
                    for l in 0..8 {
                        s[l] += x[l] * y[l];
                    }
                }
            }
            *acc = s;
        }
    };
}

mod portable {
    loops!(#[inline]);
    pass_body!(#[inline]);
}

/// [`pass_body!`]'s loop written out with intrinsics (`$v`: a register of `$lanes` f64, 8 a
/// multiple of it): one loop, each z_j loaded and stored once, the eight lanes of the dot
/// product in 8/`$lanes` registers, with the portable form's multiplies and adds in the same
/// order (the same bits).
#[cfg(target_arch = "x86_64")]
macro_rules! fused_pass_body {
    ($features:literal, $v:ty, $lanes:literal,
     $set1:ident, $load:ident, $store:ident, $add:ident, $sub:ident, $mul:ident) => {
        #[target_feature(enable = $features)]
        fn pass_body(
            (a, q, b, v): (f64, &[f64], f64, &[f64]),
            z: &mut [f64],
            (w, u): (f64, &[f64]),
            out: &mut [f64],
            acc: &mut [f64; 8],
        ) {
            use std::arch::x86_64::{$add, $load, $mul, $set1, $store, $sub};
            let n = z.len();
            assert!(
                n.is_multiple_of(8)
                    && q.len() == n
                    && v.len() == n
                    && u.len() == n
                    && out.len() == n
            );
            let (a, b, w) = ($set1(a), $set1(b), $set1(w));
            let (zp, op) = (z.as_mut_ptr(), out.as_mut_ptr());
            let (qp, vp, up) = (q.as_ptr(), v.as_ptr(), u.as_ptr());
            // SAFETY: every load and store covers entries j..j+$lanes with j + $lanes ≤ n, the
            // length of all six slices (asserted), or $lanes of the 8 entries of acc.
            unsafe {
                let mut s: [$v; 8 / $lanes] =
                    std::array::from_fn(|r| $load(acc.as_ptr().add(r * $lanes)));
                for j in (0..n).step_by(8) {
                    for (r, s) in s.iter_mut().enumerate() {
                        let j = j + r * $lanes;
                        let t = $add($mul(a, $load(qp.add(j))), $mul(b, $load(vp.add(j))));
                        let x = $sub($load(zp.add(j)), t);
                        $store(zp.add(j), x);
                        $store(op.add(j), $add($load(op.add(j)), $mul(w, x)));
                        *s = $add(*s, $mul(x, $load(up.add(j))));
                    }
                }
                for (r, s) in s.iter().enumerate() {
                    $store(acc.as_mut_ptr().add(r * $lanes), *s);
                }
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    loops!(#[target_feature(enable = "avx2,fma")]);
    fused_pass_body!(
        "avx2,fma",
        std::arch::x86_64::__m256d,
        4,
        _mm256_set1_pd,
        _mm256_loadu_pd,
        _mm256_storeu_pd,
        _mm256_add_pd,
        _mm256_sub_pd,
        _mm256_mul_pd
    );
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    loops!(#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]);
    fused_pass_body!(
        "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma",
        std::arch::x86_64::__m512d,
        8,
        _mm512_set1_pd,
        _mm512_loadu_pd,
        _mm512_storeu_pd,
        _mm512_add_pd,
        _mm512_sub_pd,
        _mm512_mul_pd
    );
}

/// Which compilation of the loops runs; its token proves the CPU has the features.
#[derive(Clone, Copy, Debug)]
pub(super) enum Loops {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2(Avx2Fma),
    #[cfg(target_arch = "x86_64")]
    Avx512(Avx512),
}

/// Each entry point dispatches to the level's compilation.
macro_rules! dispatch {
    ($(fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)?;)*) => {$(
        #[inline]
        pub(super) fn $name(self, $($arg: $ty),*) $(-> $ret)? {
            match self {
                Self::Portable => portable::$name($($arg),*),
                // SAFETY: the token proves the CPU has AVX2 and FMA.
                #[cfg(target_arch = "x86_64")]
                Self::Avx2(_) => unsafe { avx2::$name($($arg),*) },
                // SAFETY: the token proves the CPU has AVX-512 F, DQ, VL, BW, AVX2 and FMA.
                #[cfg(target_arch = "x86_64")]
                Self::Avx512(_) => unsafe { avx512::$name($($arg),*) },
            }
        }
    )*};
}

impl Loops {
    /// The widest level `simd` allows.
    pub(super) fn of(simd: Simd) -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if let Some(cpu) = simd.avx512() {
                return Self::Avx512(cpu);
            }
            if let Some(cpu) = simd.avx2_fma() {
                return Self::Avx2(cpu);
            }
        }
        let _ = simd;
        Self::Portable
    }

    dispatch! {
        fn rank2(a: f64, q: &[f64], b: f64, v: &[f64], z: &mut [f64]);
        fn rows(
            r0: usize,
            rows: ArrayViewMut2<'_, f64>,
            part: &mut [f64],
            update: Option<(&[f64], &[f64])>,
            u: Option<&[f64]>
        );
        fn chain(rotations: &[(usize, f64, f64)], rows: &mut [f64], width: usize, carry: &mut [f64]);
    }
}

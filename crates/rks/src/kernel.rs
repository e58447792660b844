//! Shift-invariant kernels, their bandwidth, and the frequency distributions that produce them.
//!
//! Bochner's theorem: a continuous shift-invariant kernel k(x, y) = κ(x − y) with κ(0) = 1 is the
//! characteristic function of a probability distribution p(w), k(x, y) = E_w[cos(wᵀ(x − y))].
//! Drawing the rows of W from p gives the random features of Rahimi & Recht (NIPS 2007). Each
//! [`Kernel`] names such a pair (κ, p):
//!
//! | kernel | κ(δ), bandwidth σ | frequency w ∈ Rᵈ |
//! |---|---|---|
//! | [`Kernel::Gaussian`] | exp(−‖δ‖₂² / (2σ²)) | N(0, σ⁻² I) |
//! | [`Kernel::Laplacian`] | exp(−‖δ‖₁ / σ) | i.i.d. Cauchy(0, 1/σ) coordinates |
//! | [`Kernel::Matern12`] | exp(−r/σ), r = ‖δ‖₂ | z·√(1/χ²₁)/σ, z ~ N(0, I) (multivariate Cauchy) |
//! | [`Kernel::Matern32`] | (1 + √3 r/σ) exp(−√3 r/σ) | z·√(3/χ²₃)/σ (multivariate Student t, 3 d.o.f.) |
//! | [`Kernel::Matern52`] | (1 + √5 r/σ + 5r²/(3σ²)) exp(−√5 r/σ) | z·√(5/χ²₅)/σ (Student t, 5 d.o.f.) |
//!
//! Two kernels are not shift-invariant: the arc-cosine kernels of order 0 and 1 (Cho & Saul,
//! "Kernel Methods for Deep Learning", NIPS 2009). With θ the angle between x/σ and y/σ,
//!
//! | kernel | k(x, y) | feature of w ~ N(0, σ⁻² I) |
//! |---|---|---|
//! | [`Kernel::ArcCos0`] | 1 − θ/π | √2·Θ(wᵀx) (Θ the step function) |
//! | [`Kernel::ArcCos1`] | (1/π)‖x‖‖y‖σ⁻²(sin θ + (π − θ) cos θ) | √2·max(0, wᵀx) |
//!
//! since E[Θ(wᵀx)Θ(wᵀy)] = (π − θ)/(2π) and E[max(0, wᵀx)max(0, wᵀy)] = ‖x‖‖y‖(sin θ + (π − θ)
//! cos θ)/(2π) for w ~ N(0, I). Their maps output n features √(2/n)·Θ(Wx) or √(2/n)·max(0, Wx)
//! instead of the 2n cos/sin features ([`Activation`]); k₁ is the kernel of an infinitely wide
//! ReLU layer, so a Fastfood layer followed by ReLU approximates it.
//!
//! Nor is the linear kernel [`Kernel::Linear`], k(x, y) = xᵀy/σ², made exactly
//! by the linear map ([`crate::Linear`]: the features are x/σ, no frequencies), the model
//! LIBLINEAR fits, or by Nyström.
//!
//! The Matérn rows follow from its spectral density ∝ (2ν/σ² + ‖w‖²)^−(ν + d/2), a multivariate t
//! with 2ν degrees of freedom and scale σ⁻¹ (Rasmussen & Williams, *Gaussian Processes for
//! Machine Learning*, 2006, eq. 4.15): w = z·√(2ν/χ²₂ᵥ)/σ.
//!
//! Fastfood ([`crate::Fastfood`]) produces rows whose *directions* are (nearly) uniform and whose
//! *lengths* it draws itself, so it can only make radial kernels: Gaussian (length χ_D/σ) and the
//! Matérn family (length χ_D·√(2ν/χ²₂ᵥ)/σ, Le, Sarlós & Smola 2013, section 4), and the
//! arc-cosine kernels (Gaussian rows, length χ_D/σ). So do the orthogonal maps ([`crate::Orf`],
//! [`crate::Sorf`]). The Laplacian kernel above is a product over coordinates, not radial: only
//! the dense map and Nyström offer it.

use crate::error::Param;
use crate::variates::Sampler;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::RksError;
use crate::vocabulary::Named;

/// The kernel a feature map approximates. See the [module documentation](self) for the formulas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Kernel {
    /// Gaussian (RBF) kernel exp(−‖x − y‖² / (2σ²)).
    #[default]
    Gaussian,
    /// Laplacian (L1) kernel exp(−‖x − y‖₁ / σ); dense map only.
    Laplacian,
    /// Matérn ν = 1/2, the exponential kernel exp(−‖x − y‖₂ / σ).
    Matern12,
    /// Matérn ν = 3/2.
    Matern32,
    /// Matérn ν = 5/2.
    Matern52,
    /// Arc-cosine kernel of order 0, 1 − θ/π (θ the angle between x and y); not shift-invariant.
    ArcCos0,
    /// Arc-cosine kernel of order 1, (1/π)‖x‖‖y‖σ⁻²(sin θ + (π − θ) cos θ); not shift-invariant.
    ArcCos1,
    /// The linear kernel xᵀy/σ²: the linear map (its features are the rows over σ) or Nyström.
    Linear,
}

/// What a map applies to its projection z = Wx: the kernel decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// φ = n^{-1/2}·[cos z, sin z]: 2n features (shift-invariant kernels).
    CosSin,
    /// φ = √(2/n)·Θ(z) (Θ(t) = 1 for t > 0, else 0): n features (arc-cosine order 0).
    Step,
    /// φ = √(2/n)·max(0, z): n features (arc-cosine order 1).
    Relu,
    /// φ = z: the linear map's features are its input over σ, with no projection to activate.
    Identity,
}

impl Activation {
    /// Output features for n frequencies: 2n for cos/sin, n otherwise.
    pub fn output_dim(&self, n_frequencies: usize) -> usize {
        match self {
            Activation::CosSin => 2 * n_frequencies,
            Activation::Step | Activation::Relu | Activation::Identity => n_frequencies,
        }
    }
}

/// The kernel width, given either as σ or as γ = 1/(2σ²) (scikit-learn's RBF parameter).
///
/// Every kernel uses σ; `Gamma(γ)` is only a shortcut for `Sigma(1/√(2γ))`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Bandwidth {
    /// The length scale σ > 0.
    Sigma(f64),
    /// γ = 1/(2σ²) > 0.
    Gamma(f64),
}

impl Default for Bandwidth {
    fn default() -> Self {
        Bandwidth::Sigma(1.0)
    }
}

impl Bandwidth {
    /// The length scale σ, checked to be finite and positive, with 1/σ and γ = 1/(2σ²) finite
    /// and positive too: a σ whose square underflows (σ = 10⁻³⁰⁰ makes 2σ² zero, and the
    /// kernel's ‖x − x‖²/(2σ²) of a row with itself 0/0) or overflows (σ = 10³⁰⁰: γ = 0, a
    /// constant kernel) is refused here rather than failing later in a factorisation.
    ///
    /// ```
    /// use rks::Bandwidth;
    /// assert_eq!(Bandwidth::Gamma(0.5).sigma().unwrap(), 1.0);
    /// assert!(Bandwidth::Sigma(-1.0).sigma().is_err());
    /// assert!(Bandwidth::Sigma(1e-300).sigma().is_err());
    /// assert!(Bandwidth::Sigma(1e300).sigma().is_err());
    /// assert!(Bandwidth::Gamma(1e-320).sigma().is_err());
    /// assert!(Bandwidth::Sigma(1e-150).sigma().is_ok());
    /// ```
    pub fn sigma(&self) -> Result<f64, RksError> {
        let (name, value, sigma) = match *self {
            Bandwidth::Sigma(s) => (Param::Sigma, s, s),
            Bandwidth::Gamma(g) => (Param::Gamma, g, (0.5 / g).sqrt()),
        };
        if value.is_finite()
            && value > 0.0
            && sigma.is_finite()
            && sigma > 0.0
            && sigma.recip().is_finite()
            && gamma_of(sigma).is_finite()
            && gamma_of(sigma) > 0.0
        {
            Ok(sigma)
        } else {
            Err(RksError::InvalidParameter {
                name,
                reason: format!(
                    "must be finite and > 0 (with σ, 1/σ and γ = 1/(2σ²) finite and > 0), got \
                     {value:?}"
                ),
            })
        }
    }

    /// γ = 1/(2σ²).
    pub fn gamma(&self) -> Result<f64, RksError> {
        Ok(gamma_of(self.sigma()?))
    }
}

/// γ = 1/(2σ²).
fn gamma_of(sigma: f64) -> f64 {
    0.5 / (sigma * sigma)
}

impl Named for Kernel {
    const WHAT: &'static str = "kernel";
    const ALL: &'static [Self] = &Kernel::ALL;

    fn name(&self) -> &'static str {
        match self {
            Kernel::Gaussian => "gaussian",
            Kernel::Laplacian => "laplacian",
            Kernel::Matern12 => "matern12",
            Kernel::Matern32 => "matern32",
            Kernel::Matern52 => "matern52",
            Kernel::ArcCos0 => "arccos0",
            Kernel::ArcCos1 => "arccos1",
            Kernel::Linear => "linear",
        }
    }

    fn help(&self) -> &'static str {
        match self {
            Kernel::Gaussian => "exp(−‖x−y‖²/(2σ²))",
            Kernel::Laplacian => "exp(−‖x−y‖₁/σ); not radial: the dense and Nyström maps only",
            Kernel::Matern12 => "Matérn ν = 1/2, exp(−‖x−y‖/σ) (the exponential kernel)",
            Kernel::Matern32 => "Matérn ν = 3/2, (1 + √3 r/σ) exp(−√3 r/σ) with r = ‖x−y‖",
            Kernel::Matern52 => "Matérn ν = 5/2, (1 + √5 r/σ + 5r²/(3σ²)) exp(−√5 r/σ)",
            Kernel::ArcCos0 => {
                "Arc-cosine order 0, 1 − θ/π (n step features instead of 2n cos/sin)"
            }
            Kernel::ArcCos1 => {
                "Arc-cosine order 1, (1/π)‖x‖‖y‖σ⁻²(sin θ + (π − θ) cos θ): an infinitely wide ReLU layer"
            }
            Kernel::Linear => {
                "Linear, xᵀy/σ²: the linear map (features x/σ, as LIBLINEAR) or Nyström"
            }
        }
    }
}

crate::named_choice!(Kernel);

impl Kernel {
    /// All kernels, for tests and command-line help.
    pub const ALL: [Kernel; 8] = [
        Kernel::Gaussian,
        Kernel::Laplacian,
        Kernel::Matern12,
        Kernel::Matern32,
        Kernel::Matern52,
        Kernel::ArcCos0,
        Kernel::ArcCos1,
        Kernel::Linear,
    ];

    /// The shift-invariant kernels (k(x, y) = κ(x − y), κ(0) = 1), approximated by cos/sin features.
    pub const SHIFT_INVARIANT: [Kernel; 5] = [
        Kernel::Gaussian,
        Kernel::Laplacian,
        Kernel::Matern12,
        Kernel::Matern32,
        Kernel::Matern52,
    ];

    /// The step applied to the projection: cos/sin, or the arc-cosine kernels' step or ReLU.
    pub fn activation(&self) -> Activation {
        match self {
            Kernel::ArcCos0 => Activation::Step,
            Kernel::ArcCos1 => Activation::Relu,
            Kernel::Linear => Activation::Identity,
            _ => Activation::CosSin,
        }
    }

    /// The exact kernel value k(x, y), for tests and for checking an approximation.
    ///
    /// ```
    /// use rks::{Bandwidth, Kernel};
    /// let k = Kernel::Gaussian.exact(&[0.0, 0.0], &[3.0, 4.0], Bandwidth::Sigma(5.0)).unwrap();
    /// assert!((k - (-0.5f64).exp()).abs() < 1e-15);
    /// ```
    pub fn exact(&self, x: &[f64], y: &[f64], bandwidth: Bandwidth) -> Result<f64, RksError> {
        if x.len() != y.len() {
            return Err(RksError::WrongInputDim {
                expected: x.len(),
                found: y.len(),
            });
        }
        Ok(self.eval(x, y, bandwidth.sigma()?))
    }

    /// k(x, y) for slices of equal length and a valid σ (the caller checks both).
    pub(crate) fn eval(&self, x: &[f64], y: &[f64], sigma: f64) -> f64 {
        if let Some(order) = self.arc_cos_order() {
            return arc_cos(order, x, y, sigma);
        }
        if *self == Kernel::Linear {
            return x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>() / (sigma * sigma);
        }
        self.of_differences(x.iter().zip(y).map(|(a, b)| a - b), sigma)
    }

    /// True for the kernels that are functions of x − y (all but the arc-cosine and linear
    /// kernels).
    pub(crate) fn is_shift_invariant(&self) -> bool {
        self.arc_cos_order().is_none() && *self != Kernel::Linear
    }

    /// A radial kernel's value from the differences x_c − y_c, column by column.
    fn of_differences(&self, diffs: impl Iterator<Item = f64>, sigma: f64) -> f64 {
        let sum = match self {
            Kernel::Laplacian => diffs.map(f64::abs).sum::<f64>(),
            _ => diffs.map(|t| t * t).sum::<f64>(),
        };
        self.of_sum(sum, sigma)
    }

    /// A radial kernel's value from the sum over the columns of the differences' absolute
    /// values (Laplacian) or squares (the others): the one formula the pair-at-a-time
    /// evaluation and the vectorised one ([`crate::radial`]) share.
    ///
    /// e^x is the crate's own ([`crate::exp`]): the same bits with every C library, and a loop
    /// over it vectorises.
    #[inline(always)]
    pub(crate) fn of_sum(&self, sum: f64, sigma: f64) -> f64 {
        use crate::exp::exp;
        match self {
            Kernel::Gaussian => exp(-sum / (2.0 * sigma * sigma)),
            Kernel::Laplacian => exp(-sum / sigma),
            radial => {
                let r = sum.sqrt() / sigma;
                // A distance that overflows (entries near the largest float) has the limit 0,
                // not ∞·0: a select, so the loop still vectorises.
                let vanishes = |a: f64, value: f64| if a < f64::INFINITY { value } else { 0.0 };
                match radial {
                    Kernel::Matern12 => exp(-r),
                    Kernel::Matern32 => {
                        let a = 3f64.sqrt() * r;
                        vanishes(a, (1.0 + a) * exp(-a))
                    }
                    _ => {
                        let a = 5f64.sqrt() * r;
                        vanishes(a, (1.0 + a + a * a / 3.0) * exp(-a))
                    }
                }
            }
        }
    }

    /// The order of an arc-cosine kernel, if it is one.
    fn arc_cos_order(&self) -> Option<u8> {
        match self {
            Kernel::ArcCos0 => Some(0),
            Kernel::ArcCos1 => Some(1),
            _ => None,
        }
    }

    /// Twice the Matérn smoothness, 2ν (the degrees of freedom of the Student-t mixing), if any.
    fn matern_dof(&self) -> Option<f64> {
        match self {
            Kernel::Matern12 => Some(1.0),
            Kernel::Matern32 => Some(3.0),
            Kernel::Matern52 => Some(5.0),
            Kernel::Gaussian
            | Kernel::Laplacian
            | Kernel::ArcCos0
            | Kernel::ArcCos1
            | Kernel::Linear => None,
        }
    }

    /// True if the kernel's frequency distribution is rotation-invariant (a uniform direction
    /// times a random length), which the structured and orthogonal maps (Fastfood, ORF, SORF)
    /// need: every kernel but the Laplacian and the linear one (the radial kernels, and the
    /// arc-cosine kernels with Gaussian rows).
    pub fn is_radial(&self) -> bool {
        !matches!(self, Kernel::Laplacian | Kernel::Linear)
    }

    /// Fills `row` with one frequency vector w of this kernel for σ = 1 (the caller divides by σ).
    ///
    /// Draw order (part of the reproducibility promise), by `sampler`: Gaussian and arc-cosine:
    /// `row.len()` standard normals; Laplacian: `row.len()` standard Cauchy variates; Matérn:
    /// `row.len()` standard normals, then one χ²₂ᵥ variate.
    pub(crate) fn sample_row<R: Rng + ?Sized>(
        &self,
        sampler: Sampler,
        rng: &mut R,
        row: &mut [f64],
    ) {
        if let Kernel::Laplacian = self {
            row.iter_mut().for_each(|w| *w = sampler.cauchy(rng));
            return;
        }
        sampler.fill_normal(rng, row);
        if let Some(dof) = self.matern_dof() {
            let mix = student_mix(sampler, rng, dof);
            row.iter_mut().for_each(|w| *w *= mix);
        }
    }

    /// One row length ‖w‖ for σ = 1 in `dim` dimensions, for Fastfood's S diagonal.
    ///
    /// Gaussian and arc-cosine: χ_dim (one χ²_dim draw, square-rooted). Matérn: χ_dim·√(2ν/χ²₂ᵥ) (the χ²_dim
    /// draw, then the χ²₂ᵥ draw). Errors for kernels that are not radial.
    pub(crate) fn sample_radius<R: Rng + ?Sized>(
        &self,
        sampler: Sampler,
        rng: &mut R,
        dim: usize,
    ) -> Result<f64, RksError> {
        if !self.is_radial() {
            return Err(RksError::InvalidParameter {
                name: Param::Kernel,
                reason: format!(
                    "{self:?} is not radial, so Fastfood cannot produce it: use the dense map"
                ),
            });
        }
        // dim ≥ 1 (a validated spec's input dimension, or its power-of-two padding).
        let radius = sampler.chi_squared(rng, dim.max(1) as f64).sqrt();
        Ok(match self.matern_dof() {
            Some(dof) => radius * student_mix(sampler, rng, dof),
            None => radius,
        })
    }
}

impl Kernel {
    /// A row's length factor beyond the Gaussian's: √(2ν/χ²₂ᵥ) (one χ²₂ᵥ draw) for Matérn, 1
    /// (no draw) otherwise. SORF's rows have the fixed length √D and take this factor only.
    pub(crate) fn sample_mix<R: Rng + ?Sized>(&self, sampler: Sampler, rng: &mut R) -> f64 {
        self.matern_dof()
            .map_or(1.0, |dof| student_mix(sampler, rng, dof))
    }
}

/// The arc-cosine kernel of order 0 or 1 at x/σ, y/σ (Cho & Saul 2009, eq. 6):
/// k₀ = 1 − θ/π, k₁ = (1/π)‖x‖‖y‖(sin θ + (π − θ) cos θ); a zero vector has k₀ = 1/2 with
/// anything (the step is then 0 for every w) and k₁ = 0.
fn arc_cos(order: u8, x: &[f64], y: &[f64], sigma: f64) -> f64 {
    use std::f64::consts::PI;
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(u, v)| u * v).sum::<f64>();
    let (nx, ny) = (dot(x, x).sqrt() / sigma, dot(y, y).sqrt() / sigma);
    if nx == 0.0 || ny == 0.0 {
        return if order == 0 { 0.5 } else { 0.0 };
    }
    let cos = (dot(x, y) / (sigma * sigma) / (nx * ny)).clamp(-1.0, 1.0);
    // libm's acos and sin: the same kernel values with every C library.
    let theta = libm::acos(cos);
    match order {
        0 => 1.0 - theta / PI,
        _ => nx * ny * (libm::sin(theta) + (PI - theta) * cos) / PI,
    }
}

/// √(ν'/χ²_ν'): the factor that turns a standard normal vector into a Student-t one.
fn student_mix<R: Rng + ?Sized>(sampler: Sampler, rng: &mut R, dof: f64) -> f64 {
    (dof / sampler.chi_squared(rng, dof)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bandwidth_validation() {
        assert_eq!(Bandwidth::Sigma(2.0).sigma(), Ok(2.0));
        assert_eq!(Bandwidth::Gamma(0.125).sigma(), Ok(2.0));
        assert!((Bandwidth::Sigma(2.0).gamma().unwrap() - 0.125).abs() < 1e-15);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-320] {
            assert!(matches!(
                Bandwidth::Sigma(bad).sigma(),
                Err(RksError::InvalidParameter {
                    name: Param::Sigma,
                    ..
                })
            ));
            assert!(matches!(
                Bandwidth::Gamma(bad).sigma(),
                Err(RksError::InvalidParameter {
                    name: Param::Gamma,
                    ..
                })
            ));
        }
    }

    #[test]
    fn exact_kernels_at_known_points() {
        let (x, y) = ([1.0, 2.0], [1.0, 0.0]);
        let bw = Bandwidth::Sigma(2.0);
        let e = |k: Kernel| k.exact(&x, &y, bw).unwrap();
        assert!((e(Kernel::Gaussian) - (-0.5f64).exp()).abs() < 1e-15);
        assert!((e(Kernel::Laplacian) - (-1.0f64).exp()).abs() < 1e-15);
        assert!((e(Kernel::Matern12) - (-1.0f64).exp()).abs() < 1e-15);
        let a = 3f64.sqrt();
        assert!((e(Kernel::Matern32) - (1.0 + a) * (-a).exp()).abs() < 1e-15);
        for k in Kernel::SHIFT_INVARIANT {
            assert_eq!(k.exact(&x, &x, bw), Ok(1.0));
        }
        assert!(Kernel::Gaussian.exact(&x, &[1.0], bw).is_err());
    }

    #[test]
    fn arc_cosine_kernels_at_known_angles() {
        use std::f64::consts::PI;
        let bw = Bandwidth::Sigma(2.0);
        let e = |k: Kernel, x: &[f64], y: &[f64]| k.exact(x, y, bw).unwrap();
        // Orthogonal: θ = π/2.
        let (x, y) = ([3.0, 0.0], [0.0, 4.0]);
        assert!((e(Kernel::ArcCos0, &x, &y) - 0.5).abs() < 1e-15);
        assert!((e(Kernel::ArcCos1, &x, &y) - 1.5 * 2.0 / PI).abs() < 1e-15);
        // Parallel: θ = 0, k₁ = ‖x‖‖y‖/σ²; opposite: θ = π, both 0.
        assert!((e(Kernel::ArcCos0, &x, &x) - 1.0).abs() < 1e-15);
        assert!((e(Kernel::ArcCos1, &x, &[6.0, 0.0]) - 4.5).abs() < 1e-14);
        assert!(e(Kernel::ArcCos0, &x, &[-1.0, 0.0]).abs() < 1e-15);
        assert!(e(Kernel::ArcCos1, &x, &[-1.0, 0.0]).abs() < 1e-15);
        // θ = π/3: k₀ = 2/3, k₁ = (1/π)(√3/2 + (2π/3)/2) for unit vectors at σ = 1.
        let (u, v) = ([1.0, 0.0], [0.5, 0.75f64.sqrt()]);
        let one = Bandwidth::Sigma(1.0);
        let k0 = Kernel::ArcCos0.exact(&u, &v, one).unwrap();
        let k1 = Kernel::ArcCos1.exact(&u, &v, one).unwrap();
        assert!((k0 - 2.0 / 3.0).abs() < 1e-15);
        assert!((k1 - (0.75f64.sqrt() + PI / 3.0) / PI).abs() < 1e-15);
        assert_eq!(e(Kernel::ArcCos0, &[0.0, 0.0], &x), 0.5);
        assert_eq!(e(Kernel::ArcCos1, &[0.0, 0.0], &x), 0.0);
    }
}

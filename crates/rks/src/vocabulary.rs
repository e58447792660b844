//! The names of the library's choices: one spelling for every enum that a user picks a value of
//! (the kernel, the map, the scaler; `rks-solvers` adds the task and the solver), shared by
//! `Display`, `FromStr`, command lines (clap's `ValueEnum`, behind the `clap` feature) and the
//! bindings, so that no caller keeps its own table of names.
//!
//! ```
//! use rks::{Kernel, MapKind};
//! use rks::scaler::ScalerKind;
//!
//! assert_eq!("matern32".parse::<Kernel>()?, Kernel::Matern32);
//! assert_eq!(MapKind::Sorf.to_string(), "sorf");
//! assert_eq!("none".parse::<ScalerKind>()?, ScalerKind::Identity);
//! let wrong = "gauss".parse::<Kernel>().unwrap_err();
//! assert_eq!(
//!     wrong.to_string(),
//!     "unknown kernel `gauss`: expected one of gaussian, laplacian, matern12, matern32, \
//!      matern52, arccos0, arccos1, linear"
//! );
//! # Ok::<(), rks::vocabulary::UnknownName>(())
//! ```

use thiserror::Error;

/// An enum whose values have one lower-case name each.
pub trait Named: Sized + Copy + 'static {
    /// What a value names, for messages: "kernel", "map", "scaler", ...
    const WHAT: &'static str;
    /// Every value, in the order lists and help texts show them.
    const ALL: &'static [Self];

    /// The value's name: what `Display` prints and `FromStr` reads.
    fn name(&self) -> &'static str;

    /// One line on what the value means (command-line help).
    fn help(&self) -> &'static str;

    /// The value called `name` (exact, lower-case).
    fn from_name(name: &str) -> Result<Self, UnknownName> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.name() == name)
            .ok_or_else(|| UnknownName {
                what: Self::WHAT,
                given: name.to_owned(),
                expected: Self::ALL
                    .iter()
                    .map(|v| v.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// A name that is not one of the values of a [`Named`] enum.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown {what} `{given}`: expected one of {expected}")]
pub struct UnknownName {
    /// What the name should have named ("kernel", ...).
    pub what: &'static str,
    /// The name given.
    pub given: String,
    /// The accepted names, comma-separated.
    pub expected: String,
}

#[cfg(feature = "clap")]
#[doc(hidden)]
pub use clap as __clap;

/// Implements `Display`, `FromStr` and (with the crate's `clap` feature) clap's `ValueEnum` for
/// a type that implements [`Named`]. Crates above `rks` use it for their own choices, with a
/// `clap` feature of their own that enables `rks/clap`.
#[macro_export]
macro_rules! named_choice {
    ($t:ty) => {
        impl ::std::fmt::Display for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::vocabulary::Named::name(self))
            }
        }

        impl ::std::str::FromStr for $t {
            type Err = $crate::vocabulary::UnknownName;

            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                <$t as $crate::vocabulary::Named>::from_name(s)
            }
        }

        #[cfg(feature = "clap")]
        impl $crate::vocabulary::__clap::ValueEnum for $t {
            fn value_variants<'a>() -> &'a [Self] {
                <$t as $crate::vocabulary::Named>::ALL
            }

            fn to_possible_value(
                &self,
            ) -> Option<$crate::vocabulary::__clap::builder::PossibleValue> {
                Some(
                    $crate::vocabulary::__clap::builder::PossibleValue::new(
                        $crate::vocabulary::Named::name(self),
                    )
                    .help($crate::vocabulary::Named::help(self)),
                )
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaler::ScalerKind;
    use crate::{Kernel, MapKind};

    fn round_trip<T: Named + std::fmt::Display + std::str::FromStr + PartialEq + std::fmt::Debug>()
    where
        <T as std::str::FromStr>::Err: std::fmt::Debug,
    {
        let mut names: Vec<&str> = T::ALL.iter().map(Named::name).collect();
        for v in T::ALL {
            assert_eq!(v.to_string(), v.name());
            assert_eq!(v.name().parse::<T>().unwrap(), *v);
            assert!(!v.help().is_empty());
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            T::ALL.len(),
            "{}: names must be distinct",
            T::WHAT
        );
        assert!("no-such-name".parse::<T>().is_err());
    }

    #[test]
    fn every_value_has_one_name() {
        round_trip::<Kernel>();
        round_trip::<MapKind>();
        round_trip::<ScalerKind>();
    }

    #[test]
    fn an_unknown_name_lists_the_accepted_ones() {
        let e = ScalerKind::from_name("Standard").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown scaler `Standard`: expected one of standard, minmax, maxabs, none"
        );
    }
}

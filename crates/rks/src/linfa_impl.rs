//! linfa's `Transformer` for the feature maps, so they compose with linfa pipelines.
//!
//! `linfa::traits::Transformer::transform` cannot return an error, so these impls **panic** on
//! input the map rejects (wrong number of columns, NaN or ±∞), with the [`crate::RksError`]
//! message. Prefer the checked [`crate::FeatureMap::transform`] when the input is not trusted.
//! Both traits have a method named `transform`: with both in scope, call one as
//! `FeatureMap::transform(&map, x)` or `Transformer::transform(&map, x)`.

/// Implements `Transformer<ArrayView2<F>, Array2<F>>` and `Transformer<&Array2<F>, Array2<F>>`.
macro_rules! transformer_via_feature_map {
    ($map:ty) => {
        impl<'a, F: $crate::Element>
            linfa::traits::Transformer<ndarray::ArrayView2<'a, F>, ndarray::Array2<F>> for $map
        {
            /// [`FeatureMap::transform`](crate::FeatureMap::transform), panicking on invalid input.
            fn transform(&self, x: ndarray::ArrayView2<'a, F>) -> ndarray::Array2<F> {
                match $crate::FeatureMap::transform(self, x) {
                    Ok(features) => features,
                    Err(e) => panic!("{e}"),
                }
            }
        }

        impl<'a, F: $crate::Element>
            linfa::traits::Transformer<&'a ndarray::Array2<F>, ndarray::Array2<F>> for $map
        {
            /// [`FeatureMap::transform`](crate::FeatureMap::transform), panicking on invalid input.
            fn transform(&self, x: &'a ndarray::Array2<F>) -> ndarray::Array2<F> {
                match $crate::FeatureMap::transform(self, x.view()) {
                    Ok(features) => features,
                    Err(e) => panic!("{e}"),
                }
            }
        }
    };
}
pub(crate) use transformer_via_feature_map;

//! The one table from the libraries' typed parameter names to this tool's flags, and the
//! messages that use it: a library error about `n_frequencies` reads "--frequencies" here.

use rks::RksError;
use rks::error::Param as MapParam;
use rks_layers::LayerError;
use rks_layers::error::Param as LayerParam;
use rks_solvers::SolversError;
use rks_solvers::error::Param as SolverParam;

/// The flag that sets a map parameter, `None` for what the data decides (the input dimension,
/// the rows, Nyström's landmarks) or what has no flag.
pub fn map_flag(param: MapParam) -> Option<&'static str> {
    Some(match param {
        MapParam::Map => "--map",
        MapParam::Kernel => "--kernel",
        MapParam::NFrequencies | MapParam::NLandmarks => "--frequencies",
        MapParam::Sigma => "--sigma",
        MapParam::Gamma => "--gamma",
        MapParam::Scaler => "--scaler",
        _ => return None,
    })
}

/// The flag that sets a solver parameter, `None` where there is none.
pub fn solver_flag(param: SolverParam) -> Option<&'static str> {
    Some(match param {
        SolverParam::Lambda => "--lambda",
        SolverParam::C => "--c",
        SolverParam::Solver => "--solver",
        SolverParam::Budget => "--budget",
        SolverParam::ChunkRows => "--chunk-rows",
        SolverParam::Folds => "--folds",
        SolverParam::Cs => "--cs",
        SolverParam::ClassWeights => "--class-weight",
        _ => return None,
    })
}

/// The message of a library error, with the flag in place of the library's parameter name where
/// the parameter has one.
pub fn message(e: &SolversError) -> String {
    match e {
        SolversError::InvalidParameter { name, reason } => match solver_flag(*name) {
            Some(flag) => format!("invalid {flag}: {reason}"),
            None => e.to_string(),
        },
        SolversError::Rks(e) => map_message(e),
        other => other.to_string(),
    }
}

/// [`message`] for the errors of the maps.
pub fn map_message(e: &RksError) -> String {
    match e {
        RksError::InvalidParameter { name, reason } => match map_flag(*name) {
            Some(flag) => format!("invalid {flag}: {reason}"),
            None => e.to_string(),
        },
        RksError::TooLarge {
            what,
            parameter,
            bytes,
        } => match map_flag(*parameter) {
            Some(flag) => format!(
                "{what} would need {bytes} bytes, more memory than can be allocated: lower {flag}"
            ),
            None => e.to_string(),
        },
        other => other.to_string(),
    }
}

/// The flag of `rks deep-fried` that sets a layer or training parameter, `None` where there is
/// none.
pub fn layer_flag(param: LayerParam) -> Option<&'static str> {
    Some(match param {
        LayerParam::OutputDim => "--width",
        LayerParam::BatchSize => "--batch-size",
        LayerParam::LearningRate => "--learning-rate",
        LayerParam::Momentum => "--momentum",
        LayerParam::WeightDecay => "--weight-decay",
        LayerParam::Dropout => "--dropout",
        LayerParam::ValidationFraction => "--validation",
        _ => return None,
    })
}

/// [`message`] for the errors of the layers: a Fastfood layer's n is `rks deep-fried`'s
/// `--width`.
pub fn layer_message(e: &LayerError) -> String {
    let too_large = |what: &str, bytes: u128, flag: &str| {
        format!("{what} would need {bytes} bytes, more memory than can be allocated: lower {flag}")
    };
    match e {
        LayerError::InvalidParameter { name, reason } => match layer_flag(*name) {
            Some(flag) => format!("invalid {flag}: {reason}"),
            None => e.to_string(),
        },
        LayerError::TooLarge {
            what,
            parameter,
            bytes,
        } => match layer_flag(*parameter) {
            Some(flag) => too_large(what, *bytes, flag),
            None => e.to_string(),
        },
        LayerError::Rks(RksError::InvalidParameter {
            name: MapParam::NFrequencies,
            reason,
        }) => format!("invalid --width: {reason}"),
        LayerError::Rks(RksError::TooLarge {
            what,
            parameter: MapParam::NFrequencies,
            bytes,
        }) => too_large(what, *bytes, "--width"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_names_become_flags() {
        let e = SolversError::Rks(RksError::TooLarge {
            what: "the features",
            parameter: MapParam::NFrequencies,
            bytes: 1 << 40,
        });
        assert_eq!(
            message(&e),
            "the features would need 1099511627776 bytes, more memory than can be allocated: \
             lower --frequencies"
        );
        let e = SolversError::InvalidParameter {
            name: SolverParam::C,
            reason: "must be > 0".into(),
        };
        assert_eq!(message(&e), "invalid --c: must be > 0");
        // A parameter without a flag keeps the library's words.
        let e = SolversError::Rks(RksError::InvalidParameter {
            name: MapParam::InputDim,
            reason: "must be at least 1".into(),
        });
        assert_eq!(
            message(&e),
            "invalid parameter `input_dim`: must be at least 1"
        );
    }

    #[test]
    fn layer_names_become_deep_fried_flags() {
        let e = LayerError::InvalidParameter {
            name: LayerParam::BatchSize,
            reason: "must be at least 1".into(),
        };
        assert_eq!(
            layer_message(&e),
            "invalid --batch-size: must be at least 1"
        );
        let e = LayerError::TooLarge {
            what: "a dense layer's weights",
            parameter: LayerParam::OutputDim,
            bytes: 1 << 40,
        };
        assert!(
            layer_message(&e).ends_with("lower --width"),
            "{}",
            layer_message(&e)
        );
        let e = LayerError::Rks(RksError::InvalidParameter {
            name: MapParam::NFrequencies,
            reason: "must be in 1..=67108864, got 0".into(),
        });
        assert_eq!(
            layer_message(&e),
            "invalid --width: must be in 1..=67108864, got 0"
        );
        let e = LayerError::InvalidParameter {
            name: LayerParam::Permutation,
            reason: "block 0 is not a permutation of 0..4".into(),
        };
        assert!(layer_message(&e).contains("`permutation`"));
    }
}

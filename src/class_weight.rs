//! The `--class-weight` flag: `balanced`, or `LABEL=W,…` with the labels as the training file
//! writes them (numbers, or class names), read into the library's [`ClassWeights`] once the
//! file's class names are known.

use rks_solvers::class_weights::ClassWeights;

use crate::error::{CliError, Result};

/// `--class-weight` as given: its labels still as text.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassWeightFlag {
    /// `balanced`.
    Balanced,
    /// `LABEL=W,…`.
    Given(Vec<(String, f64)>),
}

impl ClassWeightFlag {
    /// Reads the flag's value: `balanced`, or comma-separated `LABEL=W` with each W finite and
    /// > 0 and no label twice.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("balanced") {
            return Ok(Self::Balanced);
        }
        let usage = |why: String| {
            CliError::usage(format!(
                "--class-weight {text}: {why} (give `balanced` or LABEL=W,…, e.g. 1=5,0=1)"
            ))
        };
        let mut pairs: Vec<(String, f64)> = Vec::new();
        for part in text.split(',') {
            let Some((label, weight)) = part.rsplit_once('=') else {
                return Err(usage(format!("`{part}` is not LABEL=W")));
            };
            let label = label.trim();
            if label.is_empty() {
                return Err(usage(format!("`{part}` names no class")));
            }
            let weight: f64 = weight
                .trim()
                .parse()
                .map_err(|_| usage(format!("`{}` is not a number", weight.trim())))?;
            if !(weight.is_finite() && weight > 0.0) {
                return Err(usage(format!(
                    "class {label}'s weight must be finite and > 0, got {weight}"
                )));
            }
            if pairs.iter().any(|(l, _)| l == label) {
                return Err(usage(format!("class {label} is given a weight twice")));
            }
            pairs.push((label.to_string(), weight));
        }
        Ok(Self::Given(pairs))
    }

    /// The library's class weights: labels that are class `names` (a CSV file's text labels,
    /// coded 0…k−1 in the names' order) by name, other labels as whole numbers.
    pub fn resolve(&self, names: Option<&[String]>) -> Result<ClassWeights> {
        let Self::Given(pairs) = self else {
            return Ok(ClassWeights::Balanced);
        };
        let code = |label: &str| -> Result<i64> {
            match names {
                Some(names) => names
                    .iter()
                    .position(|n| n == label)
                    .map(|i| i as i64)
                    .ok_or_else(|| {
                        CliError::usage(format!(
                            "--class-weight: `{label}` is not one of the classes ({})",
                            names.join(", ")
                        ))
                    }),
                None => label
                    .parse::<f64>()
                    .ok()
                    .and_then(rks_data::class_label)
                    .ok_or_else(|| {
                        CliError::usage(format!(
                            "--class-weight: `{label}` is not a class label (a whole number)"
                        ))
                    }),
            }
        };
        let given = pairs
            .iter()
            .map(|(label, w)| Ok((code(label)?, *w)))
            .collect::<Result<_>>()?;
        Ok(ClassWeights::Given(given))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_reads_balanced_or_pairs_and_names() {
        assert_eq!(
            ClassWeightFlag::parse("Balanced").unwrap(),
            ClassWeightFlag::Balanced
        );
        let flag = ClassWeightFlag::parse("1=5, 0=0.5").unwrap();
        assert_eq!(
            flag.resolve(None).unwrap(),
            ClassWeights::Given(vec![(1, 5.0), (0, 0.5)])
        );
        let names = ["ham".to_string(), "spam".to_string()];
        let flag = ClassWeightFlag::parse("spam=4").unwrap();
        assert_eq!(
            flag.resolve(Some(&names)).unwrap(),
            ClassWeights::Given(vec![(1, 4.0)])
        );
        // A name with '=' in it: the weight is after the last one.
        let flag = ClassWeightFlag::parse("a=b=2").unwrap();
        assert_eq!(flag, ClassWeightFlag::Given(vec![("a=b".into(), 2.0)]));
        for bad in ["", "1", "=2", "1=x", "1=0", "1=-2", "1=inf", "1=2,1=3"] {
            assert!(ClassWeightFlag::parse(bad).is_err(), "{bad}");
        }
        assert!(
            ClassWeightFlag::parse("eggs=2")
                .unwrap()
                .resolve(Some(&names))
                .is_err()
        );
        assert!(
            ClassWeightFlag::parse("1.5=2")
                .unwrap()
                .resolve(None)
                .is_err()
        );
    }
}

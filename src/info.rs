//! `rks info`: what a saved model is, without data — the model file's counterpart of reading a
//! LIBSVM model's text header.

use std::io::{self, Write};
use std::path::PathBuf;

use rks_solvers::SolverInfo;
use serde::Serialize;

use crate::cli::InfoArgs;
use crate::error::Result;
use crate::machine::{self, ModelSummary};
use crate::report::{Report, emit};

/// What `rks info` prints.
#[derive(Debug, Serialize)]
pub struct InfoReport {
    /// The model file.
    pub model_path: PathBuf,
    /// Its format version.
    pub file_version: u32,
    /// Its size.
    pub file_bytes: usize,
    /// The model.
    pub model: ModelSummary,
    /// An SVM's support vectors (rows with α > 0) per binary problem (one-vs-rest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support_vectors: Option<Vec<usize>>,
    /// An SVM's epochs of coordinate descent per binary problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epochs: Option<Vec<usize>>,
}

impl Report for InfoReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let m = &self.model;
        writeln!(
            out,
            "model: {} (model file version {}, {} bytes)",
            self.model_path.display(),
            self.file_version,
            self.file_bytes
        )?;
        writeln!(out, "  {}", m.one_line())?;
        if let Some(mut classes) = m.class_labels() {
            if m.class_names.is_some() {
                classes.iter_mut().for_each(|n| *n = format!("'{n}'"));
            }
            writeln!(
                out,
                "  classes          {} ({})",
                classes.join(", "),
                classes.len()
            )?;
        }
        if let Some(columns) = &m.input_categories {
            for (i, categories) in columns.iter().enumerate() {
                if let Some(categories) = categories {
                    writeln!(
                        out,
                        "  column {i:<9} {} categories: {}",
                        categories.len(),
                        categories.join(", ")
                    )?;
                }
            }
        }
        if let Some(weights) = &m.class_weights {
            writeln!(
                out,
                "  class weights    {}",
                ModelSummary::describe_class_weights(weights)
            )?;
        }
        writeln!(out, "  training rows    {}", m.train_rows)?;
        writeln!(out, "  map parameters   {} bytes", m.map_parameter_bytes)?;
        if let (Some(sv), Some(epochs)) = (&self.support_vectors, &self.epochs) {
            writeln!(
                out,
                "  svm              {} support vectors over {} problem(s), at most {} epochs{}",
                sv.iter().sum::<usize>(),
                sv.len(),
                epochs.iter().max().unwrap_or(&0),
                if m.converged {
                    ""
                } else {
                    " (stopped at the epoch cap)"
                }
            )?;
        }
        match &m.probabilities {
            Some(p) => writeln!(out, "  probabilities    {}", p.describe()),
            None if m.classes.is_some() => writeln!(
                out,
                "  probabilities    none (fit with --probabilities for them)"
            ),
            None => Ok(()),
        }
    }
}

/// Runs `rks info`.
pub fn run(args: &InfoArgs, json: bool) -> Result<()> {
    let (model, file_version, file_bytes) = machine::load_file(&args.model)?;
    let (support_vectors, epochs) = match &model.info().solver {
        SolverInfo::Svm {
            n_support, epochs, ..
        } => (Some(n_support.clone()), Some(epochs.clone())),
        SolverInfo::Ridge { .. } => (None, None),
    };
    emit(
        &InfoReport {
            model_path: args.model.clone(),
            file_version,
            file_bytes,
            model: ModelSummary::of(&model),
            support_vectors,
            epochs,
        },
        json,
    )
}

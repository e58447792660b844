# Writes the R package data sets used by the accuracy benchmark as CSV (numeric columns, label last).
# Usage: Rscript export_r.R OUTDIR   (needs the Debian packages r-cran-mlbench and r-cran-kernlab)
args <- commandArgs(trailingOnly = TRUE)
out <- args[1]
num <- function(df) {
  for (j in seq_along(df)) df[[j]] <- as.numeric(as.character(df[[j]]))
  df
}
put <- function(name, x, y) {
  d <- num(as.data.frame(x))
  d$label <- as.integer(factor(y)) - 1L
  write.csv(d, file.path(out, paste0(name, ".csv")), row.names = FALSE)
  cat(name, nrow(d), ncol(d) - 1, "levels:", paste(levels(factor(y)), collapse = ","), "\n")
}
library(mlbench)
data(Sonar); put("sonar", Sonar[, 1:60], Sonar$Class)
data(Ionosphere); put("ionosphere", Ionosphere[, 1:34], Ionosphere$Class)
data(DNA); put("dna", DNA[, 1:180], DNA$Class)
data(Satellite); put("satellite", Satellite[, 1:36], Satellite$classes)
data(Vehicle); put("vehicle", Vehicle[, 1:18], Vehicle$Class)
library(kernlab)
data(musk); put("musk", musk[, 1:166], musk$Class)

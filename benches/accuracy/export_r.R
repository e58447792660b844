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
data(Glass); put("glass", Glass[, 1:9], Glass$Type)
data(PimaIndiansDiabetes); put("pima", PimaIndiansDiabetes[, 1:8], PimaIndiansDiabetes$diabetes)
# Vowel: the speaker (V1) is not a feature; it is written as the first column for the split.
data(Vowel); put("vowel", Vowel[, 1:10], Vowel$Class)
data(Shuttle); put("shuttle", Shuttle[, 1:9], Shuttle$Class)
data(BostonHousing)
boston <- num(BostonHousing[, 1:13]); boston$label <- BostonHousing$medv
write.csv(boston, file.path(out, "boston.csv"), row.names = FALSE)
cat("boston", nrow(boston), 13, "regression\n")
library(kernlab)
data(musk); put("musk", musk[, 1:166], musk$Class)
library(MASS)
# Regression, label last: motorcycle crash-helmet acceleration against time (one input), and the
# relative performance of CPUs (log10 of the published performance, as Venables & Ripley model it).
data(mcycle); write.csv(data.frame(times = mcycle$times, label = mcycle$accel),
                        file.path(out, "mcycle.csv"), row.names = FALSE)
cat("mcycle", nrow(mcycle), 1, "regression\n")
cpu <- num(cpus[, c("syct", "mmin", "mmax", "cach", "chmin", "chmax")]); cpu$label <- log10(cpus$perf)
write.csv(cpu, file.path(out, "cpus.csv"), row.names = FALSE)
cat("cpus", nrow(cpu), 6, "regression\n")

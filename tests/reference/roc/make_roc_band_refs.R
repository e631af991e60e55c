# Reference for validation.stats.roc_band: pROC ci.se, stratified bootstrap, aSAH s100b.
# Run from the repository root: Rscript tests/reference/roc/make_roc_band_refs.R
# roc_band.json: 2,000 replicates (seed 20240101), as first made; roc_band_20000.json: 20,000
# replicates (seed 20261204), whose quantiles carry about a third of the Monte-Carlo error.
library(pROC)
d <- read.csv("tests/reference/data/aSAH.csv")
r <- roc(d$outcome, d$s100b, levels = c("Good", "Poor"), direction = "<", quiet = TRUE)
sp <- c(1, 0.9, 0.8, 0.6, 0.5, 0.3)
band <- function(seed, n, file) {
  set.seed(seed)
  ci <- ci.se(r, specificities = sp, boot.n = n, boot.stratified = TRUE, conf.level = 0.95)
  f <- function(v) paste(sprintf("%.17g", v), collapse = ", ")
  out <- sprintf('{"specificities": [%s], "low": [%s], "median": [%s], "high": [%s], "boot_n": %d, "pROC": "%s"}',
    paste(sp, collapse = ", "), f(ci[, 1]), f(ci[, 2]), f(ci[, 3]), n, as.character(packageVersion("pROC")))
  writeLines(out, file)
}
band(20240101, 2000, "tests/reference/roc/roc_band.json")
band(20261204, 20000, "tests/reference/roc/roc_band_20000.json")

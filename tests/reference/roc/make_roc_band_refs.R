# Reference for validation.stats.roc_band: pROC ci.se, stratified bootstrap, aSAH s100b.
# Run from the repository root: Rscript tests/reference/roc/make_roc_band_refs.R
library(pROC)
d <- read.csv("tests/reference/data/aSAH.csv")
r <- roc(d$outcome, d$s100b, levels = c("Good", "Poor"), direction = "<", quiet = TRUE)
sp <- c(1, 0.9, 0.8, 0.6, 0.5, 0.3)
set.seed(20240101)
ci <- ci.se(r, specificities = sp, boot.n = 2000, boot.stratified = TRUE, conf.level = 0.95)
out <- sprintf('{"specificities": [%s], "low": [%s], "median": [%s], "high": [%s], "boot_n": 2000, "pROC": "%s"}',
  paste(sp, collapse = ", "), paste(ci[, 1], collapse = ", "), paste(ci[, 2], collapse = ", "),
  paste(ci[, 3], collapse = ", "), as.character(packageVersion("pROC")))
writeLines(out, "tests/reference/roc/roc_band.json")

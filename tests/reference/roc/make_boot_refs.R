# BCa and percentile bootstrap intervals of the AUC (aSAH s100b), stratified by outcome, with
# R boot 1.3-28, for tests/stats/test_bootstrap.py (Monte Carlo comparison, tolerance 0.01).
# Run from tests/reference/:  Rscript roc/make_boot_refs.R > roc/boot_bca.json
suppressMessages(library(boot))
d <- read.csv("data/aSAH.csv", stringsAsFactors = FALSE)
y <- as.integer(d$outcome == "Poor"); x <- d$s100b
aucfun <- function(dd, i) {
  yy <- dd$y[i]; xx <- dd$x[i]; r <- rank(xx)
  n1 <- sum(yy == 1); n0 <- sum(yy == 0)
  (sum(r[yy == 1]) - n1 * (n1 + 1) / 2) / (n1 * n0)
}
set.seed(20261128)
bb <- boot(data.frame(y = y, x = x), aucfun, R = 20000, strata = y)
ci <- boot.ci(bb, conf = 0.95, type = c("perc", "bca"))
cat(sprintf('{\n  "R_version": "%s",\n  "boot_version": "%s",\n  "R": 20000,\n  "seed": 20261128,\n  "t0": %.17g,\n  "perc_lower": %.17g,\n  "perc_upper": %.17g,\n  "bca_lower": %.17g,\n  "bca_upper": %.17g,\n  "how": "boot(data.frame(y, x), aucfun, R = 20000, strata = y); boot.ci(type = c(perc, bca))"\n}\n',
  R.version.string, as.character(packageVersion("boot")), bb$t0,
  ci$percent[4], ci$percent[5], ci$bca[4], ci$bca[5]))

# Extra ROC reference values for tests/stats/test_roc.py (R 4.2 + pROC).
# Run from tests/reference/:  Rscript roc/make_roc_refs.R > roc/roc_extra.json
# aSAH: negative class "Good", positive "Poor"; direction "<" (higher score = positive).
suppressMessages(library(pROC))
# Full-precision JSON writer (jsonlite stops at 15 significant digits).
tojson <- function(x, ind = "") {
  nx <- paste0(ind, "  ")
  if (is.list(x)) {
    items <- vapply(names(x), function(k) paste0(nx, "\"", k, "\": ", tojson(x[[k]], nx)), "")
    return(paste0("{\n", paste(items, collapse = ",\n"), "\n", ind, "}"))
  }
  v <- if (is.character(x)) paste0("\"", x, "\"") else sprintf("%.17g", as.numeric(x))
  if (length(x) == 1) v else paste0("[", paste(v, collapse = ", "), "]")
}
d <- read.csv("data/aSAH.csv", stringsAsFactors = FALSE)
lev <- c("Good", "Poor")
out <- list(pROC_version = as.character(packageVersion("pROC")), R_version = R.version.string)

# 1. DeLong CI at 90% (ndka) and for an ordinal score with many ties (wfns)
for (p in c("ndka", "wfns")) {
  r <- roc(d$outcome, as.numeric(d[[p]]), levels = lev, direction = "<", quiet = TRUE)
  ci <- ci.auc(r, conf.level = 0.90, method = "delong")
  out[[paste0("delong90_", p)]] <- list(predictor = p, auc = as.numeric(auc(r)),
    var = var(r, method = "delong"), lower = ci[1], upper = ci[3], conf_level = 0.90)
}

# 2. Paired DeLong test with ties: s100b vs wfns
r1 <- roc(d$outcome, d$s100b, levels = lev, direction = "<", quiet = TRUE)
r2 <- roc(d$outcome, as.numeric(d$wfns), levels = lev, direction = "<", quiet = TRUE)
t <- roc.test(r1, r2, method = "delong", paired = TRUE)
out$paired_s100b_wfns <- list(auc1 = as.numeric(auc(r1)), auc2 = as.numeric(auc(r2)),
  z = unname(t$statistic), p_value = t$p.value, lower = t$conf.int[1], upper = t$conf.int[2],
  cov12 = cov(r1, r2, method = "delong"))

# 3. Unpaired DeLong test: s100b in women vs in men (independent samples)
f <- d[d$gender == "Female", ]; m <- d[d$gender == "Male", ]
rf <- roc(f$outcome, f$s100b, levels = lev, direction = "<", quiet = TRUE)
rm <- roc(m$outcome, m$s100b, levels = lev, direction = "<", quiet = TRUE)
tu <- roc.test(rf, rm, method = "delong", paired = FALSE)
out$unpaired_s100b_female_vs_male <- list(auc1 = as.numeric(auc(rf)), auc2 = as.numeric(auc(rm)),
  var1 = var(rf, method = "delong"), var2 = var(rm, method = "delong"),
  z = unname(tu$statistic), p_value = tu$p.value)

# 4. Sensitivity/specificity at thresholds (pROC: score >= threshold is positive when
#    direction "<"); thresholds chosen between and on observed values.
thr <- c(0.05, 0.205, 0.3, 0.52)
cs <- coords(r1, x = thr, input = "threshold", ret = c("threshold", "sensitivity", "specificity"))
out$coords_s100b <- list(threshold = cs$threshold, sensitivity = cs$sensitivity,
  specificity = cs$specificity)

cat(tojson(out), "\n")

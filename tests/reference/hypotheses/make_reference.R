# Reference values for tests/stats/test_hypotheses.py.
# Run from this folder:  Rscript make_reference.R   (writes hypotheses_reference.json)
# R 4.2.2, pROC 1.18.0, jsonlite. Independent of the Python code: base R prop.test (score test,
# Wilson interval), binom.test (exact test, Clopper-Pearson) and pROC's DeLong (co)variances.
suppressPackageStartupMessages({library(pROC); library(jsonlite)})

goal_cases <- list(c(180, 200, 0.80), c(85, 100, 0.80), c(41, 50, 0.70), c(95, 100, 0.90))
goal <- lapply(goal_cases, function(v) {
  x <- v[1]; n <- v[2]; g <- v[3]
  sc <- prop.test(x, n, p = g, alternative = "greater", correct = FALSE)
  wi <- prop.test(x, n, conf.level = 0.95, correct = FALSE)$conf.int
  ex <- binom.test(x, n, p = g, alternative = "greater")
  cp <- binom.test(x, n, conf.level = 0.95)$conf.int
  list(x = x, n = n, goal = g, alpha_one_sided = 0.025,
       score_z = unname(sign(x / n - g) * sqrt(sc$statistic)), score_p = sc$p.value,
       wilson95 = as.numeric(wi), exact_p = ex$p.value, clopper_pearson95 = as.numeric(cp))
})

d <- read.csv("../data/aSAH.csv", stringsAsFactors = FALSE)
r1 <- roc(d$outcome, d$s100b, levels = c("Good", "Poor"), direction = "<", quiet = TRUE)
r2 <- roc(d$outcome, d$ndka, levels = c("Good", "Poor"), direction = "<", quiet = TRUE)
se_d <- sqrt(var(r1) + var(r2) - 2 * cov(r1, r2))
diff <- as.numeric(auc(r1) - auc(r2))
sup <- roc.test(r1, r2, method = "delong", paired = TRUE, alternative = "greater")
auc_cmp <- list(
  difference = diff, se = se_d,
  superiority_z = unname(sup$statistic), superiority_p_one_sided = sup$p.value,
  noninferiority = lapply(c(0.05, 0.10), function(m)
    list(margin = m, z = (diff + m) / se_d, p = pnorm((diff + m) / se_d, lower.tail = FALSE),
         ci95_lower = diff - qnorm(0.975) * se_d)),
  goal = list(goal = 0.6, auc = as.numeric(auc(r1)), se = sqrt(var(r1)),
              z = (as.numeric(auc(r1)) - 0.6) / sqrt(var(r1)),
              p = pnorm((as.numeric(auc(r1)) - 0.6) / sqrt(var(r1)), lower.tail = FALSE))
)

out <- list(
  how = "Rscript make_reference.R (this folder); prop.test(correct = FALSE) is the score test and Wilson interval, binom.test the exact test and Clopper-Pearson interval; AUC: pROC::roc, var, cov, roc.test(method = 'delong', paired = TRUE).",
  R_version = R.version.string, pROC = as.character(packageVersion("pROC")),
  performance_goal = goal, auc_comparison_aSAH_s100b_vs_ndka = auc_cmp)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "hypotheses_reference.json")

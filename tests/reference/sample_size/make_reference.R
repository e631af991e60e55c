# Reference values for tests/stats/test_sample_size.py.
# Run from this folder:  Rscript make_reference.R   (writes sample_size_reference.json)
# R 4.2.2 with pROC 1.18.0, epiR 2.0.57, jsonlite. Written independently of the Python code:
#  - exact binomial: brute force over n with qbinom/pbinom (critical value, exact power);
#  - one proportion, normal approximation: the closed formula;
#  - unpaired non-inferiority: epiR::epi.ssninfb (unrestricted variance) and the
#    Farrington-Manning formula with the restricted MLE found numerically (uniroot on the score);
#  - paired non-inferiority (Nam 1997 / Liu et al. 2002): the restricted estimate of p01 found
#    numerically (uniroot on the score of the trinomial likelihood); superiority: Connor (1987);
#  - AUC against 0.5: pROC::power.roc.test (Obuchowski variance), and the Hanley-McNeil (1982)
#    variance with a search over n.
suppressPackageStartupMessages({library(pROC); library(epiR); library(jsonlite)})

exact_goal <- function(p1, p0, alpha, power) {
  za <- qnorm(1 - alpha); zb <- qnorm(power)
  n_norm <- (za * sqrt(p0 * (1 - p0)) + zb * sqrt(p1 * (1 - p1)))^2 / (p1 - p0)^2
  upper <- min(2 * ceiling(n_norm) + 100, 1e6)
  ns <- 1:upper
  k <- qbinom(1 - alpha, ns, p0) + 1           # reject when X >= k
  pw <- pbinom(k - 1, ns, p1, lower.tail = FALSE)
  ok <- pw >= power
  first <- ns[which(ok)[1]]
  robust <- if (all(ok)) 1 else max(ns[!ok]) + 1
  list(expected = p1, goal = p0, alpha = alpha, power = power,
       normal_n_unrounded = n_norm, exact_n_first = first, exact_n = robust,
       exact_power_at_n = pw[robust], critical_value_at_n = k[robust])
}
goal_cases <- list()
for (pp in list(c(0.9, 0.8), c(0.95, 0.9), c(0.85, 0.7), c(0.8, 0.7), c(0.97, 0.9)))
  for (a in c(0.025, 0.05)) for (pw in c(0.8, 0.9))
    goal_cases[[length(goal_cases) + 1]] <- exact_goal(pp[1], pp[2], a, pw)

fm_restricted <- function(p1, p2, r, delta) {
  # maximise n1 [p1 log t1 + q1 log(1-t1)] + n2 [p2 log t2 + ...] with t2 = t1 - delta, n2 = r n1:
  # root of the score (the log-likelihood is concave in t1), found by uniroot
  score <- function(t1) { t2 <- t1 - delta
    p1 / t1 - (1 - p1) / (1 - t1) + r * (p2 / t2 - (1 - p2) / (1 - t2)) }
  lo <- max(0, delta) + 1e-12; hi <- min(1, 1 + delta) - 1e-12
  t1 <- uniroot(score, c(lo, hi), tol = 1e-15)$root
  c(t1, t1 - delta)
}
unpaired <- lapply(list(c(0.85, 0.85, 0.10, 1), c(0.90, 0.88, 0.05, 1), c(0.70, 0.75, 0.10, 2),
                        c(0.60, 0.60, 0.15, 0.5)), function(v) {
  p1 <- v[1]; p2 <- v[2]; m <- v[3]; ratio <- v[4]; alpha <- 0.025; power <- 0.8
  za <- qnorm(1 - alpha); zb <- qnorm(power)
  t <- fm_restricted(p1, p2, ratio, -m)
  n_r <- (za * sqrt(t[1] * (1 - t[1]) + t[2] * (1 - t[2]) / ratio) +
          zb * sqrt(p1 * (1 - p1) + p2 * (1 - p2) / ratio))^2 / (p1 - p2 + m)^2
  # epiR: treat = group 1 (new), control = group 2; its r is n.treat / n.control = 1 / ratio
  e <- epi.ssninfb(treat = p1, control = p2, delta = m, n = NA, r = 1 / ratio, power = power,
                   nfractional = TRUE, alpha = alpha)
  list(p1 = p1, p2 = p2, margin = m, ratio = ratio, alpha = alpha, power = power,
       restricted_p1 = t[1], restricted_p2 = t[2], restricted_n1_unrounded = n_r,
       epiR_unrestricted_n1_unrounded = e$n.treat)
})

paired <- lapply(list(c(0.10, 0.05, 0.05), c(0.08, 0.08, 0.05), c(0.15, 0.05, 0.10),
                      c(0.05, 0.10, 0.10), c(0.10, 0.05, 0)), function(v) {
  p10 <- v[1]; p01 <- v[2]; m <- v[3]; alpha <- 0.025; power <- 0.8
  za <- qnorm(1 - alpha); zb <- qnorm(power)
  delta <- p10 - p01; psi <- p10 + p01
  if (m > 0) {
    d0 <- -m
    # restricted MLE of p01 under p10 - p01 = d0, expected cell frequencies as data
    # root of the score of the trinomial log-likelihood in q = p01 (q10 = q + d0, q11 = 1 - q10 - q)
    score <- function(q) p10 / (q + d0) + p01 / q - 2 * (1 - psi) / (1 - 2 * q - d0)
    q <- uniroot(score, c(max(0, -d0) + 1e-12, (1 - d0) / 2 - 1e-12), tol = 1e-15)$root
    s0 <- sqrt(2 * q + d0 * (1 - d0))
  } else { d0 <- 0; q <- NA; s0 <- sqrt(psi) }
  n <- (za * s0 + zb * sqrt(psi - delta^2))^2 / (delta - d0)^2
  list(p10 = p10, p01 = p01, margin = m, alpha = alpha, power = power,
       restricted_p01 = q, n_unrounded = n)
})

auc <- list()
for (a in c(0.7, 0.8, 0.9)) for (kap in c(1, 2)) for (pw in c(0.8, 0.9)) {
  pr <- power.roc.test(auc = a, sig.level = 0.025, power = pw, kappa = kap,
                       alternative = "one.sided")
  hm_var <- function(A, n1, n0) { Q1 <- A / (2 - A); Q2 <- 2 * A^2 / (1 + A)
    (A * (1 - A) + (n1 - 1) * (Q1 - A^2) + (n0 - 1) * (Q2 - A^2)) / (n1 * n0) }
  za <- qnorm(0.975); zb <- qnorm(pw); n <- 2
  while (za * sqrt(hm_var(0.5, n, kap * n)) + zb * sqrt(hm_var(a, n, kap * n)) > a - 0.5) n <- n + 1
  auc[[length(auc) + 1]] <- list(auc = a, null_auc = 0.5, ratio = kap, alpha = 0.025,
                                 power = pw, pROC_ncases = pr$ncases,
                                 pROC_ncontrols = pr$ncontrols, hanley_mcneil_n_pos = n)
}

out <- list(
  how = "Rscript make_reference.R (this folder)", R_version = R.version.string,
  pROC = as.character(packageVersion("pROC")), epiR = as.character(packageVersion("epiR")),
  proportion_vs_goal = goal_cases, unpaired_noninferiority = unpaired,
  paired = paired, auc_vs_value = auc)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           "sample_size_reference.json")

# Reference values for tests/stats/test_agreement.py and tests/stats/test_kappa.py.
# R 4.2 with epiR and psych. Run from tests/reference/:
#   Rscript agreement/make_agreement_refs.R > agreement/agreement_refs.json
# The measurement data are drawn here (set.seed) and written to agreement/measurements.csv,
# agreement/repeated.csv, agreement/ratings_icc.csv and agreement/ratings_fleiss.csv.
suppressMessages({library(epiR); library(psych)})
tojson <- function(x, ind = "") {  # full precision (%.17g)
  nx <- paste0(ind, "  ")
  if (is.list(x)) {
    items <- vapply(names(x), function(k) paste0(nx, "\"", k, "\": ", tojson(x[[k]], nx)), "")
    return(paste0("{\n", paste(items, collapse = ",\n"), "\n", ind, "}"))
  }
  v <- if (is.character(x)) paste0("\"", x, "\"") else sprintf("%.17g", as.numeric(x))
  if (length(x) == 1) v else paste0("[", paste(v, collapse = ", "), "]")
}
set.seed(20261204)
n <- 40
truth <- rnorm(n, 60, 12)                       # e.g. a volume in mL
a <- truth + rnorm(n, 1.5, 3)                   # device
b <- truth + rnorm(n, 0, 2)                     # reference
write.csv(data.frame(a = sprintf("%.17g", a), b = sprintf("%.17g", b)), "agreement/measurements.csv",
          row.names = FALSE, quote = FALSE)
out <- list(R_version = R.version.string, epiR_version = as.character(packageVersion("epiR")),
            psych_version = as.character(packageVersion("psych")))

ba <- function(a, b, alpha) {
  d <- a - b; n <- length(d); m <- mean(d); s <- sd(d)
  z <- qnorm(1 - alpha / 2); t <- qt(1 - alpha / 2, n - 1)
  lo <- m - z * s; hi <- m + z * s
  se_b <- s / sqrt(n); se_l <- s * sqrt(3 / n)
  # Carkeet (2015): exact limits from the non-central t (df n - 1, ncp z sqrt(n))
  q <- qt(c(alpha / 2, 1 - alpha / 2), n - 1, ncp = z * sqrt(n))
  list(n = n, bias = m, sd = s, lower = lo, upper = hi,
       bias_ci = c(m - t * se_b, m + t * se_b),
       lower_ci = c(lo - t * se_l, lo + t * se_l), upper_ci = c(hi - t * se_l, hi + t * se_l),
       upper_ci_exact = m + se_b * q, lower_ci_exact = m - se_b * rev(q))
}
out$bland_altman_n40_alpha05 <- ba(a, b, 0.05)
out$bland_altman_n40_alpha10 <- ba(a, b, 0.10)
out$bland_altman_first8_alpha05 <- ba(a[1:8], b[1:8], 0.05)

# proportional bias: lm(d ~ mean)
d <- a - b; mn <- (a + b) / 2
fit <- summary(lm(d ~ mn)); ci <- confint(lm(d ~ mn))["mn", ]
out$proportional_bias <- list(slope = fit$coefficients["mn", "Estimate"],
  se = fit$coefficients["mn", "Std. Error"], t = fit$coefficients["mn", "t value"],
  p = fit$coefficients["mn", "Pr(>|t|)"], intercept = fit$coefficients["(Intercept)", "Estimate"],
  ci = unname(ci))

# Lin's CCC, epiR::epi.ccc (z-transform interval)
cc <- epi.ccc(a, b, ci = "z-transform", conf.level = 0.95)
out$ccc_95 <- list(estimate = cc$rho.c$est, lower = cc$rho.c$lower, upper = cc$rho.c$upper,
                   C_b = cc$C.b)
cc90 <- epi.ccc(a, b, ci = "z-transform", conf.level = 0.90)
out$ccc_90 <- list(estimate = cc90$rho.c$est, lower = cc90$rho.c$lower, upper = cc90$rho.c$upper)

# repeated measures (Bland and Altman 2007, section 5): one-way ANOVA of the differences
ns <- 12; m_i <- c(1, 2, 3, 4, 2, 3, 5, 1, 2, 4, 3, 2)
subj <- rep(seq_len(ns), m_i); tot <- length(subj)
u <- rnorm(ns, 0, 1.5)[subj]
ra <- 50 + rnorm(tot, 0, 8); rb <- ra - 1 + u + rnorm(tot, 0, 2)
write.csv(data.frame(subject = subj, a = sprintf("%.17g", ra), b = sprintf("%.17g", rb)),
          "agreement/repeated.csv", row.names = FALSE, quote = FALSE)
dr <- ra - rb
av <- anova(lm(dr ~ factor(subj)))
msb <- av[1, "Mean Sq"]; msw <- av[2, "Mean Sq"]
div <- (tot^2 - sum(m_i^2)) / ((ns - 1) * tot)
vb <- max((msb - msw) / div, 0)
sdr <- sqrt(vb + msw)
out$bland_altman_repeated <- list(bias = mean(dr), sd = sdr, var_between = vb, var_within = msw,
  lower = mean(dr) - qnorm(0.975) * sdr, upper = mean(dr) + qnorm(0.975) * sdr)

# ICC, psych::ICC (ANOVA, no lme4): 30 subjects x 4 raters
tr <- rnorm(30, 10, 3)
R <- sapply(1:4, function(j) tr + rnorm(30, c(0, 0.5, -0.3, 1)[j], 1.2))
write.csv(as.data.frame(apply(R, 2, function(v) sprintf("%.17g", v))), "agreement/ratings_icc.csv",
          row.names = FALSE, quote = FALSE)
ic <- ICC(R, lmer = FALSE)$results
out$icc <- list()
for (i in seq_len(nrow(ic))) {
  out$icc[[as.character(ic$type[i])]] <- list(icc = ic$ICC[i], F = ic$F[i], df1 = ic$df1[i],
    df2 = ic$df2[i], p = ic$p[i], lower = ic$`lower bound`[i], upper = ic$`upper bound`[i])
}

# Cohen's kappa, psych::cohen.kappa on the shared 2-reader data (5 ordinal categories)
k <- read.csv("data/reader_kappa_n120.csv")
ck <- cohen.kappa(cbind(k$reader1, k$reader2))
out$psych_cohen_kappa <- list(kappa = ck$kappa, var_kappa = ck$var.kappa,
  weighted_kappa = ck$weighted.kappa,  # psych 2.2.9 reports var.weighted = 0 here: not used
  confid = as.numeric(ck$confid))

# Fleiss' kappa with Gwet's (2008) linearised variance (irrCAC::fleiss.kappa.raw's formula,
# written out in base R): 25 subjects x 5 raters, 3 categories
lat <- sample(1:3, 25, replace = TRUE, prob = c(0.5, 0.3, 0.2))
FR <- sapply(1:5, function(j) ifelse(runif(25) < 0.7, lat, sample(1:3, 25, replace = TRUE)))
write.csv(as.data.frame(FR), "agreement/ratings_fleiss.csv", row.names = FALSE, quote = FALSE)
cats <- sort(unique(as.vector(FR))); r <- ncol(FR); nf <- nrow(FR)
cnt <- t(apply(FR, 1, function(x) table(factor(x, levels = cats))))
pa_i <- rowSums(cnt * (cnt - 1)) / (r * (r - 1)); pi_k <- colMeans(cnt) / r
pa <- mean(pa_i); pe <- sum(pi_k^2); kap <- (pa - pe) / (1 - pe)
pe_i <- as.vector(cnt %*% pi_k) / r
k_i <- (pa_i - pe) / (1 - pe) - 2 * (1 - kap) * (pe_i - pe) / (1 - pe)
se <- sqrt(sum((k_i - kap)^2) / (nf * (nf - 1)))
tq <- qt(0.975, nf - 1)
out$fleiss_kappa <- list(kappa = kap, se = se, lower = kap - tq * se, upper = kap + tq * se)
cat(tojson(out), "\n")

# Independent reference for the OR analysis: brute-force leave-one-case-out AUCs (each AUC
# recomputed from scratch with pROC::auc), jackknife covariance and the Obuchowski-Rockette
# statistics with Hillis ddf, written out from the textbook formulas (Hillis 2007; Hillis,
# Berbaum & Metz 2008). Used for Franken (no published numbers; Cov2 < Cov3) and re-checked on
# Van Dyke. Run from this folder:  Rscript or_bruteforce.R   (writes or_bruteforce.json)
suppressMessages({library(pROC); library(jsonlite)})

auc1 <- function(truth, x) {
  as.numeric(auc(roc(truth, x, levels = c(0, 1), direction = "<", quiet = TRUE)))
}

analyse <- function(file) {
  d <- read.csv(file)
  mods <- sort(unique(d$modality)); rdrs <- sort(unique(d$reader)); cs <- sort(unique(d$case))
  t <- length(mods); r <- length(rdrs); c <- length(cs)
  truth <- sapply(cs, function(k) d$truth[d$case == k][1])
  rating <- array(NA, c(t, r, c))
  for (i in 1:t) for (j in 1:r) {
    s <- d[d$modality == mods[i] & d$reader == rdrs[j], ]
    rating[i, j, ] <- s$rating[match(cs, s$case)]
  }
  fom <- matrix(NA, t, r); jk <- array(NA, c(t, r, c))
  for (i in 1:t) for (j in 1:r) {
    fom[i, j] <- auc1(truth, rating[i, j, ])
    for (k in 1:c) jk[i, j, k] <- auc1(truth[-k], rating[i, j, -k])
  }
  flat <- matrix(NA, t * r, c); lab_m <- integer(t * r); lab_r <- integer(t * r)
  for (i in 1:t) for (j in 1:r) {
    flat[(i - 1) * r + j, ] <- jk[i, j, ]; lab_m[(i - 1) * r + j] <- i; lab_r[(i - 1) * r + j] <- j
  }
  dev <- flat - rowMeans(flat)
  S <- (c - 1) / c * dev %*% t(dev)
  sm <- outer(lab_m, lab_m, "=="); sr <- outer(lab_r, lab_r, "==")
  Var <- mean(diag(S)); Cov1 <- mean(S[!sm & sr]); Cov2 <- mean(S[sm & !sr]); Cov3 <- mean(S[!sm & !sr])
  a <- aov(y ~ m * rr, data = data.frame(y = as.vector(t(fom)), m = factor(rep(1:t, each = r)),
                                        rr = factor(rep(1:r, t))))
  ms <- summary(a)[[1]][["Mean Sq"]]; MST <- ms[1]; MSR <- ms[2]; MSTR <- ms[3]
  den <- MSTR + r * max(Cov2 - Cov3, 0)
  ddf <- den^2 / (MSTR^2 / ((t - 1) * (r - 1)))
  F <- MST / den
  diff <- mean(fom[2, ]) - mean(fom[1, ])
  se <- sqrt(2 / r * den)
  denF <- Var - Cov1 + (r - 1) * max(Cov2 - Cov3, 0)
  X2 <- (t - 1) * MST / denF
  seF <- sqrt(2 / r * denF)
  seC <- sqrt(2 / r * MSTR)
  varTR <- MSTR - Var + Cov1 + Cov2 - Cov3
  varR <- (MSR - varTR - Var - (t - 1) * Cov1 + Cov2 + (t - 1) * Cov3) / t
  list(fom = fom, difference_2_minus_1 = diff,
       var = Var, cov1 = Cov1, cov2 = Cov2, cov3 = Cov3, var_r = varR, var_tr = varTR,
       ms_t = MST, ms_r = MSR, ms_tr = MSTR,
       rrrc = list(f = F, ddf = ddf, p = 1 - pf(F, 1, ddf),
                   ci = diff + c(-1, 1) * qt(0.975, ddf) * se),
       frrc = list(x2 = X2, p = 1 - pchisq(X2, 1), ci = diff + c(-1, 1) * qnorm(0.975) * seF),
       rrfc = list(f = MST / MSTR, p = 1 - pf(MST / MSTR, 1, (t - 1) * (r - 1)),
                   ci = diff + c(-1, 1) * qt(0.975, (t - 1) * (r - 1)) * seC))
}

out <- list(
  `_source` = paste("tests/reference/mrmc/or_bruteforce.R, R", getRversion(), "pROC",
                    as.character(packageVersion("pROC"))),
  franken = analyse("franken_1992_roc.csv"),
  vandyke = analyse("vandyke_1993_roc.csv"))
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "or_bruteforce.json")

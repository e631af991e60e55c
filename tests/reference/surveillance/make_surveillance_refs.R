# Reference values for tests/stats/surveillance/ (R 4.2 + spc).
# Run from tests/reference/:  Rscript surveillance/make_surveillance_refs.R > surveillance/surveillance_refs.json
# - normal CUSUM: spc::xcusum.arl / xcusum.crit (Nystroem, Gauss-Legendre, r = 100 nodes).
# - Bernoulli and binomial CUSUM ARL: spc has no Bernoulli/binomial CUSUM, so a long Monte Carlo
#   of the chart with the exact log-likelihood-ratio weights (mean run length and its SE).
# - EWMA of a proportion: the issue's formula evaluated directly (sum, not recursion).
# - PSI: quantile(type = 7) edges, findInterval(left.open = TRUE) bins, 1e-4 for empty bins.
# - KS: ks.test (exact two-sample); chi-square: chisq.test(correct = FALSE) on a 2 x K table.
suppressMessages(library(spc))
tojson <- function(x, ind = "") {
  nx <- paste0(ind, "  ")
  if (is.list(x)) {
    items <- vapply(names(x), function(k) paste0(nx, "\"", k, "\": ", tojson(x[[k]], nx)), "")
    return(paste0("{\n", paste(items, collapse = ",\n"), "\n", ind, "}"))
  }
  v <- if (is.character(x)) paste0("\"", x, "\"") else sprintf("%.17g", as.numeric(x))
  if (length(x) == 1) v else paste0("[", paste(v, collapse = ", "), "]")
}
out <- list(R_version = R.version.string, spc_version = as.character(packageVersion("spc")))

# normal CUSUM
nc <- list()
grid <- list(c(0.5, 4, 0), c(0.5, 4, 1), c(0.5, 3, 1.5), c(0.25, 8, 0), c(0.25, 8, 0.5), c(1, 2.5, 2))
for (g in grid) {
  nc[[sprintf("k%g_h%g_mu%g", g[1], g[2], g[3])]] <- list(k = g[1], h = g[2], mu = g[3],
    arl = xcusum.arl(g[1], g[2], g[3], sided = "one", r = 100))
}
out$normal_cusum_arl <- nc
crit <- list()
for (g in list(c(0.5, 370), c(0.25, 500), c(1, 200))) {
  h <- xcusum.crit(g[1], g[2], sided = "one", r = 100)
  crit[[sprintf("k%g_L0%g", g[1], g[2])]] <- list(k = g[1], L0 = g[2], h = h,
    arl1 = xcusum.arl(g[1], h, 2 * g[1], sided = "one", r = 100))
}
out$normal_cusum_crit <- crit

# Bernoulli / binomial CUSUM by simulation (vectorised over runs)
sim_rl <- function(runs, n, p, w1, w0, h) {
  s <- numeric(runs); rl <- integer(runs); alive <- rep(TRUE, runs); t <- 0L
  while (any(alive)) {
    t <- t + 1L
    idx <- which(alive)
    x <- rbinom(length(idx), n, p)
    s[idx] <- pmax(0, s[idx] + x * w1 + (n - x) * w0)
    hit <- idx[s[idx] >= h]
    rl[hit] <- t
    alive[hit] <- FALSE
  }
  rl
}
set.seed(20261204)
mc <- list()
designs <- list(list(p0 = 0.1, p1 = 0.2, n = 1, h = 2.5, runs = 40000),
                list(p0 = 0.05, p1 = 0.1, n = 1, h = 3.0, runs = 40000),
                list(p0 = 0.1, p1 = 0.2, n = 20, h = 2.0, runs = 40000))
for (d in designs) {
  w1 <- log(d$p1 / d$p0); w0 <- log((1 - d$p1) / (1 - d$p0))
  for (p in c(d$p0, d$p1)) {
    rl <- sim_rl(d$runs, d$n, p, w1, w0, d$h)
    mc[[sprintf("p0%g_p1%g_n%d_h%g_p%g", d$p0, d$p1, d$n, d$h, p)]] <- list(
      p0 = d$p0, p1 = d$p1, n = d$n, h = d$h, p = p, runs = d$runs,
      mean_rl = mean(rl), se = sd(rl) / sqrt(d$runs))
  }
}
out$cusum_monte_carlo <- mc

# EWMA: direct evaluation of the issue's formula
x <- c(45, 88, 30, 140, 52, 61, 9, 77)
n <- c(50, 100, 35, 150, 60, 80, 12, 90)
target <- 0.85; lam <- 0.2; L <- 2.7
z <- numeric(length(x)); v <- numeric(length(x)); zp <- target
for (t in seq_along(x)) {
  zp <- lam * x[t] / n[t] + (1 - lam) * zp; z[t] <- zp
  i <- 1:t
  v[t] <- target * (1 - target) * sum(lam^2 * (1 - lam)^(2 * (t - i)) / n[i])
}
out$ewma <- list(successes = x, trials = n, target = target, lam = lam, width = L, statistic = z,
                 lower = pmax(0, target - L * sqrt(v)), upper = pmin(1, target + L * sqrt(v)))

# PSI, KS, chi-square on fixed samples
set.seed(7)
base <- round(rbeta(300, 2, 5), 3)
cur <- round(rbeta(400, 2.4, 5), 3)
psi <- function(b, c, e) {
  k <- length(e) + 1
  rb <- tabulate(findInterval(b, e, left.open = TRUE) + 1, k) / length(b)
  rc <- tabulate(findInterval(c, e, left.open = TRUE) + 1, k) / length(c)
  pb <- ifelse(rb > 0, rb, 1e-4); pc <- ifelse(rc > 0, rc, 1e-4)
  sum((pc - pb) * log(pc / pb))
}
qe <- unique(quantile(base, (1:9) / 10, type = 7, names = FALSE))
given <- c(0.1, 0.2, 0.3, 0.5, 0.9, 0.95)
out$psi <- list(baseline = base, current = cur, quantile_edges = qe, psi_quantile = psi(base, cur, qe),
                given_edges = given, psi_given = psi(base, cur, given))
xs <- rnorm(30); ys <- rnorm(40, 0.6)
k1 <- ks.test(xs, ys, exact = TRUE)
xl <- rnorm(300); yl <- rnorm(400, 0.15)
k2 <- ks.test(xl, yl, exact = TRUE)
out$ks <- list(small = list(x = xs, y = ys, statistic = unname(k1$statistic), p_value = k1$p.value),
               large = list(x = xl, y = yl, statistic = unname(k2$statistic), p_value = k2$p.value))
tab <- rbind(c(120, 80, 40, 10), c(90, 95, 70, 5))
ch <- chisq.test(tab, correct = FALSE)
tab2 <- rbind(c(30, 12), c(18, 25))
ch2 <- chisq.test(tab2, correct = FALSE)
out$chi2 <- list(baseline = tab[1, ], current = tab[2, ], statistic = unname(ch$statistic),
                 df = unname(ch$parameter), p_value = ch$p.value,
                 baseline_2 = tab2[1, ], current_2 = tab2[2, ], statistic_2 = unname(ch2$statistic),
                 p_value_2 = ch2$p.value)
p <- c(0.001, 0.04, 0.03, 0.2, 0.011, 0.5)
out$adjust <- list(p = p, holm = p.adjust(p, "holm"), bh = p.adjust(p, "BH"))
cat(tojson(out), "\n")

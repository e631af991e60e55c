# Calibration reference values for tests/stats/test_calibration.py (R 4.2, base stats only).
# Data: calibration.csv (written by make_data.py). Run from the repository root:
#   Rscript tests/reference/calibration/make_calibration_refs.R
tojson <- function(x, ind = "") {
  nx <- paste0(ind, "  ")
  if (is.list(x)) {
    items <- vapply(names(x), function(k) paste0(nx, "\"", k, "\": ", tojson(x[[k]], nx)), "")
    return(paste0("{\n", paste(items, collapse = ",\n"), "\n", ind, "}"))
  }
  v <- if (is.character(x)) paste0("\"", x, "\"") else
    ifelse(!is.finite(as.numeric(x)), "null", sprintf("%.17g", as.numeric(x)))
  if (length(x) == 1) v else paste0("[", paste(v, collapse = ", "), "]")
}
d <- read.csv("tests/reference/calibration/calibration.csv", stringsAsFactors = FALSE)
y <- d$truth; p <- d$probability; lp <- qlogis(p); z <- qnorm(0.975)
coefs <- function(fit, term) {
  s <- summary(fit)$coefficients
  ci <- confint.default(fit, level = 0.95)
  list(estimate = s[term, 1], se = s[term, 2], ci_low = ci[term, 1], ci_high = ci[term, 2])
}
out <- list(R_version = R.version.string, n = length(y))
one <- function(y, p) {
  lp <- qlogis(p)
  # converged tightly: at glm's default epsilon (1e-8) the reported se comes from the IRLS
  # weights one iteration before the end and differs from the converged se in the 5th digit
  ctl <- glm.control(epsilon = 1e-14, maxit = 100)
  f_int <- glm(y ~ 1 + offset(lp), family = binomial, control = ctl)   # calibration intercept
  f_slope <- glm(y ~ lp, family = binomial, control = ctl)             # calibration slope
  sl <- coefs(f_slope, "lp")
  # Wald test of slope = 1
  sl$z_vs_1 <- (sl$estimate - 1) / sl$se
  list(intercept = coefs(f_int, "(Intercept)"), slope = sl,
       slope_model_intercept = coefs(f_slope, "(Intercept)"),
       brier = mean((p - y)^2), mean_p = mean(p), mean_y = mean(y),
       oe_ratio = sum(y) / sum(p))
}
out$all <- one(y, p)
for (s in c("A", "B")) out[[paste0("site_", s)]] <- one(y[d$site == s], p[d$site == s])
# Spiegelhalter (1986) z: sum (y - p)(1 - 2p) / sqrt(sum (1 - 2p)^2 p (1 - p))
zs <- sum((y - p) * (1 - 2 * p)) / sqrt(sum((1 - 2 * p)^2 * p * (1 - p)))
out$spiegelhalter <- list(z = zs, p_value = 2 * pnorm(-abs(zs)))
# Hosmer-Lemeshow: 10 groups cut at the deciles of p (quantile type 7, lowest included)
g <- cut(p, quantile(p, 0:10 / 10, type = 7), include.lowest = TRUE)
O <- tapply(y, g, sum); E <- tapply(p, g, sum); n_g <- tapply(y, g, length)
hl <- sum((O - E)^2 / (E * (1 - E / n_g)))
out$hosmer_lemeshow <- list(statistic = hl, df_external = 10, p_external = pchisq(hl, 10, lower.tail = FALSE),
                            df_development = 8, p_development = pchisq(hl, 8, lower.tail = FALSE),
                            observed = as.numeric(O), expected = as.numeric(E), n = as.numeric(n_g))
# ECE and Murphy decomposition over 10 equal-width bins [0, .1), ..., [.9, 1]
b <- findInterval(p, seq(0, 1, 0.1), rightmost.closed = TRUE)
nb <- tapply(y, b, length); ob <- tapply(y, b, mean); pb <- tapply(p, b, mean)
N <- length(y); ybar <- mean(y)
out$ece_uniform10 <- list(ece = sum(nb / N * abs(ob - pb)), bins = as.numeric(names(nb)),
                          n = as.numeric(nb), observed = as.numeric(ob), mean_p = as.numeric(pb))
out$brier_decomposition <- list(reliability = sum(nb * (pb - ob)^2) / N,
                                resolution = sum(nb * (ob - ybar)^2) / N,
                                uncertainty = ybar * (1 - ybar))
# ECE over 10 equal-count bins (quantile type 7 edges, lowest included)
q <- cut(p, quantile(p, 0:10 / 10, type = 7), include.lowest = TRUE)
nq <- tapply(y, q, length); oq <- tapply(y, q, mean); pq <- tapply(p, q, mean)
out$ece_quantile10 <- list(ece = sum(nq / N * abs(oq - pq)))
# lowess smooth of y on p (Cleveland; f = 2/3, iter = 0 as in rms::val.prob, default delta)
lw <- lowess(p, y, f = 2 / 3, iter = 0)
out$lowess <- list(x = lw$x, y = lw$y)
# logistic recalibration fitted on site A (tuning split), applied to site B (evaluation split)
a <- d$site == "A"
rc <- coef(glm(y[a] ~ lp[a], family = binomial, control = glm.control(epsilon = 1e-14, maxit = 100)))
out$recalibrated_A_on_B <- c(list(a = unname(rc[1]), b = unname(rc[2])),
                             one(y[!a], plogis(rc[1] + rc[2] * lp[!a])))
cat(tojson(out), "\n", file = "tests/reference/calibration/calibration_refs.json")

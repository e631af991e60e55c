# Prognostic reference values for tests/stats/test_prognostic.py (R 4.2 + survival).
# Data: prognostic.csv (written by make_data.py; tied times and tied scores on purpose).
# Run from the repository root:  Rscript tests/reference/prognostic/make_prognostic_refs.R
suppressMessages(library(survival))
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
d <- read.csv("tests/reference/prognostic/prognostic.csv", stringsAsFactors = FALSE)
d$group <- factor(d$group, levels = c("low", "mid", "high"))
out <- list(R_version = R.version.string, survival_version = as.character(packageVersion("survival")))

# 1. Harrell's C, higher score = higher risk (reverse = TRUE), default timewt = "n";
#    std.err: infinitesimal jackknife (the default of concordance())
cc <- concordance(Surv(time, event) ~ score, data = d, reverse = TRUE)
out$concordance <- list(estimate = unname(cc$concordance), var = unname(cc$var), se = sqrt(unname(cc$var)),
                        concordant = unname(cc$count["concordant"]), discordant = unname(cc$count["discordant"]),
                        tied_x = unname(cc$count["tied.x"]), tied_y = unname(cc$count["tied.y"]),
                        tied_xy = unname(cc$count["tied.xy"]))
cc2 <- concordance(Surv(time, event) ~ score, data = d[1:60, ], reverse = TRUE)
out$concordance_first60 <- list(estimate = unname(cc2$concordance), se = sqrt(unname(cc2$var)))

# 2. Kaplan-Meier by group, log CI (the default conf.type), median with CI
fit <- survfit(Surv(time, event) ~ group, data = d, conf.type = "log")
km <- list()
for (g in levels(d$group)) {
  f <- fit[paste0("group=", g)]
  q <- quantile(f, probs = 0.5)
  km[[g]] <- list(time = f$time, n_risk = f$n.risk, n_event = f$n.event, n_censor = f$n.censor,
                  surv = f$surv, std_err = f$std.err, lower = f$lower, upper = f$upper,
                  median = unname(q$quantile), median_low = unname(q$lower), median_high = unname(q$upper))
}
out$km <- km
s <- summary(fit, times = c(0, 5, 10, 15, 20))
out$n_at_risk <- list(times = c(0, 5, 10, 15, 20), strata = as.character(s$strata), n_risk = s$n.risk)

# 3. Log-rank test (rho = 0)
sd <- survdiff(Surv(time, event) ~ group, data = d)
out$logrank <- list(statistic = sd$chisq, df = length(sd$n) - 1,
                    p_value = pchisq(sd$chisq, length(sd$n) - 1, lower.tail = FALSE),
                    observed = as.numeric(sd$obs), expected = as.numeric(sd$exp))

# 4. Cox models, Efron ties (the default), Wald intervals; PH check cox.zph (transform = "km")
cox_out <- function(f) {
  s <- summary(f)
  list(coef = unname(coef(f)), se = unname(sqrt(diag(f$var))), hr = unname(exp(coef(f))),
       hr_low = unname(s$conf.int[, 3]), hr_high = unname(s$conf.int[, 4]),
       p_value = unname(s$coefficients[, 5]), loglik = f$loglik)
}
f1 <- coxph(Surv(time, event) ~ score, data = d)
z1 <- cox.zph(f1, transform = "km")
out$cox_score <- c(cox_out(f1), list(zph_chisq = unname(z1$table[, 1]), zph_df = unname(z1$table[, 2]),
                                     zph_p = unname(z1$table[, 3])))
f2 <- coxph(Surv(time, event) ~ group, data = d)
z2 <- cox.zph(f2, transform = "km")
out$cox_group <- c(cox_out(f2), list(zph_chisq = unname(z2$table[, 1]), zph_df = unname(z2$table[, 2]),
                                     zph_p = unname(z2$table[, 3])))
z3 <- cox.zph(f1, transform = "identity")
out$cox_score_zph_identity <- list(chisq = unname(z3$table[, 1]), p = unname(z3$table[, 3]))
z4 <- cox.zph(f1, transform = "rank")
out$cox_score_zph_rank <- list(chisq = unname(z4$table[, 1]), p = unname(z4$table[, 3]))

# 5. Uno's cumulative/dynamic AUC at horizons, written out by hand (no package on Debian):
#    cases T <= t with an event, weighted 1 / G(T-) (G: Kaplan-Meier of the censoring);
#    controls T > t; score ties count one half.
G <- survfit(Surv(time, 1 - event) ~ 1, data = d)
Gminus <- function(t) vapply(t, function(u) { s <- G$surv[G$time < u]; if (length(s)) s[length(s)] else 1 }, 0)
uno <- function(t) {
  case <- d$time <= t & d$event == 1; ctrl <- d$time > t
  w <- 1 / Gminus(d$time[case]); sc <- d$score[case]; sk <- d$score[ctrl]
  num <- sum(w * vapply(sc, function(s) sum(s > sk) + 0.5 * sum(s == sk), 0))
  num / (sum(w) * length(sk))
}
hz <- c(5, 10, 15)
out$uno_auc <- list(horizons = hz, auc = vapply(hz, uno, 0))
cat(tojson(out), "\n", file = "tests/reference/prognostic/prognostic_refs.json")

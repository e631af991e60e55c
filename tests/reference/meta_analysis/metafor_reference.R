# Reference values for validation.stats.meta_analysis and validation.stats.bivariate.
# R 4.2, metafor 3.8-1.  Run from this folder:  Rscript metafor_reference.R
# Writes metafor_reference.json (17 significant digits).
# Convergence is tightened (metafor's defaults stop REML's Fisher scoring at a tau2 change of
# 1e-5 and root-finding (PM, Q-profile) at .Machine$double.eps^0.25, about 1e-4), so that the
# values are exact to about 1e-10 and the tests can use tight tolerances.
suppressPackageStartupMessages({library(metafor); library(jsonlite)})
ctl <- list(threshold = 1e-14, tol = 1e-14, maxiter = 10000)

out <- list()

## 1. dat.bcg (metafor documentation dataset): log risk ratios ---------------------------------
dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
out$bcg <- list(yi = as.numeric(dat$yi), vi = as.numeric(dat$vi))
k <- nrow(dat)
fits <- list()
for (m in c("REML", "DL", "PM")) {
  for (tst in c("z", "knha", "adhoc")) {
    fit <- rma(yi, vi, data = dat, method = m, test = tst, control = ctl)
    pr <- predict(fit)
    ci_tau <- confint(fit, control = list(tol = 1e-14))$random["tau^2", ]
    # Higgins, Thompson and Spiegelhalter (2009): estimate +/- t_{k-2} sqrt(tau2 + se^2)
    h <- qt(0.975, k - 2) * sqrt(fit$tau2 + fit$se^2)
    fits[[paste(m, tst, sep = "_")]] <- list(
      estimate = as.numeric(fit$b), se = fit$se, ci = c(fit$ci.lb, fit$ci.ub),
      tau2 = fit$tau2, i2 = fit$I2 / 100, h2 = fit$H2, q = fit$QE, q_p_value = fit$QEp,
      tau2_ci = as.numeric(ci_tau[c("ci.lb", "ci.ub")]),
      pi_metafor = c(pr$pi.lb, pr$pi.ub),
      pi_higgins = c(as.numeric(fit$b) - h, as.numeric(fit$b) + h),
      p_value = fit$pval, statistic = fit$zval)
  }
}
out$bcg_fits <- fits

## 2. generated multi-site accuracy table ------------------------------------------------------
# 10 sites drawn once from a bivariate logit-normal model (set.seed(3); mean logits 1.6 and
# 2.0, variances 0.4 and 0.3, correlation -0.5), then site 4's false negatives set to 0 (was
# tp 44, fn 4) to exercise the zero-cell correction.
acc <- data.frame(
  site = 1:10,
  tp = c(23, 25, 26, 48, 27, 15, 38, 56, 20, 72),
  fn = c(11, 4, 4, 0, 15, 7, 18, 17, 7, 7),
  tn = c(117, 77, 66, 205, 164, 204, 203, 158, 105, 60),
  fp = c(10, 15, 12, 20, 11, 40, 10, 36, 19, 8))
out$accuracy <- as.list(acc)

# pooled sensitivity: escalc PLO adds 1/2 to both cells of a site with a zero cell only
ps <- escalc(measure = "PLO", xi = tp, ni = tp + fn, data = acc)  # add = 1/2, to = "only0"
pooled <- list()
for (m in c("REML", "DL", "PM")) {
  fit <- rma(yi, vi, data = ps, method = m, control = ctl)
  pr <- predict(fit, transf = transf.ilogit)
  h <- qt(0.975, nrow(acc) - 2) * sqrt(fit$tau2 + fit$se^2)
  pooled[[m]] <- list(
    estimate = pr$pred, ci = c(pr$ci.lb, pr$ci.ub), tau2 = fit$tau2, i2 = fit$I2 / 100,
    q = fit$QE, q_p_value = fit$QEp, se_logit = fit$se, estimate_logit = as.numeric(fit$b),
    pi_metafor = c(pr$pi.lb, pr$pi.ub),
    pi_higgins = transf.ilogit(c(as.numeric(fit$b) - h, as.numeric(fit$b) + h)),
    tau2_ci = as.numeric(confint(fit, control = list(tol = 1e-14))$random["tau^2", c("ci.lb", "ci.ub")]))
}
out$pooled_sensitivity <- pooled

# bivariate (Reitsma et al. 2005): 0.5 added to all four cells of a site with any zero cell
cc <- acc
z <- with(cc, tp == 0 | fn == 0 | tn == 0 | fp == 0)
cc[z, c("tp", "fn", "tn", "fp")] <- cc[z, c("tp", "fn", "tn", "fp")] + 0.5
long <- rbind(
  data.frame(study = cc$site, outcome = "sens", yi = qlogis(cc$tp / (cc$tp + cc$fn)),
             vi = 1 / cc$tp + 1 / cc$fn),
  data.frame(study = cc$site, outcome = "spec", yi = qlogis(cc$tn / (cc$tn + cc$fp)),
             vi = 1 / cc$tn + 1 / cc$fp))
long <- long[order(long$study, long$outcome), ]
V <- diag(long$vi)
biv <- rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | study, struct = "UN",
              data = long, method = "REML")
out$bivariate <- list(
  logit_estimate = as.numeric(biv$b), logit_se = biv$se,
  logit_ci_lb = biv$ci.lb, logit_ci_ub = biv$ci.ub,
  sensitivity = plogis(as.numeric(biv$b)[1]), specificity = plogis(as.numeric(biv$b)[2]),
  sensitivity_ci = plogis(c(biv$ci.lb[1], biv$ci.ub[1])),
  specificity_ci = plogis(c(biv$ci.lb[2], biv$ci.ub[2])),
  tau2_sensitivity = biv$tau2[1], tau2_specificity = biv$tau2[2], rho = biv$rho,
  vcov = as.numeric(vcov(biv)), loglik_reml = as.numeric(logLik(biv)))


## 3. a boundary case: a 9-site table whose REML estimate of rho is +1 ------------------------
b9 <- data.frame(tp = c(45, 30, 88, 19, 52, 61, 25, 40, 33), fn = c(5, 6, 12, 4, 9, 7, 0, 10, 3),
                 tn = c(180, 95, 240, 70, 150, 210, 88, 120, 101), fp = c(20, 15, 35, 6, 22, 18, 9, 30, 0))
z <- with(b9, tp == 0 | fn == 0 | tn == 0 | fp == 0)
b9[z, ] <- b9[z, ] + 0.5
lb <- rbind(
  data.frame(study = 1:9, outcome = "sens", yi = qlogis(b9$tp / (b9$tp + b9$fn)), vi = 1 / b9$tp + 1 / b9$fn),
  data.frame(study = 1:9, outcome = "spec", yi = qlogis(b9$tn / (b9$tn + b9$fp)), vi = 1 / b9$tn + 1 / b9$fp))
lb <- lb[order(lb$study, lb$outcome), ]
bb <- rma.mv(yi, diag(lb$vi), mods = ~ outcome - 1, random = ~ outcome | study, struct = "UN",
             data = lb, method = "REML")
out$bivariate_boundary <- list(
  tp = c(45, 30, 88, 19, 52, 61, 25, 40, 33), fn = c(5, 6, 12, 4, 9, 7, 0, 10, 3),
  tn = c(180, 95, 240, 70, 150, 210, 88, 120, 101), fp = c(20, 15, 35, 6, 22, 18, 9, 30, 0),
  logit_estimate = as.numeric(bb$b), tau2 = bb$tau2, rho = bb$rho,
  loglik_reml = as.numeric(logLik(bb)))
writeLines(toJSON(out, digits = I(17), auto_unbox = TRUE, pretty = TRUE), "metafor_reference.json")

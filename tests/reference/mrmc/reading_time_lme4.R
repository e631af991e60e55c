# Reference for the reading-time analysis: a simulated fully crossed reader study (seeded) and
# its linear mixed model on log reading time fitted by lme4 (REML), crossed random intercepts
# for reader and case, modality fixed. Run from this folder:  Rscript reading_time_lme4.R
# (writes reading_time_sim.csv and reading_time_lme4.json)
suppressMessages({library(lme4); library(jsonlite)})
set.seed(20261128)
readers <- paste0("R", 1:6); cases <- 1:60; mods <- c("unaided", "aided")
d <- expand.grid(case = cases, reader = readers, modality = mods, stringsAsFactors = FALSE)
u_r <- setNames(rnorm(length(readers), 0, 0.25), readers)
u_c <- setNames(rnorm(length(cases), 0, 0.35), cases)
d$truth <- as.integer(d$case %% 3 == 0)
d$log_time <- log(60) + ifelse(d$modality == "aided", -0.18, 0) + u_r[d$reader] +
  u_c[as.character(d$case)] + rnorm(nrow(d), 0, 0.3)
d$time_s <- round(exp(d$log_time), 3)
d$log_time <- NULL
write.csv(d[, c("reader", "modality", "case", "truth", "time_s")], "reading_time_sim.csv",
          row.names = FALSE)
d$modality <- factor(d$modality, levels = mods)
fit <- lmer(log(time_s) ~ modality + (1 | reader) + (1 | case), data = d, REML = TRUE)
co <- summary(fit)$coefficients
vc <- as.data.frame(VarCorr(fit))
out <- list(
  `_source` = paste("tests/reference/mrmc/reading_time_lme4.R; R", getRversion(), "lme4",
                    as.character(packageVersion("lme4"))),
  intercept = co[1, "Estimate"], log_ratio = co[2, "Estimate"], se_log_ratio = co[2, "Std. Error"],
  var_reader = vc$vcov[vc$grp == "reader"], var_case = vc$vcov[vc$grp == "case"],
  var_residual = vc$vcov[vc$grp == "Residual"], reml_loglik = as.numeric(logLik(fit)))
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "reading_time_lme4.json")

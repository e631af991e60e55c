# Reference values for validation.stats.subgroup_consistency (interaction tests).
# R 4.2, geepack 1.3.9.  Run from this folder:  Rscript geepack_reference.R
# Writes subgroup_cases.csv (the generated cases) and geepack_reference.json.
suppressPackageStartupMessages({library(geepack); library(jsonlite)})
set.seed(16)
n_pat <- 300
pat <- data.frame(patient = 1:n_pat,
                  level = sample(c("A", "B", "C"), n_pat, replace = TRUE, prob = c(0.45, 0.35, 0.2)),
                  u = rnorm(n_pat, sd = 0.8))
m <- sample(1:3, n_pat, replace = TRUE)           # findings per patient
d <- pat[rep(seq_len(n_pat), m), ]
d$truth <- rbinom(nrow(d), 1, 0.45)
eff <- c(A = 0, B = -0.5, C = 0.4)
lp <- ifelse(d$truth == 1, 1.5 + eff[d$level], -1.6 - 0.5 * eff[d$level]) + d$u
d$called <- rbinom(nrow(d), 1, plogis(lp))
d$score <- round(lp + rnorm(nrow(d)), 6)
d <- d[order(d$patient), c("patient", "level", "truth", "called", "score")]
write.csv(d, "subgroup_cases.csv", row.names = FALSE)

wald <- function(fit) {
  b <- coef(fit)[-1]; V <- summary(fit)$cov.scaled[-1, -1]   # robust (san.se)
  s <- as.numeric(t(b) %*% solve(V, b))
  list(statistic = s, df = length(b), p_value = pchisq(s, length(b), lower.tail = FALSE),
       coef = as.numeric(coef(fit)), alpha = if (is.null(fit$geese$alpha)) NA else as.numeric(fit$geese$alpha))
}
out <- list()
for (cs in c("exchangeable", "independence")) {
  pos <- d[d$truth == 1, ]; pos$y <- pos$called
  neg <- d[d$truth == 0, ]; neg$y <- 1 - neg$called    # a correct call among negatives
  fp <- geeglm(y ~ factor(level), id = patient, data = pos, family = binomial, corstr = cs)
  fn <- geeglm(y ~ factor(level), id = patient, data = neg, family = binomial, corstr = cs)
  out[[cs]] <- list(sensitivity = wald(fp), specificity = wald(fn))
}
writeLines(toJSON(out, digits = I(17), auto_unbox = TRUE, pretty = TRUE, na = "null"),
           "geepack_reference.json")

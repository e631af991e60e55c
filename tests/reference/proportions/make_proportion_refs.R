# Extra binomial-interval references for tests/stats/test_proportions.py (R 4.2 + epiR).
# Run from tests/reference/:  Rscript proportions/make_proportion_refs.R > proportions/proportion_extra.json
# exact: binom.test; wilson: prop.test(correct = FALSE); jeffreys: epiR::epi.conf(method =
# "jeffreys") (the unmodified equal-tailed Beta(x + 1/2, n - x + 1/2) interval) and qbeta;
# agresti-coull: epiR::epi.conf(method = "agresti") (not clipped to [0, 1]).
suppressMessages(library(epiR))
# Full-precision JSON writer (jsonlite stops at 15 significant digits).
tojson <- function(x, ind = "") {
  nx <- paste0(ind, "  ")
  if (is.list(x)) {
    items <- vapply(names(x), function(k) paste0(nx, "\"", k, "\": ", tojson(x[[k]], nx)), "")
    return(paste0("{\n", paste(items, collapse = ",\n"), "\n", ind, "}"))
  }
  v <- if (is.character(x)) paste0("\"", x, "\"") else sprintf("%.17g", as.numeric(x))
  if (length(x) == 1) v else paste0("[", paste(v, collapse = ", "), "]")
}
cases <- list(c(0, 20), c(20, 20), c(1, 3), c(92, 100), c(450, 500), c(7, 31), c(3, 4))
out <- list(R_version = R.version.string, epiR_version = as.character(packageVersion("epiR")))
for (cl in c(0.95, 0.90)) {
  for (xn in cases) {
    x <- xn[1]; n <- xn[2]
    key <- sprintf("x%d_n%d_conf%g", x, n, 100 * cl)
    ex <- binom.test(x, n, conf.level = cl)$conf.int
    wi <- prop.test(x, n, conf.level = cl, correct = FALSE)$conf.int
    je <- epi.conf(matrix(c(x, n), ncol = 2), ctype = "prevalence", method = "jeffreys", conf.level = cl)
    ac <- epi.conf(matrix(c(x, n), ncol = 2), ctype = "prevalence", method = "agresti", conf.level = cl)
    a <- 1 - cl
    out[[key]] <- list(x = x, n = n, conf_level = cl,
      exact = c(ex[1], ex[2]), wilson = c(wi[1], wi[2]),
      jeffreys_epiR = c(je$lower, je$upper),
      jeffreys_qbeta = c(qbeta(a / 2, x + 0.5, n - x + 0.5), qbeta(1 - a / 2, x + 0.5, n - x + 0.5)),
      agresti_coull_epiR = c(ac$lower, ac$upper))
  }
}
cat(tojson(out), "\n")

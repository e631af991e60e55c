# Reference values for validation.stats.mrmc.or_to_rm: the documented examples of MRMCaov's
# OR_to_RMH and RMH_to_OR (man/OR_to_RMH.Rd, man/RMH_to_OR.Rd; MRMCaov 0.3.0, source commit
# d79e49b of github.com/brian-j-smith/MRMCaov), run with the package's own R/convert.R.
#
# MRMCaov is not on this machine's package sources, so the script sources R/convert.R from a
# checkout of the package (the file is not copied here) and needs mvtnorm (Debian
# r-cran-mvtnorm 1.1-3, whose pmvnorm is exact in two dimensions):
#
#   Rscript mrmcaov_examples.R /path/to/MRMCaov/R/convert.R > mrmcaov_examples.json
#
# The documented examples print no values; these are the values the documented calls return.
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(mvtnorm))
source(args[1])

vandyke <- list(n0 = 69, n1 = 45, AUC1 = 0.897, AUC2 = 0.941, corr1 = 0.433, corr2 = 0.430,
                corr3 = 0.299, var_R = 0.00154, var_TR = 0.000208, var_error = 0.000788)
strip <- function(df) {
  out <- as.list(df)
  out[vapply(out, is.factor, TRUE)] <- lapply(out[vapply(out, is.factor, TRUE)], as.character)
  out
}
run_or <- function(name, inputs, ...) {
  rm <- do.call(OR_to_RMH.default, c(inputs, list(...)))
  back <- RMH_to_OR.default(n0 = rm$n0, n1 = rm$n1, b = rm$b, delta1 = rm$delta1,
                            delta2 = rm$delta2, var_R = rm$var_R, var_TR = rm$var_TR,
                            var_C = rm$var_C, var_TC = rm$var_TC, var_RC = rm$var_RC,
                            var_error = rm$var_error)
  list(name = name, call = deparse(sys.call()), inputs = c(inputs, list(...)),
       OR_to_RMH = strip(rm), RMH_to_OR_of_it = strip(back))
}
run_rm <- function(name, inputs) {
  list(name = name, inputs = inputs, RMH_to_OR = strip(do.call(RMH_to_OR.default, inputs)))
}
rm_line <- function(n0, n1, d, vr, vc, vtc, vrc, ve, b)
  list(n0 = n0, n1 = n1, delta1 = d, delta2 = d, var_R = vr, var_TR = vr, var_C = vc,
       var_TC = vtc, var_RC = vrc, var_error = ve, b = b)

or_cases <- list(
  run_or("example_1a_vandyke_unspecified", vandyke),
  run_or("example_1b_vandyke_specified_b1", vandyke[names(vandyke) != "var_error"],
         b_method = "specified", b_input = 1),
  run_or("example_1c_vandyke_mean_to_sigma_4.5", vandyke[names(vandyke) != "var_error"],
         b_method = "mean_to_sigma", mean_sig_input = 4.5),
  run_or("example_2b_vandyke", list(n0 = 69, n1 = 45, AUC1 = 0.89793704, AUC2 = 0.94083736,
         corr1 = 0.432, corr2 = 0.429, corr3 = 0.298, var_R = 0.00154, var_TR = 0.0002,
         var_error = 0.00080229)),
  run_or("example_2b_franken", list(n0 = 33, n1 = 67, AUC1 = .8477498869, AUC2 = 0.8368950701,
         corr1 = 0.521430051, corr2 = 0.319691199, corr3 = 0.3386375697, var_R = 0.0000433385,
         var_TR = 0.0, var_error = 0.0014967254)),
  run_or("example_2b_kundel", list(n0 = 66, n1 = 29, AUC1 = 0.8038793103, AUC2 = 0.8413662487,
         corr1 = 0.507695244, corr2 = 0.3843523762, corr3 = 0.4035662578,
         var_R = 0.0007340122, var_TR = 0, var_error = 0.002148844))
)
rm_cases <- list(
  run_rm("rm_example_1_roe_metz_table1_line1", rm_line(50, 50, 0.75, 0.0055, 0.3, 0.3, 0.2, 0.2, 1)),
  run_rm("rm_example_2b_roe_metz_line6", rm_line(25, 10, 0.75, 0.011, 0.1, 0.1, 0.2, 0.6, 1)),
  run_rm("rm_example_2b_roe_metz_line7", rm_line(25, 10, 1.50, 0.03, 0.1, 0.1, 0.2, 0.6, 1)),
  run_rm("rm_example_2b_roe_metz_line8", rm_line(25, 10, 2.5, 0.056, 0.1, 0.1, 0.2, 0.6, 1)),
  run_rm("rm_example_2c_hillis2012_line6", rm_line(25, 25, 0.821, 0.0132, 0.1, 0.1, 0.2, 0.6, 0.84566)),
  run_rm("rm_example_2c_hillis2012_line7", rm_line(25, 25, 1.831, 0.0447, 0.1, 0.1, 0.2, 0.6, 0.71082)),
  run_rm("rm_example_2c_hillis2012_line8", rm_line(25, 25, 3.661, 0.1201, 0.1, 0.1, 0.2, 0.6, 0.55140))
)
cat(jsonlite::toJSON(list(
  source = "MRMCaov 0.3.0 R/convert.R (commit d79e49b), mvtnorm 1.1-3, R 4.2",
  or_to_rmh = or_cases, rmh_to_or = rm_cases), digits = NA, auto_unbox = TRUE, pretty = TRUE))
cat("\n")

# Reference values for the U-statistic (Gallas) MRMC variance, from iMRMC.
#
# Usage: Rscript imrmc_reference.R <path to a checkout of github.com/DIDSR/iMRMC>
#
# iMRMC (CC0) is pure R: its R/ sources are sourced here (the package need not be installed).
# Three data sets are simulated exactly as iMRMC's own tests do (sim.gRoeMetz with the
# default configuration and the package's L'Ecuyer streams):
#   fully_crossed  - tests/testthat/test_doIMRMC_R2.R (stream 2): 2 modalities, 5 readers,
#                    40 + 40 cases, every reader reads every case;
#   arbitrary      - tests/testthat/test_doIMRMC_R3.R (stream 3): 100 random readings deleted,
#                    reader1 removed from testA and negCase1 from testB;
#   split_plot     - the fully_crossed data with readers 1-3 reading only cases 1-20 (negative
#                    and positive) and readers 4-5 only cases 21-40, in both modalities.
# For the first two, iMRMC's test suite also stores the output of the Java iMRMC 4.0.3 engine
# (test_doIMRMC_R2.rda, test_doIMRMC_R3.rda): those are written too.
# Writes <name>.csv (reader, case, modality, truth, score) and imrmc_reference.json.
library(parallel)
args <- commandArgs(trailingOnly = TRUE)
pkg <- file.path(args[1], "Rpackage", "iMRMC")
out <- dirname(normalizePath(sub("--file=", "", grep("--file=", commandArgs(), value = TRUE))))
for (f in list.files(file.path(pkg, "R"), full.names = TRUE)) if (!grepl("java", f)) source(f)

sim <- function(stream) {
  init.lecuyerRNG(stream = stream)
  d <- sim.gRoeMetz(sim.gRoeMetz.config())
  d$modalityID <- as.character(d$modalityID)
  d$readerID <- as.character(d$readerID)
  d$caseID <- as.character(d$caseID)
  d
}
full <- sim(2)
arb <- sim(3)
del <- sample(100:880, 100)
arb <- arb[-del, ]
arb <- arb[!(arb$modalityID == "testA" & arb$readerID == "reader1"), ]
arb <- arb[!(arb$modalityID == "testB" & arb$caseID == "negCase1"), ]
num <- as.integer(sub("^(neg|pos)Case", "", full$caseID))
grp1 <- full$readerID %in% c("reader1", "reader2", "reader3")
grp2 <- full$readerID %in% c("reader4", "reader5")
split <- full[full$readerID == "truth" | (grp1 & num <= 20) | (grp2 & num > 20), ]

export <- function(d, name) {
  truth <- d[d$readerID == "truth", c("caseID", "score")]
  names(truth) <- c("caseID", "truth")
  r <- merge(d[d$readerID != "truth", ], truth, by = "caseID")
  r <- r[order(r$modalityID, r$readerID, r$caseID), ]
  w <- data.frame(reader = r$readerID, case = r$caseID, modality = r$modalityID,
                  truth = r$truth, score = sprintf("%.17g", r$score))
  write.csv(w, file.path(out, paste0(name, ".csv")), row.names = FALSE, quote = FALSE)
}
keep <- c("modalityA", "modalityB", "AUCA", "varAUCA", "AUCB", "varAUCB", "AUCAminusAUCB",
          "varAUCAminusAUCB", "dfBDG", "pValueBDG", "botCIBDG", "topCIBDG")
res <- list()
for (nm in c("fully_crossed", "arbitrary", "split_plot")) {
  d <- list(fully_crossed = full, arbitrary = arb, split_plot = split)[[nm]]
  export(d, nm)
  u <- doIMRMC(d)$Ustat
  res[[nm]] <- list(r = u[, keep])
}
load(file.path(pkg, "tests", "testthat", "test_doIMRMC_R2.rda"))
load(file.path(pkg, "tests", "testthat", "test_doIMRMC_R3.rda"))
res$fully_crossed$java <- targetTest2$Ustat[, keep]
res$arbitrary$java <- targetTest3$Ustat[, keep]
writeLines(jsonlite::toJSON(res, digits = NA, pretty = TRUE, na = "null"),
           file.path(out, "imrmc_reference.json"))

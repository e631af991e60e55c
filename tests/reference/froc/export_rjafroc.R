# Reference values for the localization (FROC/wAFROC) tests, taken from RJafroc.
#
# Usage: Rscript export_rjafroc.R <path to a checkout of github.com/dpc10ster/RJafroc>
#
# Reads (base R only, RJafroc itself need not be installed):
#   data/dataset01.RData   - the "TONY" FROC dataset: 2 modalities (BT, DM), 5 readers,
#                            185 cases (96 non-diseased, 89 diseased, 1-2 lesions each)
#   tests/testthat/goodValues361/SigTest/OR/dataset01.rds  - St(dataset01, FOM = "wAFROC",
#                            method = "OR", analysisOption = "RRRC") as saved by RJafroc's tests
#   tests/testthat/goodValues361/SigTest/DBM/dataset01.rds - the same with method = "DBM"
#   tests/testthat/goodValues361/FOM/UtilFigureOfMeritFROC-{AFROC1,wAFROC1}.rds
# Writes, beside this script:
#   dataset01_marks.csv  case, reader, modality, lesion (empty for a non-lesion mark), rating
#   dataset01_truth.csv  case, lesion (empty for a non-diseased case), weight
#   rjafroc_dataset01.json  the saved RJafroc outputs, full precision
# and, for LROC, from data/datasetCadLroc.RData (10 readers, 120 non-diseased + 80 diseased
# cases, one lesion each) and goodValues361/FOM/UtilFigureOfMeritLROC-Wilcoxon.rds:
#   cadlroc.csv  reader, case, truth, nl (rating of a non-diseased case's mark, or of a
#                diseased case's mark off the lesion), ll (rating of the mark on the lesion)
#   rjafroc_cadlroc.json  RJafroc's LROC "Wilcoxon" figure of merit per reader
args <- commandArgs(trailingOnly = TRUE)
repo <- args[1]
out <- dirname(normalizePath(sub("--file=", "", grep("--file=", commandArgs(), value = TRUE))))
load(file.path(repo, "data", "dataset01.RData"))
ds <- dataset01
NL <- ds$ratings$NL; LL <- ds$ratings$LL
I <- dim(NL)[1]; J <- dim(NL)[2]; K <- dim(NL)[3]; K2 <- dim(LL)[3]; K1 <- K - K2
mods <- ds$descriptions$modalityID; rdrs <- ds$descriptions$readerID
caseid <- function(k) sprintf("c%03d", k)
rows <- list()
for (i in 1:I) for (j in 1:J) {
  for (k in 1:K) for (m in seq_len(dim(NL)[4])) {
    v <- NL[i, j, k, m]
    if (is.finite(v)) rows[[length(rows) + 1]] <- data.frame(case = caseid(k), reader = rdrs[j],
        modality = mods[i], lesion = "", rating = v)
  }
  for (k2 in 1:K2) for (l in seq_len(ds$lesions$perCase[k2])) {
    v <- LL[i, j, k2, l]
    if (is.finite(v)) rows[[length(rows) + 1]] <- data.frame(case = caseid(K1 + k2),
        reader = rdrs[j], modality = mods[i], lesion = as.character(ds$lesions$IDs[k2, l]),
        rating = v)
  }
}
marks <- do.call(rbind, rows)
write.csv(marks, file.path(out, "dataset01_marks.csv"), row.names = FALSE, quote = FALSE)
truth <- data.frame(case = caseid(1:K1), lesion = "", weight = "")
for (k2 in 1:K2) for (l in seq_len(ds$lesions$perCase[k2])) {
  truth <- rbind(truth, data.frame(case = caseid(K1 + k2), lesion = as.character(ds$lesions$IDs[k2, l]),
                                   weight = sprintf("%.17g", ds$lesions$weights[k2, l])))
}
write.csv(truth, file.path(out, "dataset01_truth.csv"), row.names = FALSE, quote = FALSE)

gv <- file.path(repo, "tests", "testthat", "goodValues361")
or <- readRDS(file.path(gv, "SigTest", "OR", "dataset01.rds"))
dbm <- readRDS(file.path(gv, "SigTest", "DBM", "dataset01.rds"))
afroc1 <- readRDS(file.path(gv, "FOM", "UtilFigureOfMeritFROC-AFROC1.rds"))
wafroc1 <- readRDS(file.path(gv, "FOM", "UtilFigureOfMeritFROC-wAFROC1.rds"))
res <- list(
  modalities = unname(mods), readers = unname(rdrs),
  wafroc_foms = unname(as.matrix(or$FOMs$foms)),
  afroc1_foms = unname(as.matrix(afroc1)), wafroc1_foms = unname(as.matrix(wafroc1)),
  or_rrrc = list(ftests = or$RRRC$FTests, ci_diff = or$RRRC$ciDiffTrt,
                 ci_each = or$RRRC$ciAvgRdrEachTrt, varcom = or$ANOVA$VarCom,
                 tr_anova = or$ANOVA$TRanova),
  dbm_rrrc = list(ftests = dbm$RRRC$FTests, ci_diff = dbm$RRRC$ciDiffTrt,
                  varcom = dbm$ANOVA$VarCom, trc_anova = dbm$ANOVA$TRCanova)
)
writeLines(jsonlite::toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE, rownames = TRUE,
                            dataframe = "columns"),
           file.path(out, "rjafroc_dataset01.json"))

load(file.path(repo, "data", "datasetCadLroc.RData"))
lr <- datasetCadLroc
nl <- lr$ratings$NL; cl <- lr$ratings$LL; il <- lr$ratings$LL_IL
K <- dim(nl)[3]; K2 <- dim(cl)[3]; K1 <- K - K2
rows <- list()
for (j in seq_len(dim(nl)[2])) {
  rows[[length(rows) + 1]] <- data.frame(reader = j, case = 1:K1, truth = 0,
                                         nl = sprintf("%.17g", nl[1, j, 1:K1, 1]), ll = "")
  rows[[length(rows) + 1]] <- data.frame(reader = j, case = K1 + (1:K2), truth = 1,
                                         nl = sprintf("%.17g", il[1, j, , 1]),
                                         ll = sprintf("%.17g", cl[1, j, , 1]))
}
write.csv(do.call(rbind, rows), file.path(out, "cadlroc.csv"), row.names = FALSE, quote = FALSE)
w <- readRDS(file.path(gv, "FOM", "UtilFigureOfMeritLROC-Wilcoxon.rds"))
writeLines(jsonlite::toJSON(list(wilcoxon = as.numeric(w)), digits = NA, pretty = TRUE),
           file.path(out, "rjafroc_cadlroc.json"))

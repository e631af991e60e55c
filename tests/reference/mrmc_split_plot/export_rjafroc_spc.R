# Reference values for the split-plot localization test, taken from RJafroc's saved test outputs.
#
# Usage: Rscript export_rjafroc_spc.R <path to a checkout of github.com/dpc10ster/RJafroc at
#        commit 133ef9ec^1 (before the split-plot code was removed; the .rds files below are
#        still in tests/testthat/goodValues361 at HEAD)>
#
# Reads (base R only, RJafroc itself need not be installed):
#   tests/testthat/goodValues361/DfReadDataFile/frocSpC.rds - RJafroc's toy FROC dataset of
#       design "SPLIT-PLOT-C" (2 modalities, 3 readers, each reader reading its own 8 cases:
#       3 non-diseased + 5 diseased; 24 cases, 15 diseased, 1-3 lesions each)
#   tests/testthat/goodValues361/SigTest/frocSpC-wAFROC.rds - St(frocSpC, FOM = "wAFROC",
#       method = "OR", analysisOption = "ALL") as saved by RJafroc's tests
# Writes, beside this script:
#   frocspc_marks.csv  case, reader, modality, lesion (empty: non-lesion mark), rating
#   frocspc_truth.csv  case, lesion (empty: non-diseased case), weight, reader_group
#   rjafroc_frocspc.json  the saved RJafroc outputs, full precision
args <- commandArgs(trailingOnly = TRUE)
repo <- args[1]
out <- dirname(normalizePath(sub("--file=", "", grep("--file=", commandArgs(), value = TRUE))))
gv <- file.path(repo, "tests", "testthat", "goodValues361")
ds <- readRDS(file.path(gv, "DfReadDataFile", "frocSpC.rds"))
st <- readRDS(file.path(gv, "SigTest", "frocSpC-wAFROC.rds"))
NL <- ds$ratings$NL; LL <- ds$ratings$LL
I <- dim(NL)[1]; J <- dim(NL)[2]; K <- dim(NL)[3]; K2 <- dim(LL)[3]; K1 <- K - K2
mods <- ds$descriptions$modalityID; rdrs <- ds$descriptions$readerID
tt <- ds$descriptions$truthTableStr            # [I, J, K, 1 + max lesions]: 1 = read
caseid <- function(k) sprintf("c%02d", k)
reader_of <- function(k) { j <- which(!is.na(tt[1, , k, if (k <= K1) 1 else 2])); rdrs[j] }
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
write.csv(do.call(rbind, rows), file.path(out, "frocspc_marks.csv"), row.names = FALSE)
truth <- list()
for (k in 1:K1) truth[[length(truth) + 1]] <- data.frame(case = caseid(k), lesion = "",
    weight = NA, reader_group = reader_of(k))
for (k2 in 1:K2) for (l in seq_len(ds$lesions$perCase[k2])) {
  truth[[length(truth) + 1]] <- data.frame(case = caseid(K1 + k2),
      lesion = as.character(ds$lesions$IDs[k2, l]), weight = ds$lesions$weights[k2, l],
      reader_group = reader_of(K1 + k2))
}
write.csv(do.call(rbind, truth), file.path(out, "frocspc_truth.csv"), row.names = FALSE,
          na = "")
num <- function(x) formatC(x, digits = 17, format = "g")
vec <- function(x) paste0("[", paste(num(x), collapse = ", "), "]")
foms <- as.matrix(st$FOMs$foms)
r <- st$RRRC
json <- c(
  "{",
  '  "source": "RJafroc tests/testthat/goodValues361/SigTest/frocSpC-wAFROC.rds: St(frocSpC, FOM = \\"wAFROC\\", method = \\"OR\\", analysisOption = \\"ALL\\") on the SPLIT-PLOT-C toy dataset; exported by export_rjafroc_spc.R",',
  sprintf('  "modalities": ["%s", "%s"],', mods[1], mods[2]),
  sprintf('  "readers": [%s],', paste0('"', rdrs, '"', collapse = ", ")),
  sprintf('  "wafroc_foms": [%s, %s],', vec(foms[1, ]), vec(foms[2, ])),
  sprintf('  "difference_first_minus_second": %s,', num(st$FOMs$trtMeanDiffs$Estimate)),
  sprintf('  "ms_t": %s, "ms_r": %s, "ms_tr": %s,', num(st$ANOVA$TRanova$MS[1]),
          num(st$ANOVA$TRanova$MS[2]), num(st$ANOVA$TRanova$MS[3])),
  sprintf('  "rrrc": {"f": %s, "df_num": %s, "df_den": %s, "p_value": %s, "se": %s, "ci": %s},',
          num(r$FTests$FStat[1]), num(r$FTests$DF[1]), num(r$ciDiffTrt$DF), num(r$FTests$p[1]),
          num(r$ciDiffTrt$StdErr), vec(c(r$ciDiffTrt$CILower, r$ciDiffTrt$CIUpper))),
  sprintf('  "single_rrrc": {"estimate": %s, "se": %s, "df": %s, "ci_lower": %s, "ci_upper": %s}',
          vec(r$ciAvgRdrEachTrt$Estimate), vec(r$ciAvgRdrEachTrt$StdErr),
          vec(r$ciAvgRdrEachTrt$DF), vec(r$ciAvgRdrEachTrt$CILower),
          vec(r$ciAvgRdrEachTrt$CIUpper)),
  "}")
writeLines(json, file.path(out, "rjafroc_frocspc.json"))

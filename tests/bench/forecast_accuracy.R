# Forecast accuracy of shelfline-forecast against R's forecast package on
# real public series shipped with R and its Debian packages (r-base's
# datasets, r-cran-forecast, r-cran-tseries, r-cran-urca, r-cran-ggplot2,
# r-cran-dslabs), as in the M competitions: each series is split into a
# training part and a holdout of h points (monthly 18, quarterly 8, daily
# 14); every method forecasts the holdout from the same training part and
# is scored by MASE (scaled by the in-sample seasonal naive error) and sMAPE.
#
# usage: Rscript forecast_accuracy.R SHELFLINE_FORECAST_BINARY WORK_DIR
#
# Prints one line per series, then the means per group and overall, then
# machine-readable lines "acc <group> <method> <mean MASE> <mean sMAPE>".
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2) stop("usage: forecast_accuracy.R BINARY WORK_DIR")
bin <- args[1]
work <- args[2]
dir.create(work, showWarnings = FALSE, recursive = TRUE)
script_dir <- dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1]))
source(file.path(script_dir, "forecast_series.R"))

mase <- function(train, test, f, m) {
  lag <- if (length(train) > m) m else 1
  scale <- mean(abs(diff(train, lag = lag)))
  mean(abs(test - f)) / scale
}
smape <- function(test, f) {
  den <- abs(test) + abs(f)
  mean(ifelse(den > 0, 200 * abs(test - f) / den, 0))
}

ours <- function(s, train, method) {
  r <- run_shelfline(bin, work, s, train, method)
  fc <- r$fc
  info <- r$info
  model <- sub('^.*model="([^"]*)".*$', "\\1", info[1])
  list(f = fc$point, model = model, lo80 = fc$lo80, hi80 = fc$hi80, lo95 = fc$lo95, hi95 = fc$hi95)
}
# Share (percent) of the holdout inside an interval.
covered <- function(test, lo, hi) 100 * mean(test >= lo & test <= hi)

methods <- c("ours.auto", "ours.ets", "ours.theta", "ours.arima", "ours.med3", "ours.mean3", "R.ets", "R.arima",
             "R.thetaf", "R.snaive")
# interval coverage of the holdout (80% and 95%): ours (auto) and R's ets
cov_methods <- c("ours.auto", "R.ets")
rows <- list()
cat(sprintf("%-22s %-9s %4s %3s  %s\n", "series", "group", "n", "h",
            paste(sprintf("%-10s", methods), collapse = " ")))
for (s in series) {
  n <- length(s$x)
  train <- s$x[1:(n - s$h)]
  test <- s$x[(n - s$h + 1):n]
  y <- ts(train, frequency = s$m)
  fcs <- list()
  a <- ours(s, train, "auto")
  fcs$ours.auto <- a$f
  fcs$ours.ets <- ours(s, train, "ets")$f
  fcs$ours.theta <- ours(s, train, "theta")$f
  fcs$ours.arima <- ours(s, train, "arima")$f
  # for comparison with the auto method's weighted mean: the plain median
  # of our three members, step by step
  fcs$ours.med3 <- apply(cbind(fcs$ours.ets, fcs$ours.theta, fcs$ours.arima), 1, median)
  fcs$ours.mean3 <- (fcs$ours.ets + fcs$ours.theta + fcs$ours.arima) / 3
  r_ets <- ets(y)
  r_ets_fc <- forecast(r_ets, h = s$h, level = c(80, 95))
  fcs$R.ets <- as.numeric(r_ets_fc$mean)
  fcs$R.arima <- as.numeric(forecast(auto.arima(y), h = s$h)$mean)
  fcs$R.thetaf <- as.numeric(thetaf(y, h = s$h)$mean)
  fcs$R.snaive <- as.numeric(snaive(y, h = s$h)$mean)
  cov <- list(ours.auto = c(covered(test, a$lo80, a$hi80), covered(test, a$lo95, a$hi95)),
              R.ets = c(covered(test, r_ets_fc$lower[, 1], r_ets_fc$upper[, 1]),
                        covered(test, r_ets_fc$lower[, 2], r_ets_fc$upper[, 2])))
  res <- data.frame(series = s$name, group = s$group, method = methods,
                    mase = sapply(methods, function(k) mase(train, test, fcs[[k]], s$m)),
                    smape = sapply(methods, function(k) smape(test, fcs[[k]])),
                    cov80 = sapply(methods, function(k) if (k %in% cov_methods) cov[[k]][1] else NA),
                    cov95 = sapply(methods, function(k) if (k %in% cov_methods) cov[[k]][2] else NA))
  rows[[length(rows) + 1]] <- res
  cat(sprintf("%-22s %-9s %4d %3d  %s   ours: %s, R: %s\n", s$name, s$group, n, s$h,
              paste(sprintf("%-10.3f", res$mase), collapse = " "), a$model, r_ets$method))
}
all <- do.call(rbind, rows)
cat("\n(columns above: MASE per method)\n\nmeans per group (MASE / sMAPE %):\n")
groups <- c(unique(all$group), "all")
cat(sprintf("%-10s %-4s %s\n", "group", "n", paste(sprintf("%-17s", methods), collapse = " ")))
for (g in groups) {
  sel <- if (g == "all") all else all[all$group == g, ]
  cells <- sapply(methods, function(k) {
    x <- sel[sel$method == k, ]
    sprintf("%6.3f / %6.2f", mean(x$mase), mean(x$smape))
  })
  cat(sprintf("%-10s %-4d %s\n", g, nrow(sel) / length(methods),
              paste(sprintf("%-17s", cells), collapse = " ")))
}
cat("\n")
for (g in groups) {
  sel <- if (g == "all") all else all[all$group == g, ]
  for (k in methods) {
    x <- sel[sel$method == k, ]
    cat(sprintf("acc %s %s %.4f %.3f %.1f %.1f\n", g, k, mean(x$mase), mean(x$smape),
                mean(x$cov80), mean(x$cov95)))
  }
}

# Synthetic daily demand for the speed benchmark, and R's side of it.
#
#   Rscript forecast_speed.R gen WORK N
#       writes N seeded synthetic SKU x region series of 730 days: the first
#       702 days (about two years) to WORK/train_<n>.csv as "id,value" for
#       n = 1000 and n = N, and the last 28 days to WORK/actual.csv
#   Rscript forecast_speed.R r WORK SAMPLE CORES OURS_CSV [ARIMA_SAMPLE]
#       runs forecast(ets(y), h = 28, level = c(80, 95)) on the first SAMPLE
#       series in CORES processes, prints its timing, and scores its and
#       our forecasts (OURS_CSV, shelfline-forecast --batch output) on the
#       held-out 28 days of those series: MASE, sMAPE and the coverage of
#       the 80% and 95% intervals; then the same for auto.arima on the
#       first ARIMA_SAMPLE series [100] (it takes seconds per series)
#   Rscript forecast_speed.R oracle N
#       the holdout MASE of the first N series' true mean (the forecast
#       no method can beat on average in squared error): the floor the
#       synthetic set's accuracy goals are measured against
#
# The series mix what a retail catalogue holds: 85% regular sellers
# (level from 2 to 300 units a day, trend, a weekly profile, a yearly swing,
# negative binomial noise) and 15% slow movers (a demand every 2 to 20 days).
args <- commandArgs(trailingOnly = TRUE)
mode <- args[1]
work <- args[2]
n_days <- 730
h <- 28

gen <- function(n) {
  set.seed(20240601)
  out <- vector("list", n)
  for (i in seq_len(n)) {
    t <- 0:(n_days - 1)
    if (runif(1) < 0.15) {
      rate <- runif(1, 0.05, 0.5)
      b <- rbinom(n_days, 1, rate)
      lam <- runif(1, 0, 3)
      y <- b * (1 + rpois(n_days, lam))
      mu <- rep(rate * (1 + lam), n_days)
    } else {
      level <- exp(runif(1, log(2), log(300)))
      growth <- runif(1, -0.3, 0.5) / n_days
      w <- c(0.85, 0.9, 0.95, 1.0, 1.1, 1.35, 1.15) * runif(7, 0.85, 1.15)
      w <- w / mean(w)
      w <- w[(seq_len(7) + sample(0:6, 1) - 1) %% 7 + 1]
      amp <- runif(1, 0, 0.35)
      peak <- runif(1, 0, 365)
      mu <- level * (1 + growth * t) * w[t %% 7 + 1] * (1 + amp * cos(2 * pi * (t - peak) / 365.25))
      y <- rnbinom(n_days, mu = pmax(mu, 0.01), size = runif(1, 3, 30))
    }
    attr(y, "mu") <- mu
    out[[i]] <- y
  }
  out
}

if (mode == "gen") {
  n <- as.integer(args[3])
  s <- gen(n)
  write_train <- function(k) {
    ids <- rep(sprintf("s%05d", seq_len(k)), each = n_days - h)
    vals <- unlist(lapply(s[seq_len(k)], function(y) y[1:(n_days - h)]))
    write.table(data.frame(ids, vals), file.path(work, sprintf("train_%d.csv", k)),
                sep = ",", row.names = FALSE, col.names = FALSE, quote = FALSE)
  }
  write_train(min(1000, n))
  if (n > 1000) write_train(n)
  act <- data.frame(id = rep(sprintf("s%05d", seq_len(n)), each = h), step = rep(1:h, n),
                    actual = unlist(lapply(s, function(y) y[(n_days - h + 1):n_days])))
  write.csv(act, file.path(work, "actual.csv"), row.names = FALSE)
  quit(status = 0)
}

if (mode == "oracle") {
  n <- as.integer(work)
  s <- gen(n)
  sc <- sapply(s, function(y) {
    tr <- y[1:(n_days - h)]
    te <- y[(n_days - h + 1):n_days]
    mean(abs(te - attr(y, "mu")[(n_days - h + 1):n_days])) / mean(abs(diff(tr, lag = 7)))
  })
  cat(sprintf("oracle (the true mean) holdout MASE on the first %d series: %.4f\n", n, mean(sc)))
  cat(sprintf("synth_oracle_mase=%.4f\n", mean(sc)))
  quit(status = 0)
}
stopifnot(mode == "r")
sample_n <- as.integer(args[3])
cores <- as.integer(args[4])
ours_csv <- args[5]
arima_n <- if (length(args) >= 6) as.integer(args[6]) else 100L
suppressMessages({
  library(forecast)
  library(parallel)
})
train <- read.csv(file.path(work, sprintf("train_%d.csv", if (sample_n <= 1000) 1000 else sample_n)),
                  header = FALSE, col.names = c("id", "value"))
ids <- unique(train$id)[seq_len(sample_n)]
one <- function(id) {
  y <- ts(train$value[train$id == id], frequency = 7)
  t0 <- proc.time()[["elapsed"]]
  fc <- forecast(ets(y), h = h, level = c(80, 95))
  list(secs = proc.time()[["elapsed"]] - t0, mean = as.numeric(fc$mean),
       lo80 = as.numeric(fc$lower[, 1]), hi80 = as.numeric(fc$upper[, 1]),
       lo95 = as.numeric(fc$lower[, 2]), hi95 = as.numeric(fc$upper[, 2]))
}
t0 <- proc.time()[["elapsed"]]
res <- mclapply(ids, one, mc.cores = cores, mc.preschedule = FALSE)
wall <- proc.time()[["elapsed"]] - t0
per <- mean(sapply(res, function(r) r$secs))
cat(sprintf("R forecast::ets: %d series in %.1f s wall on %d processes; %.1f ms per series on one core\n",
            sample_n, wall, cores, 1000 * per))
cat(sprintf("r_ets_series=%d r_ets_wall_s=%.3f r_ets_ms_per_series=%.3f\n", sample_n, wall, 1000 * per))

# Accuracy on the held-out 28 days of the same series.
act <- read.csv(file.path(work, "actual.csv"))
ours <- read.csv(ours_csv)
mase <- function(train, test, f) mean(abs(test - f)) / mean(abs(diff(train, lag = 7)))
smape <- function(test, f) {
  den <- abs(test) + abs(f)
  mean(ifelse(den > 0, 200 * abs(test - f) / den, 0))
}
covered <- function(te, lo, hi) 100 * mean(te >= lo & te <= hi)
score <- matrix(NA, length(ids), 8)
for (i in seq_along(ids)) {
  id <- ids[i]
  tr <- train$value[train$id == id]
  te <- act$actual[act$id == id]
  o <- ours[ours$id == id, ]
  r <- res[[i]]
  score[i, ] <- c(mase(tr, te, o$point), smape(te, o$point), covered(te, o$lo80, o$hi80),
                  covered(te, o$lo95, o$hi95), mase(tr, te, r$mean), smape(te, r$mean),
                  covered(te, r$lo80, r$hi80), covered(te, r$lo95, r$hi95))
}
ok <- is.finite(rowSums(score))
m <- colMeans(score[ok, , drop = FALSE])
cat(sprintf("holdout (28 days) of those %d series: shelfline MASE %.4f sMAPE %.2f; R ets MASE %.4f sMAPE %.2f\n",
            sum(ok), m[1], m[2], m[5], m[6]))
cat(sprintf("  interval coverage (80%% / 95%%): shelfline %.1f / %.1f; R ets %.1f / %.1f\n",
            m[3], m[4], m[7], m[8]))
cat(sprintf("synth_ours_mase=%.4f synth_ours_smape=%.3f synth_r_mase=%.4f synth_r_smape=%.3f synth_ours_cov80=%.1f synth_ours_cov95=%.1f synth_r_cov80=%.1f synth_r_cov95=%.1f\n",
            m[1], m[2], m[5], m[6], m[3], m[4], m[7], m[8]))

# auto.arima on the first arima_n series (same holdout), against ets and
# ours on the same series.
if (arima_n > 0) {
  aids <- ids[seq_len(min(arima_n, length(ids)))]
  one_arima <- function(id) {
    y <- ts(train$value[train$id == id], frequency = 7)
    t0 <- proc.time()[["elapsed"]]
    fc <- forecast(auto.arima(y), h = h)
    list(secs = proc.time()[["elapsed"]] - t0, mean = as.numeric(fc$mean))
  }
  t0 <- proc.time()[["elapsed"]]
  ra <- mclapply(aids, one_arima, mc.cores = cores, mc.preschedule = FALSE)
  wall_a <- proc.time()[["elapsed"]] - t0
  sa <- matrix(NA, length(aids), 3)
  for (i in seq_along(aids)) {
    id <- aids[i]
    tr <- train$value[train$id == id]
    te <- act$actual[act$id == id]
    sa[i, ] <- c(mase(tr, te, ours$point[ours$id == id]), mase(tr, te, res[[i]]$mean),
                 mase(tr, te, ra[[i]]$mean))
  }
  oka <- is.finite(rowSums(sa))
  ma <- colMeans(sa[oka, , drop = FALSE])
  cat(sprintf("R forecast::auto.arima: %d series in %.1f s wall; %.1f ms per series on one core\n",
              length(aids), wall_a, 1000 * mean(sapply(ra, function(r) r$secs))))
  cat(sprintf("holdout MASE on the first %d series: shelfline %.4f, R ets %.4f, R auto.arima %.4f\n",
              sum(oka), ma[1], ma[2], ma[3]))
  cat(sprintf("synth_arima_n=%d synth_sub_ours_mase=%.4f synth_sub_ets_mase=%.4f synth_sub_arima_mase=%.4f\n",
              sum(oka), ma[1], ma[2], ma[3]))
}

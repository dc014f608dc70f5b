# Combination rules measured on the forecasting bench's real series, split
# in two halves (every other series of each group), so that a rule chosen
# on one half is confirmed on the other (issue 18, docs/BENCHMARKS.md run
# 5).  Runs our single methods once per series and R's ets and auto.arima
# (cached in CACHE_DIR/r.rds: R's results do not change between runs of
# ours), then scores combinations of our members computed here from their
# forecasts, against R on the same splits.
#
# usage: Rscript forecast_rules.R SHELFLINE_FORECAST_BINARY WORK_DIR CACHE_DIR
#
# Prints per rule and group the mean MASE on half A, half B and both, the
# ratio to R's ets and to the better of ets and auto.arima, and the 80%/95%
# coverage where the rule has intervals.
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 3) stop("usage: forecast_rules.R BINARY WORK_DIR CACHE_DIR")
bin <- args[1]
work <- args[2]
cache <- args[3]
dir.create(work, showWarnings = FALSE, recursive = TRUE)
dir.create(cache, showWarnings = FALSE, recursive = TRUE)
script_dir <- dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1]))
source(file.path(script_dir, "forecast_series.R"))

mase <- function(train, test, f, m) {
  lag <- if (length(train) > m) m else 1
  mean(abs(test - f)) / mean(abs(diff(train, lag = lag)))
}
covered <- function(test, lo, hi) 100 * mean(test >= lo & test <= hi)

ours <- function(s, train, method) {
  r <- run_shelfline(bin, work, s, train, method)
  fc <- r$fc
  list(f = fc$point, lo80 = fc$lo80, hi80 = fc$hi80, lo95 = fc$lo95, hi95 = fc$hi95, info = r$info[1])
}

# R's forecasts, computed once.
r_file <- file.path(cache, "r.rds")
if (file.exists(r_file)) {
  rr <- readRDS(r_file)
} else {
  rr <- lapply(series, function(s) {
    n <- length(s$x)
    y <- ts(s$x[1:(n - s$h)], frequency = s$m)
    e <- forecast(ets(y), h = s$h, level = c(80, 95))
    a <- forecast(auto.arima(y), h = s$h, level = c(80, 95))
    list(ets = as.numeric(e$mean), ets_lo80 = e$lower[, 1], ets_hi80 = e$upper[, 1],
         ets_lo95 = e$lower[, 2], ets_hi95 = e$upper[, 2], arima = as.numeric(a$mean))
  })
  names(rr) <- sapply(series, function(s) s$name)
  saveRDS(rr, r_file)
}

# FC_RULES_PROTO: an R file defining ces_forecast(x, m, h), a prototype
# member scored with the others before writing it in C.
if (nzchar(Sys.getenv("FC_RULES_PROTO"))) source(Sys.getenv("FC_RULES_PROTO"))
members <- c("auto", "combo", "ets", "arima", "theta", "damped")
rows <- list()
for (i in seq_along(series)) {
  s <- series[[i]]
  n <- length(s$x)
  train <- s$x[1:(n - s$h)]
  test <- s$x[(n - s$h + 1):n]
  o <- lapply(members, function(k) ours(s, train, k))
  names(o) <- members
  if (exists("ces_forecast")) o$ces <- list(f = ces_forecast(train, s$m, s$h))
  rows[[i]] <- list(s = s, train = train, test = test, o = o, r = rr[[s$name]])
}
saveRDS(rows, file.path(work, "ours.rds"))

# Position within its group: odd ones are half A, even ones half B.
grp <- sapply(rows, function(x) x$s$group)
pos <- ave(seq_along(grp), grp, FUN = seq_along)
half <- ifelse(pos %% 2 == 1, "A", "B")

pts <- function(x, k) x$o[[k]]$f
med <- function(...) apply(cbind(...), 1, median)
rules <- list(
  auto = function(x) pts(x, "auto"),
  ets = function(x) pts(x, "ets"),
  median3 = function(x) pts(x, "combo"),
  mean3 = function(x) (pts(x, "ets") + pts(x, "arima") + pts(x, "theta")) / 3,
  mean_ets_arima = function(x) (pts(x, "ets") + pts(x, "arima")) / 2,
  median4_damped = function(x) med(pts(x, "ets"), pts(x, "arima"), pts(x, "theta"), pts(x, "damped")),
  mean4_damped = function(x) (pts(x, "ets") + pts(x, "arima") + pts(x, "theta") + pts(x, "damped")) / 4,
  mean_ets_arima_damped = function(x) (pts(x, "ets") + pts(x, "arima") + pts(x, "damped")) / 3,
  median_ets_arima_damped = function(x) med(pts(x, "ets"), pts(x, "arima"), pts(x, "damped")),
  R.ets = function(x) x$r$ets,
  R.arima = function(x) x$r$arima
)
if (!is.null(rows[[1]]$o$ces)) {
  rules$ces <- function(x) pts(x, "ces")
  rules$median4_ces <- function(x) med(pts(x, "ets"), pts(x, "arima"), pts(x, "theta"), pts(x, "ces"))
  rules$mean4_ces <- function(x) (pts(x, "ets") + pts(x, "arima") + pts(x, "theta") + pts(x, "ces")) / 4
  rules$median_ets_arima_ces <- function(x) med(pts(x, "ets"), pts(x, "arima"), pts(x, "ces"))
  rules$mean_ets_arima_ces <- function(x) (pts(x, "ets") + pts(x, "arima") + pts(x, "ces")) / 3
  rules$median5 <- function(x) med(pts(x, "ets"), pts(x, "arima"), pts(x, "theta"), pts(x, "ces"),
                                   pts(x, "damped"))
}
res <- do.call(rbind, lapply(seq_along(rows), function(i) {
  x <- rows[[i]]
  data.frame(series = x$s$name, group = x$s$group, half = half[i], rule = names(rules),
             mase = sapply(rules, function(f) mase(x$train, x$test, f(x), x$s$m)))
}))
write.csv(res, file.path(work, "rules.csv"), row.names = FALSE)
cat(sprintf("%-24s %-10s %7s %7s %7s  %6s %6s\n", "rule", "group", "A", "B", "all", "/ets", "/best"))
for (g in c("monthly", "quarterly", "daily", "all")) {
  sel <- if (g == "all") res else res[res$group == g, ]
  mm <- function(k, h) {
    z <- sel[sel$rule == k & (h == "all" | sel$half == h), ]
    mean(z$mase)
  }
  best <- min(mm("R.ets", "all"), mm("R.arima", "all"))
  for (k in names(rules))
    cat(sprintf("%-24s %-10s %7.3f %7.3f %7.3f  %6.3f %6.3f\n", k, g, mm(k, "A"), mm(k, "B"),
                mm(k, "all"), mm(k, "all") / mm("R.ets", "all"), mm(k, "all") / best))
  cat("\n")
}
cov <- do.call(rbind, lapply(seq_along(rows), function(i) {
  x <- rows[[i]]
  a <- x$o$auto
  data.frame(group = x$s$group, half = half[i],
             ours80 = covered(x$test, a$lo80, a$hi80), ours95 = covered(x$test, a$lo95, a$hi95),
             ets80 = covered(x$test, x$r$ets_lo80, x$r$ets_hi80),
             ets95 = covered(x$test, x$r$ets_lo95, x$r$ets_hi95))
}))
cat("coverage (auto; R ets), 80 / 95:\n")
for (g in c("monthly", "quarterly", "daily")) {
  z <- cov[cov$group == g, ]
  cat(sprintf("%-10s ours %5.1f / %5.1f   R ets %5.1f / %5.1f\n", g, mean(z$ours80), mean(z$ours95),
              mean(z$ets80), mean(z$ets95)))
}

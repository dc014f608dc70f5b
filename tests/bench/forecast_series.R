# The series of the forecasting benchmark, shared by forecast_accuracy.R
# and arima_reference.R: real public series that ship with R and its Debian
# packages (r-base's datasets, r-cran-forecast, r-cran-tseries, r-cran-urca,
# r-cran-ggplot2, r-cran-dslabs), each with its period m, its holdout h and
# its group.  Defines `series`, a list of list(name, x, m, h, group), and
# run_shelfline, which runs our engine on one of them.
suppressMessages({
  library(forecast)
  library(tseries)
  library(urca)
  library(TTR)
})

# Runs BIN (shelfline-forecast) on the training part train of series s
# with METHOD, in WORK: its forecast (a data frame: point, lo80, hi80,
# lo95, hi95) and its --info lines.  Daily series also get the yearly
# profile (--long-period 365.25), which forecast::ets cannot take.
run_shelfline <- function(bin, work, s, train, method) {
  inp <- file.path(work, "train.txt")
  out <- file.path(work, "out.csv")
  err <- file.path(work, "info.txt")
  writeLines(format(train, digits = 15), inp)
  a <- c("--period", s$m, "--horizon", s$h, "--method", method, "--info")
  if (s$group == "daily") a <- c(a, "--long-period", "365.25")
  rc <- system2(bin, a, stdin = inp, stdout = out, stderr = err)
  if (rc != 0) stop(paste("shelfline-forecast failed on", s$name, ":", readLines(err)))
  list(fc = read.csv(out), info = readLines(err))
}

series <- list()
add <- function(name, x, m, h, group) {
  x <- as.numeric(x)
  stopifnot(!anyNA(x))
  series[[length(series) + 1]] <<- list(name = name, x = x, m = m, h = h, group = group)
}

# Monthly, h = 18.
add("AirPassengers", AirPassengers, 12, 18, "monthly")
add("nottem", nottem, 12, 18, "monthly")
add("co2", co2, 12, 18, "monthly")
add("USAccDeaths", USAccDeaths, 12, 18, "monthly")
add("ldeaths", ldeaths, 12, 18, "monthly")
add("mdeaths", mdeaths, 12, 18, "monthly")
add("fdeaths", fdeaths, 12, 18, "monthly")
add("UKDriverDeaths", UKDriverDeaths, 12, 18, "monthly")
add("Seatbelts.front", Seatbelts[, "front"], 12, 18, "monthly")
add("Seatbelts.rear", Seatbelts[, "rear"], 12, 18, "monthly")
add("wineind", forecast::wineind, 12, 18, "monthly")
add("gas", forecast::gas, 12, 18, "monthly")
data(nino, package = "tseries", envir = environment())
add("nino3", nino3, 12, 18, "monthly")
add("economics.psavert", ggplot2::economics$psavert, 12, 18, "monthly")
add("economics.unemploy", ggplot2::economics$unemploy, 12, 18, "monthly")

# Quarterly, h = 8.
add("UKgas", UKgas, 4, 8, "quarterly")
add("JohnsonJohnson", JohnsonJohnson, 4, 8, "quarterly")
add("austres", austres, 4, 8, "quarterly")
add("woolyrnq", forecast::woolyrnq, 4, 8, "quarterly")
add("freeny.y", freeny.y, 4, 8, "quarterly")
data(USeconomic, package = "tseries", envir = environment())
add("USeconomic.GNP", exp(USeconomic[, "log(GNP)"]), 4, 8, "quarterly")
add("USeconomic.M1", exp(USeconomic[, "log(M1)"]), 4, 8, "quarterly")
data(UKconinc, package = "urca", envir = environment())
add("UKconinc.consumption", exp(UKconinc$conl), 4, 8, "quarterly")
# Added with the ARIMA work (issue 18): more quarterly macro series from
# urca's data sets (logs taken back to levels) and tseries'.
data(denmark, package = "urca", envir = environment())
add("denmark.money", exp(denmark$LRM), 4, 8, "quarterly")
add("denmark.income", exp(denmark$LRY), 4, 8, "quarterly")
data(finland, package = "urca", envir = environment())
add("finland.money", exp(finland$lrm1), 4, 8, "quarterly")
add("finland.income", exp(finland$lny), 4, 8, "quarterly")
data(Raotbl3, package = "urca", envir = environment())
add("Raotbl3.consumption", exp(Raotbl3$lc), 4, 8, "quarterly")
add("Raotbl3.income", exp(Raotbl3$li), 4, 8, "quarterly")
add("Raotbl3.wealth", exp(Raotbl3$lw), 4, 8, "quarterly")
data(UKpppuip, package = "urca", envir = environment())
add("UKpppuip.prices", exp(UKpppuip$p1), 4, 8, "quarterly")
add("USeconomic.rs", USeconomic[, "rs"], 4, 8, "quarterly")
add("USeconomic.rl", USeconomic[, "rl"], 4, 8, "quarterly")

# Daily, h = 14, weekly period 7 (our engine also gets the yearly cycle,
# --long-period 365.25, which forecast::ets cannot take).
add("taylor.daily", colSums(matrix(forecast::taylor, nrow = 48)), 7, 14, "daily")
data(ice.river, package = "tseries", envir = environment())
for (v in colnames(ice.river)) add(paste0("ice.river.", v), ice.river[, v], 7, 14, "daily")
if (requireNamespace("dslabs", quietly = TRUE)) {
  d <- as.Date(dslabs::trump_tweets$created_at)
  days <- seq(min(d), max(d), by = "day")
  counts <- as.numeric(table(factor(as.character(d), levels = as.character(days))))
  add("tweets.first2y", head(counts, 730), 7, 14, "daily")
  add("tweets.last2y", tail(counts, 730), 7, 14, "daily")
}
# Added with the ARIMA work (issue 18): business-day series, period 5 (a
# trading week): the last 730 days of TTR's sample stock's volume and
# close, and the four indices of EuStockMarkets.
data(ttrc, package = "TTR", envir = environment())
add("ttrc.volume", tail(ttrc$Volume, 730), 5, 14, "daily")
add("ttrc.close", tail(ttrc$Close, 730), 5, 14, "daily")
for (v in colnames(EuStockMarkets)) {
  add(paste0("EuStockMarkets.", v), tail(as.numeric(EuStockMarkets[, v]), 730), 5, 14, "daily")
}

# Added with the combination's selection (issue 18), after the rule was
# chosen, so they check it on series it never saw: quarterly series from
# AER (r-cran-aer), among them three seasonal ones, and business-day and
# daily series from AER, timeSeries (r-cran-timeseries) and dslabs.
# AER's ArgentinaCPI was tried and left out: its holdout is the 1989
# hyperinflation, where every method scores a MASE above 1,000, which
# would make the group's mean that one series.
if (requireNamespace("AER", quietly = TRUE)) {
  e <- new.env()
  data(list = c("GermanUnemployment", "UKNonDurables", "USProdIndex", "OrangeCounty", "USMacroG",
                "USMoney", "UKInflation", "NYSESW"), package = "AER", envir = e)
  add("GermanUnemployment", e$GermanUnemployment[, "unadjusted"], 4, 8, "quarterly")
  add("UKNonDurables", e$UKNonDurables, 4, 8, "quarterly")
  add("USProdIndex", e$USProdIndex[, "unadjusted"], 4, 8, "quarterly")
  add("OrangeCounty.employment", e$OrangeCounty[, "employment"], 4, 8, "quarterly")
  add("USMacroG.gdp", e$USMacroG[, "gdp"], 4, 8, "quarterly")
  add("USMacroG.cpi", e$USMacroG[, "cpi"], 4, 8, "quarterly")
  add("USMacroG.unemp", e$USMacroG[, "unemp"], 4, 8, "quarterly")
  add("USMoney.m1", e$USMoney[, "m1"], 4, 8, "quarterly")
  add("UKInflation.actual", e$UKInflation[, "actual"], 4, 8, "quarterly")
  add("NYSESW", tail(as.numeric(e$NYSESW), 730), 5, 14, "daily")
}
if (requireNamespace("timeSeries", quietly = TRUE)) {
  e <- new.env()
  data(list = c("MSFT", "USDCHF"), package = "timeSeries", envir = e)
  add("MSFT.volume", as.numeric(e$MSFT[, "Volume"]), 5, 14, "daily")
  add("MSFT.close", as.numeric(e$MSFT[, "Close"]), 5, 14, "daily")
  # the last half-hourly quote of each day (the data have no weekends)
  chf <- e$USDCHF
  day <- format(time(chf), "%Y-%m-%d")
  add("USDCHF.daily", tail(as.numeric(tapply(as.numeric(chf), day, function(v) v[length(v)])), 730),
      5, 14, "daily")
}
if (requireNamespace("dslabs", quietly = TRUE)) {
  # ratings a day in the MovieLens sample (intermittent, weekly cycle)
  d <- as.Date(as.POSIXct(dslabs::movielens$timestamp, origin = "1970-01-01", tz = "UTC"))
  days <- seq(min(d), max(d), by = "day")
  add("movielens.ratings", tail(as.numeric(table(factor(as.character(d), levels = as.character(days)))), 730),
      7, 14, "daily")
}

# The series of the forecasting benchmark, shared by forecast_accuracy.R
# and arima_reference.R: real public series that ship with R and its Debian
# packages (r-base's datasets, r-cran-forecast, r-cran-tseries, r-cran-urca,
# r-cran-ggplot2, r-cran-dslabs), each with its period m, its holdout h and
# its group.  Defines `series`, a list of list(name, x, m, h, group).
suppressMessages({
  library(forecast)
  library(tseries)
  library(urca)
  library(TTR)
})

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

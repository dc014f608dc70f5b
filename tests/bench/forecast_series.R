# The series of the forecasting benchmark, shared by forecast_accuracy.R
# and arima_reference.R: real public series that ship with R and its Debian
# packages (r-base's datasets, r-cran-forecast, r-cran-tseries, r-cran-urca,
# r-cran-ggplot2, r-cran-dslabs), each with its period m, its holdout h and
# its group.  Defines `series`, a list of list(name, x, m, h, group).
suppressMessages({
  library(forecast)
  library(tseries)
  library(urca)
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

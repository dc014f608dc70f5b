# Prototype of complex exponential smoothing (CES; Svetunkov & Kourentzes)
# scored as a combination member by forecast_rules.R (FC_RULES_PROTO=this
# file; docs/BENCHMARKS.md, run 5) before deciding whether to write it in
# C: non-seasonal CES fitted by least squares (Nelder-Mead, three starts,
# a stability check), on the series seasonally adjusted by classical
# multiplicative decomposition when thetaf's 90% seasonality test says so.
# Not kept: defines ces_forecast(x, m, h), the point forecast only.
ces_filter <- function(par, y) {
  a0 <- par[1]; a1 <- par[2]; l <- par[3]; c <- par[4]
  n <- length(y); sse <- 0
  for (t in 1:n) {
    e <- y[t] - l
    sse <- sse + e * e
    ln <- l - (1 - a1) * c + (a0 - a1) * e
    cn <- l + (1 - a0) * c + (a0 + a1) * e
    l <- ln; c <- cn
  }
  list(sse = sse, l = l, c = c)
}
ces_stable <- function(a0, a1) {
  D <- matrix(c(1 - (a0 - a1), -(1 - a1), 1 - (a0 + a1), 1 - a0), 2, byrow = TRUE)
  all(Mod(eigen(D, only.values = TRUE)$values) < 1)
}
ces_fit <- function(y) {
  f <- function(p) {
    if (!ces_stable(p[1], p[2])) return(1e300)
    ces_filter(p, y)$sse
  }
  l0 <- mean(y[1:min(5, length(y))])
  best <- NULL
  for (st in list(c(1.3, 1, l0, l0), c(1.8, 1.2, l0, l0), c(1.1, 0.9, l0, 0))) {
    o <- optim(st, f, control = list(maxit = 2000))
    if (is.null(best) || o$value < best$value) best <- o
  }
  best$par
}
ces_points <- function(par, y, h) {
  st <- ces_filter(par, y)
  l <- st$l; c <- st$c; a0 <- par[1]; a1 <- par[2]
  out <- numeric(h)
  for (j in 1:h) { out[j] <- l; ln <- l - (1 - a1) * c; c <- l + (1 - a0) * c; l <- ln }
  out
}
ces_forecast <- function(x, m, h) {
  n <- length(x)
  idx <- rep(1, n + h)
  if (m > 1 && n >= 3 * m) {
    r <- acf(x, lag.max = m, plot = FALSE)$acf[-1]
    stat <- sqrt((1 + 2 * sum(r[-m]^2)) / n)
    if (abs(r[m]) / stat > qnorm(0.95) && all(x > 0)) {
      d <- decompose(ts(x, frequency = m), type = "multiplicative")
      si <- d$figure
      idx <- si[(0:(n + h - 1)) %% m + 1]
    }
  }
  ya <- x / idx[1:n]
  p <- ces_fit(ya)
  ces_points(p, ya, h) * idx[(n + 1):(n + h)]
}

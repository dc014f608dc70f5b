# Reference BG/NBD and Gamma-Gamma fits in base R, for the customer-value
# benchmark (tests/bench/clv_bench.sh).  No Debian package ships BG/NBD, so
# this follows what the BTYD package does (bgnbd.EstimateParameters,
# spend.EstimateParameters): the papers' log-likelihoods vectorised over
# customers, minimised by optim(method = "L-BFGS-B") on log-parameters with
# numerical gradients, from BTYD's default start.
#
# usage: Rscript clv_ref.R PER_CUSTOMER.csv [SPEND.csv] [REPEATS]
#   PER_CUSTOMER.csv: shelfline-clv's --per-customer output (x, t_x, T)
#   SPEND.csv: columns x and zbar (mean repeat spend), rows with x > 0 used
# Prints one line per model: name, parameters, log-likelihood, median seconds.
args <- commandArgs(trailingOnly = TRUE)
pc <- read.csv(args[1])
reps <- if (length(args) >= 3) as.integer(args[3]) else 5L
x <- pc$x; tx <- pc$t_x; TT <- pc$T

bgnbd_nll <- function(lp) {
  r <- exp(lp[1]); al <- exp(lp[2]); a <- exp(lp[3]); b <- exp(lp[4])
  A1 <- lgamma(r + x) - lgamma(r) + r * log(al)
  A2 <- lgamma(a + b) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x)
  A3 <- -(r + x) * log(al + TT)
  A4 <- ifelse(x > 0, log(a) - log(pmax(b + x - 1, 1e-300)) - (r + x) * log(al + tx), -Inf)
  m <- pmax(A3, A4)
  -sum(A1 + A2 + m + log(exp(A3 - m) + exp(A4 - m)))
}

timed <- function(f) {
  secs <- numeric(reps)
  for (i in seq_len(reps)) {
    t0 <- proc.time()[["elapsed"]]
    fit <- f()
    secs[i] <- proc.time()[["elapsed"]] - t0
  }
  list(fit = fit, secs = median(secs))
}

bg <- timed(function() optim(log(c(1, 3, 1, 3)), bgnbd_nll, method = "L-BFGS-B",
                             lower = -30, upper = 30, control = list(maxit = 1000)))
p <- exp(bg$fit$par)
cat(sprintf("R_bgnbd r=%.4f alpha=%.4f a=%.4f b=%.4f ll=%.4f seconds=%.4f convergence=%d\n",
            p[1], p[2], p[3], p[4], -bg$fit$value, bg$secs, bg$fit$convergence))

if (length(args) >= 2) {
  sp <- read.csv(args[2])
  sp <- sp[sp$x > 0 & sp$zbar > 0, ]
  xx <- sp$x; z <- sp$zbar
  gg_nll <- function(lp) {
    p <- exp(lp[1]); q <- exp(lp[2]); g <- exp(lp[3])
    -sum(lgamma(p * xx + q) - lgamma(p * xx) - lgamma(q) + q * log(g) + (p * xx - 1) * log(z) +
         p * xx * log(xx) - (p * xx + q) * log(g + xx * z))
  }
  gg <- timed(function() optim(log(c(1, 1, 1)), gg_nll, method = "L-BFGS-B",
                               lower = -30, upper = 30, control = list(maxit = 1000)))
  q <- exp(gg$fit$par)
  cat(sprintf("R_gg p=%.4f q=%.4f gamma=%.4f ll=%.4f seconds=%.4f convergence=%d\n",
              q[1], q[2], q[3], -gg$fit$value, gg$secs, gg$fit$convergence))
}

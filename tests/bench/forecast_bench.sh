#!/usr/bin/env bash
# Forecasting engine benchmark: accuracy of shelfline-forecast against R's
# forecast package (ets, thetaf, snaive) on real public series that ship
# with R and its Debian packages, and speed on synthetic daily SKU x region
# series against forecast::ets, both computed in the same run.  Standalone,
# and one section of tests/bench/run.sh.
#
# usage: tests/bench/forecast_bench.sh BUILD_DIR
#
# Knobs (environment), defaults in brackets:
#   FC_BENCH_SERIES    synthetic series for the large speed run [10000]
#   FC_BENCH_R_SAMPLE  series forecast::ets runs on (its time for more is
#                      extrapolated from them, and said so) [1000]
#   FC_BENCH_R_ARIMA_SAMPLE  synthetic series forecast::auto.arima runs on
#                      (seconds per series) for the per-group goal [100]
#   FC_BENCH_THREADS   threads for our batch run and R processes [2]
#   FC_BENCH_ACC_LOG   the output of an accuracy run made apart (Rscript
#                      forecast_accuracy.R BINARY WORK > LOG, the same
#                      binary): used instead of running it here, so that
#                      on a shared machine each half fits a time slot
#                      (the accuracy half takes about 6 minutes) []
#
# Installs R and its packages with deploy/local/deps.sh bench when missing
# (never needed by make test).  Exit status: 0 when every run completed
# (whatever the figures), 1 when one failed, 2 on usage.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: tests/bench/forecast_bench.sh BUILD_DIR" >&2
    exit 2
fi
build_dir=$(realpath -m "$1")
src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$src_dir/../.." && pwd)
n_big=${FC_BENCH_SERIES:-10000}
r_sample=${FC_BENCH_R_SAMPLE:-1000}
r_arima_sample=${FC_BENCH_R_ARIMA_SAMPLE:-100}
threads=${FC_BENCH_THREADS:-2}
bin=$build_dir/bin/shelfline-forecast
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say() { printf '%s\n' "$*"; }
show() {
    local q
    printf -v q '%q ' "$@"
    printf '  $ %s\n' "${q% }"
}
# calc EXPR: floating-point arithmetic.
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
# value_of KEY TEXT: the value of KEY=VALUE in TEXT.
value_of() { grep -o "$1=[^ ]*" <<<"$2" | head -1 | cut -d= -f2; }

if ! command -v Rscript >/dev/null ||
    ! Rscript -e 'for (p in c("forecast", "tseries", "urca", "dslabs", "AER", "timeSeries")) if (!requireNamespace(p, quietly = TRUE)) quit(status = 1)' >/dev/null 2>&1; then
    say "forecast bench: installing R and its packages (deploy/local/deps.sh bench)"
    "$repo_dir/deploy/local/deps.sh" bench
fi
if [ ! -x "$bin" ]; then
    show cmake --build "$build_dir" --target shelfline-forecast
    cmake --build "$build_dir" --target shelfline-forecast >"$work/build.log" 2>&1 || {
        cat "$work/build.log"
        echo "forecast bench: could not build shelfline-forecast" >&2
        exit 1
    }
fi

git_rev=$(git -C "$repo_dir" rev-parse --short HEAD 2>/dev/null || echo "?")
[ -n "$(git -C "$repo_dir" status --porcelain 2>/dev/null)" ] && git_rev="$git_rev (with local changes)"
say "== forecasting engine: accuracy and speed against R's forecast package"
say "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); machine: $(nproc) CPUs," \
    "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
say "source: $repo_dir at $git_rev; binary: $bin"
say "R: $(Rscript -e 'cat(R.version.string, "; forecast", as.character(packageVersion("forecast")))' 2>/dev/null)"
say

# ---- accuracy ---------------------------------------------------------------
say "-- accuracy: holdout of h points per series (monthly 18, quarterly 8, daily 14), MASE and sMAPE"
acc_cmd=(Rscript "$src_dir/forecast_accuracy.R" "$bin" "$work/acc")
if [ -n "${FC_BENCH_ACC_LOG:-}" ]; then
    say "  (from $FC_BENCH_ACC_LOG, an accuracy run made apart)"
    cp "$FC_BENCH_ACC_LOG" "$work/acc.log"
    : >"$work/acc.err"
else
    show "${acc_cmd[@]}"
fi
if [ -z "${FC_BENCH_ACC_LOG:-}" ] && ! "${acc_cmd[@]}" >"$work/acc.log" 2>"$work/acc.err"; then
    cat "$work/acc.log" "$work/acc.err"
    echo "forecast bench: the accuracy run failed" >&2
    exit 1
fi
grep -v '^acc ' "$work/acc.log"
say

# ---- speed ------------------------------------------------------------------
say "-- speed: synthetic daily series of 702 days (about two years), horizon 28, levels 80 and 95"
gen_cmd=(Rscript "$src_dir/forecast_speed.R" gen "$work" "$n_big")
show "${gen_cmd[@]}"
"${gen_cmd[@]}"
TIMEFORMAT='%R %U %S'
declare -A wall cpu
for n in 1000 "$n_big"; do
    [ -f "$work/train_$n.csv" ] || continue
    for t in 1 "$threads"; do
        [ -n "${wall[$n,$t]:-}" ] && continue
        cmd=("$bin" --batch --period 7 --long-period 365.25 --horizon 28 --levels 80,95 --threads "$t")
        printf '%s\n' "$(show "${cmd[@]}") <train_$n.csv >ours_$n.csv"
        if ! { time "${cmd[@]}" <"$work/train_$n.csv" >"$work/ours_$n.csv" 2>"$work/ours.err"; } 2>"$work/time"; then
            cat "$work/ours.err"
            echo "forecast bench: shelfline-forecast failed" >&2
            exit 1
        fi
        read -r w u s <"$work/time"
        wall[$n,$t]=$w
        cpu[$n,$t]=$(calc "$u + $s" 3)
        say "  $n series, $t thread(s): ${w} s wall, ${cpu[$n,$t]} s CPU," \
            "$(calc "1000 * ${cpu[$n,$t]} / $n" 3) ms CPU per series"
    done
done
r_cmd=(Rscript "$src_dir/forecast_speed.R" r "$work" "$r_sample" "$threads" "$work/ours_$n_big.csv" "$r_arima_sample")
show "${r_cmd[@]}"
if ! r_out=$("${r_cmd[@]}" 2>"$work/r.err"); then
    cat "$work/r.err"
    echo "forecast bench: the R speed run failed" >&2
    exit 1
fi
grep -v '=' <<<"$r_out" | sed 's/^/  /'
say

# ---- summary ----------------------------------------------------------------
acc_line() { awk -v g="$1" -v m="$2" -v f="$3" '$1 == "acc" && $2 == g && $3 == m { print $f }' "$work/acc.log"; }
say "forecasting summary"
say "  accuracy, mean over series (MASE / sMAPE %):"
printf '    %-10s %4s  %-16s %-16s %-16s %-16s %-16s\n' group n "shelfline auto" "R ets" "R auto.arima" "R thetaf" "R snaive"
for g in monthly quarterly daily all; do
    n=$(awk -v g="$g" 'NF > 5 && $1 != "acc" && $2 == g { c++ } END { print c + 0 }' "$work/acc.log")
    [ "$g" = all ] && n=$(awk 'NF > 5 && $1 != "acc" && ($2 == "monthly" || $2 == "quarterly" || $2 == "daily") { c++ } END { print c }' "$work/acc.log")
    cells=()
    for m in ours.auto R.ets R.arima R.thetaf R.snaive; do
        cells+=("$(printf '%.3f / %.2f' "$(acc_line "$g" "$m" 4)" "$(acc_line "$g" "$m" 5)")")
    done
    printf '    %-10s %4s  %-16s %-16s %-16s %-16s %-16s\n' "$g" "$n" "${cells[@]}"
done
# Goals per group: MASE <= 0.97 x ets and <= the better of ets and
# auto.arima; interval coverage within 5 points of 80 and 95.
goal_rows=()
all_met=met
for g in monthly quarterly daily; do
    o=$(acc_line "$g" ours.auto 4)
    e=$(acc_line "$g" R.ets 4)
    a=$(acc_line "$g" R.arima 4)
    c80=$(acc_line "$g" ours.auto 6)
    c95=$(acc_line "$g" ours.auto 7)
    r80=$(acc_line "$g" R.ets 6)
    r95=$(acc_line "$g" R.ets 7)
    v=$(awk -v o="$o" -v e="$e" -v a="$a" -v c80="$c80" -v c95="$c95" 'BEGIN {
        b = e < a ? e : a
        m1 = o <= 0.97 * e; m2 = o <= b; m3 = (c80 - 80) ^ 2 <= 25 && (c95 - 95) ^ 2 <= 25
        printf "%.3fx ets %s, %.3fx best %s, coverage %.1f / %.1f %s", o / e, m1 ? "met" : "NOT met", o / b, m2 ? "met" : "NOT met", c80, c95, m3 ? "met" : "NOT met"
    }')
    goal_rows+=("$(printf '%-10s %s (R ets covers %.1f / %.1f)' "$g" "$v" "$r80" "$r95")")
    case "$v" in *"NOT met"*) all_met="NOT met" ;; esac
done
ours_mase=$(acc_line all ours.auto 4)
ets_mase=$(acc_line all R.ets 4)
ours_smape=$(acc_line all ours.auto 5)
ets_smape=$(acc_line all R.ets 5)
acc_met=$(awk "BEGIN { print ($ours_mase <= $ets_mase && $ours_smape <= $ets_smape) ? \"met\" : \"NOT met\" }")

r_ms=$(value_of r_ets_ms_per_series "$r_out")
r_wall=$(value_of r_ets_wall_s "$r_out")
r_n=$(value_of r_ets_series "$r_out")
say "  speed (702-day daily series, h = 28, intervals 80/95):"
printf '    %-34s %12s %14s\n' "" "ms CPU/series" "wall, $threads cores"
for n in 1000 "$n_big"; do
    [ -n "${wall[$n,1]:-}" ] || continue
    printf '    %-34s %12s %13ss\n' "shelfline-forecast, $n series" \
        "$(calc "1000 * ${cpu[$n,1]} / $n" 3)" "${wall[$n,$threads]}"
done
for n in 1000 "$n_big"; do
    [ -n "${wall[$n,1]:-}" ] || continue
    if [ "$n" -eq "$r_n" ]; then
        label="forecast::ets, $n series"
        rw=$r_wall
    else
        label="forecast::ets, $n (extrapolated*)"
        rw=$(calc "$r_wall * $n / $r_n" 1)
    fi
    printf '    %-34s %12s %13ss\n' "$label" "$r_ms" "$rw"
done
speed_cpu=$(calc "$r_ms / (1000 * ${cpu[$n_big,1]} / $n_big)" 0)
speed_wall=$(calc "($r_wall * $n_big / $r_n) / ${wall[$n_big,$threads]}" 0)
[ "$r_n" -lt "$n_big" ] && say "    * from forecast::ets's run on the first $r_n series"
say "  holdout accuracy on the first $r_n synthetic series: $(grep '^holdout (28' <<<"$r_out" | sed 's/^holdout (28 days) of those [0-9]* series: //')"
say "  $(grep 'interval coverage' <<<"$r_out" | sed 's/^ *//') on the same series"
sy_o=$(value_of synth_ours_mase "$r_out")
sy_e=$(value_of synth_r_mase "$r_out")
sy_c80=$(value_of synth_ours_cov80 "$r_out")
sy_c95=$(value_of synth_ours_cov95 "$r_out")
sub_n=$(value_of synth_arima_n "$r_out")
sub_o=$(value_of synth_sub_ours_mase "$r_out")
sub_e=$(value_of synth_sub_ets_mase "$r_out")
sub_a=$(value_of synth_sub_arima_mase "$r_out")
v=$(awk -v o="$sy_o" -v e="$sy_e" -v so="$sub_o" -v se="$sub_e" -v sa="$sub_a" -v c80="$sy_c80" -v c95="$sy_c95" 'BEGIN {
    b = se < sa ? se : sa
    m1 = o <= 0.97 * e; m2 = so <= b; m3 = (c80 - 80) ^ 2 <= 25 && (c95 - 95) ^ 2 <= 25
    printf "%.3fx ets %s, %.3fx best %s (first %s series), coverage %.1f / %.1f %s", o / e, m1 ? "met" : "NOT met", so / b, m2 ? "met" : "NOT met", "'"$sub_n"'", c80, c95, m3 ? "met" : "NOT met"
}')
goal_rows+=("$(printf '%-10s %s' synthetic "$v")")
# The floor: the generator's true mean on the same series, which no
# forecast of the mean beats on average.
sy_or=$(value_of synth_oracle_mase "$(Rscript "$src_dir/forecast_speed.R" oracle "$r_n")")
goal_rows+=("$(printf '%-10s the true mean (oracle) scores %s = %sx ets on the same series' "" "$sy_or" \
    "$(calc "$sy_or / $sy_e" 3)")")
case "$v" in *"NOT met"*) all_met="NOT met" ;; esac
speed_met=$(awk "BEGIN { print ($speed_cpu >= 100) ? \"met\" : \"NOT met\" }")
say
say "  goal: accuracy at least forecast::ets's on average: MASE $ours_mase vs $ets_mase," \
    "sMAPE $ours_smape vs $ets_smape: $acc_met"
say "  goals per group (MASE <= 0.97x ets, <= the better of ets and auto.arima;" \
    "80%/95% coverage within 5 points):"
for row in "${goal_rows[@]}"; do say "    $row"; done
say "  all per-group goals: $all_met"
say "  goal: at least 100x faster than forecast::ets: ${speed_cpu}x per CPU, ${speed_wall}x wall for" \
    "$n_big series on $threads cores: $speed_met"
say "forecast_acc_mase=$ours_mase forecast_acc_mase_r_ets=$ets_mase forecast_speedup_cpu=$speed_cpu" \
    "forecast_speedup_wall=$speed_wall forecast_wall_s_$n_big=${wall[$n_big,$threads]}"

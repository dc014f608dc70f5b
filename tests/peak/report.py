#!/usr/bin/python3
"""The peak day's report: the SLO gates computed from what the load
generator measured, the audit's lines, the faults and their blast windows,
written as report.json (every figure), report.md (for people) and PNG
charts drawn by gnuplot.  Run by tests/peak/peak.sh; standard library only.

Inputs in --out: calls.csv (per second x class: started, ok, business,
errors, p50/p99/max), latency.csv when present (one row per call: intended
start in ms since the run's start, class, result, latency in us -- exact
percentiles and blast windows; without it they are read off the
per-second rows), summary.json (the load generator's totals and probes),
faults.csv (what peak.sh injected, when) and audit.txt (PASS/FAIL lines).

Exit status: 0 when every audit line and gate passes, 1 otherwise.
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys

# p99 targets per request class at the surge rate, in ms, on the 2-core
# machine with the whole suite, PostgreSQL and the load generator on it.
P99_TARGET_MS = {
    "availability": 50, "quote_eta": 50, "order_eta": 50,
    "place_order": 150, "confirm_payment": 250, "cancel_order": 250,
    "open_ticket": 300, "subscribe": 300, "returns": 300,
}
# After a fault ends, errors still counted as its blast for this long (or
# until the next fault starts); the rest of the run is held to the 0.1%
# error budget.
SETTLE_S = 10.0
# Gate per fault: the longest span of client-visible errors it may cause.
BLAST_LIMIT_S = {"kill": 2.0, "rolling": 0.0, "pg": 5.0, "partition": 2.0, "lock": None}
ERROR_BUDGET = 0.001
BLAST_GAP_S = 1.0
VISIBILITY_P99_MS = 1000
DELAY_NOTICE_MS = 2000


def pct(sorted_vals, q):
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1, math.ceil(q * len(sorted_vals)) - 1))
    return sorted_vals[k]


def read_csv(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--profile", required=True)
    ap.add_argument("--surge-start", type=float, required=True)
    ap.add_argument("--surge-end", type=float, required=True)
    ap.add_argument("--bare", required=True)
    ap.add_argument("--orders-per-s", type=float, required=True)
    ap.add_argument("--enforce", choices=("all", "audit"), default="all")
    a = ap.parse_args()
    out = a.out

    summary = {}
    if os.path.exists(os.path.join(out, "summary.json")):
        with open(os.path.join(out, "summary.json")) as f:
            summary = json.load(f)
    faults = read_csv(os.path.join(out, "faults.csv"))
    for fl in faults:
        fl["start_s"] = float(fl["start_s"])
        fl["end_s"] = float(fl["end_s"])
    audit = []
    if os.path.exists(os.path.join(out, "audit.txt")):
        with open(os.path.join(out, "audit.txt")) as f:
            audit = [l.rstrip("\n") for l in f if l.startswith(("PASS", "FAIL"))]

    def window_end(i):
        # a fault's window: from its start to SETTLE_S after its end, cut at
        # the next fault's start (whose own window takes over from there)
        end = faults[i]["end_s"] + SETTLE_S
        if i + 1 < len(faults):
            end = min(end, faults[i + 1]["start_s"] - 0.5)
        return end

    def fault_index(t):
        for i in range(len(faults) - 1, -1, -1):
            if faults[i]["start_s"] - 0.5 <= t <= window_end(i):
                return i
        return None

    def in_fault(t):
        i = fault_index(t)
        return None if i is None else faults[i]["fault"]

    # calls: (t_s, class, result, latency_ms)
    calls = []
    lat_path = os.path.join(out, "latency.csv")
    exact = os.path.exists(lat_path)
    per_second = read_csv(os.path.join(out, "calls.csv"))
    if exact:
        with open(lat_path, newline="") as f:
            for r in csv.DictReader(f):
                calls.append((int(r["t_ms"]) / 1000.0, r["class"], r["result"],
                              int(r["latency_us"]) / 1000.0))

    classes = sorted({r["class"] for r in per_second} | {c[1] for c in calls})
    gates = []

    def gate(name, ok, measured, target):
        gates.append({"gate": name, "pass": bool(ok), "measured": measured, "target": target})

    # ---- error budget outside fault windows
    if exact:
        outside = [c for c in calls if in_fault(c[0]) is None]
        n_out = len(outside)
        e_out = sum(1 for c in outside if c[2] == "error")
    else:
        n_out = e_out = 0
        for r in per_second:
            if in_fault(float(r["t_s"])) is None:
                n_out += int(r["started"])
                e_out += int(r["errors"])
    rate = e_out / n_out if n_out else 0.0
    gate("client-visible errors outside fault windows <= 0.1%", n_out > 0 and rate <= ERROR_BUDGET,
         f"{e_out} of {n_out} calls ({100 * rate:.3f}%)", "<= 0.1%")

    # ---- blast window per fault
    fault_rows = []
    for fi, fl in enumerate(faults):
        lo, hi = fl["start_s"] - 0.5, window_end(fi)
        if exact:
            errs = sorted(c[0] for c in calls if c[2] == "error" and fault_index(c[0]) == fi)
            n_err = len(errs)
            # How long clients saw errors: the errors' times merged into
            # spells (gaps under BLAST_GAP_S join them), each at least
            # 0.1 s; a straggler seconds later adds its own 0.1 s, not the
            # whole gap.
            blast, first, last = 0.0, None, None
            for t in errs:
                if first is not None and t - last <= BLAST_GAP_S:
                    last = t
                    continue
                if first is not None:
                    blast += max(last - first, 0.1)
                first = last = t
            if first is not None:
                blast += max(last - first, 0.1)
        else:
            secs = [float(r["t_s"]) for r in per_second
                    if int(r["errors"]) > 0 and lo <= float(r["t_s"]) <= hi]
            n_err = sum(int(r["errors"]) for r in per_second
                        if lo <= float(r["t_s"]) <= hi)
            blast = float(len(set(secs)))
        row = {"fault": fl["fault"], "target": fl["target"], "start_s": fl["start_s"],
               "end_s": fl["end_s"], "errors": n_err, "blast_s": round(blast, 3),
               "note": fl["note"]}
        fault_rows.append(row)
        limit = BLAST_LIMIT_S.get(fl["fault"])
        if fl["note"].startswith("not run"):
            gate(f"fault {fl['fault']}: run", False, fl["note"], "run")
        elif fl["fault"] == "rolling":
            gate("rolling restart causes zero failed calls", n_err == 0, f"{n_err} failed calls",
                 "0")
        elif limit is not None:
            gate(f"fault {fl['fault']}: errors for <= {limit:g} s", blast <= limit,
                 f"{n_err} errors over {blast:.2f} s", f"<= {limit:g} s")
        if fl["fault"] == "lock":
            live_ok = "failed=0" in fl["note"] and fl["note"].count("failed=0") == 2
            gate("liveness stays SERVING while the hottest row is locked", live_ok, fl["note"],
                 "no failed probe")

    # ---- p99 per class at the surge rate (outside fault windows)
    lat_rows = {}
    for cl in classes:
        if exact:
            v = sorted(c[3] for c in calls if c[1] == cl and c[2] != "error"
                       and a.surge_start <= c[0] < a.surge_end and in_fault(c[0]) is None)
            n = len(v)
            p50, p99, mx = pct(v, 0.5), pct(v, 0.99), (v[-1] if v else None)
        else:
            rows = [r for r in per_second if r["class"] == cl
                    and a.surge_start <= float(r["t_s"]) < a.surge_end
                    and in_fault(float(r["t_s"])) is None and r["p99_ms"] not in ("", None)]
            n = sum(int(r["ok"]) + int(r["business"]) for r in rows)
            p99s = sorted(float(r["p99_ms"]) for r in rows)
            p50s = sorted(float(r["p50_ms"]) for r in rows)
            # without per-call data: the median second's p50 and the p99 of
            # the seconds' p99s (an upper estimate)
            p50, p99 = pct(p50s, 0.5), pct(p99s, 0.99)
            mx = max((float(r["max_ms"]) for r in rows), default=None)
        lat_rows[cl] = {"calls": n, "p50_ms": p50, "p99_ms": p99, "max_ms": mx,
                        "target_p99_ms": P99_TARGET_MS.get(cl)}
        t = P99_TARGET_MS.get(cl)
        if t is not None and n > 0:
            gate(f"{cl} p99 < {t} ms at the surge rate", p99 is not None and p99 < t,
                 f"{p99:.1f} ms over {n} calls", f"< {t} ms")

    # ---- no call past its deadline (client side: latency over the deadline
    # plus scheduling slack would mean a call outlived it)
    if exact:
        deadline_ms = {"place_order": 3000, "confirm_payment": 3000, "cancel_order": 3000,
                       "open_ticket": 3000, "subscribe": 3000, "returns": 3000}
        over = [c for c in calls if c[3] > deadline_ms.get(c[1], 1000) + 250
                and c[2] != "error"]
        gate("no call answered past its deadline", not over, f"{len(over)} calls", "0")

    # ---- probes
    vis = summary.get("visibility_p99_ms")
    gate("stock change visible in service-desk's answers within 1 s (p99)",
         vis is not None and vis < VISIBILITY_P99_MS,
         f"p99 {vis} ms (p50 {summary.get('visibility_p50_ms')}, max "
         f"{summary.get('visibility_max_ms')})", "< 1000 ms")
    dl = summary.get("delay_notice_last_ms")
    gate(f"DelayInbound -> the last of {summary.get('delay_orders')} customers' notices readable "
         "within 2 s", dl is not None and dl <= DELAY_NOTICE_MS and
         summary.get("delay_orders", 0) >= 1000,
         f"{dl} ms for {summary.get('delay_orders')} orders", "<= 2000 ms, >= 1000 orders")

    # ---- the sustained order rate against the bare Reserve+Commit rate
    bare = None
    try:
        with open(a.bare) as f:
            for tok in f.read().split():
                if tok.startswith("calls_per_s="):
                    bare = float(tok.split("=", 1)[1])
    except OSError:
        pass
    surge_orders = [c for c in calls if c[1] == "place_order" and c[2] == "ok"
                    and a.surge_start <= c[0] < a.surge_end] if exact else []
    achieved = (len(surge_orders) / (a.surge_end - a.surge_start)) if exact else None
    ratio = (achieved / bare) if (achieved is not None and bare) else None

    audit_pass = bool(audit) and all(l.startswith("PASS") for l in audit)
    gates_pass = all(g["pass"] for g in gates)
    all_pass = audit_pass and gates_pass
    report = {
        "profile": a.profile, "surge": [a.surge_start, a.surge_end],
        "orders_per_s_intended": a.orders_per_s, "orders_per_s_acknowledged": achieved,
        "bare_reserve_commit_per_s": bare, "order_rate_ratio": ratio,
        "latency_exact": exact, "classes": lat_rows, "faults": fault_rows,
        "gates": gates, "audit": audit, "summary": summary, "pass": bool(all_pass),
        "audit_pass": audit_pass, "gates_pass": gates_pass, "enforced": a.enforce,
        "memory": memory_rows(out),
    }
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump(report, f, indent=2)

    charts(out, per_second, classes, faults)

    md = [f"# Peak day report ({a.profile} profile)", "", machine_line(a.profile), ""]
    md.append(f"Result: **{'PASS' if all_pass else 'FAIL'}**. Surge from {a.surge_start:g} s to "
              f"{a.surge_end:g} s at {a.orders_per_s:g} orders/s intended"
              + (f", {achieved:.1f} acknowledged" if achieved is not None else "") + ".")
    if bare:
        md.append(f"Inventory's bare Reserve+Commit rate in the same run: {bare:.0f}/s"
                  + (f"; the surge's order rate is {ratio:.3f}x of it." if ratio else "."))
    md += ["", "## Audit", ""]
    md += [f"- {l}" for l in audit] or ["- (no audit lines: the audit did not run)"]
    md += ["", "## Gates", "", "| gate | measured | target | |", "|---|---|---|---|"]
    md += [f"| {g['gate']} | {g['measured']} | {g['target']} | {'PASS' if g['pass'] else 'FAIL'} |"
           for g in gates]
    md += ["", "## Faults and their blast windows", "",
           "| fault | target | start s | end s | errors | seconds with errors | how |",
           "|---|---|---|---|---|---|---|"]
    md += [f"| {r['fault']} | {r['target']} | {r['start_s']:.1f} | {r['end_s']:.1f} | {r['errors']} "
           f"| {r['blast_s']} | {r['note']} |" for r in fault_rows]
    md += ["", "## Latency per class during the surge (outside fault windows)", "",
           "| class | calls | p50 ms | p99 ms | max ms | p99 target ms |", "|---|---|---|---|---|---|"]
    for cl, r in lat_rows.items():
        f1 = lambda v: "-" if v is None else f"{v:.1f}"
        md.append(f"| {cl} | {r['calls']} | {f1(r['p50_ms'])} | {f1(r['p99_ms'])} | "
                  f"{f1(r['max_ms'])} | {r['target_p99_ms'] or '-'} |")
    mem = report["memory"]
    if mem:
        md += ["", "## Memory per replica at the end of the load", "",
               "Peak resident set since the process started (a replica restarted by a "
               "fault counts from its restart), the resident set at the end, threads.", "",
               "| replica | peak RSS MiB | RSS MiB | threads |", "|---|---|---|---|"]
        md += [f"| {r['replica']} | {r['hwm_mib']:.1f} | {r['rss_mib']:.1f} | {r['threads']} |"
               for r in mem]
    md += ["", "![calls per second](calls.png)", "", "![p99 latency](latency.png)", "",
           "![errors per second](errors.png)", ""]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(md))

    for g in gates:
        print(f"{'PASS' if g['pass'] else 'FAIL'} gate {g['gate']}: {g['measured']}")
    print(f"peak: audit {'PASS' if audit_pass else 'FAIL'}, gates {'PASS' if gates_pass else 'FAIL'}"
          f" (report in {out}/report.md)")
    if a.enforce == "audit":
        if not gates_pass:
            print("peak: gates reported, not enforced (PEAK_ENFORCE=audit)")
        return 0 if audit_pass else 1
    return 0 if all_pass else 1


def memory_rows(out):
    """memory.csv (peak.sh, at the end of the load), in MiB."""
    path = os.path.join(out, "memory.csv")
    if not os.path.exists(path):
        return []
    rows = []
    with open(path) as f:
        for r in csv.DictReader(f):
            try:
                rows.append({"replica": r["replica"], "hwm_mib": int(r["vm_hwm_kib"]) / 1024,
                             "rss_mib": int(r["vm_rss_kib"]) / 1024, "threads": r["threads"]})
            except (KeyError, ValueError):
                continue
    return rows


def machine_line(profile):
    """The command, the date and the machine, for a report kept in docs/."""
    import datetime
    import platform
    cpu, mem = "", ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    mem = f"{int(line.split()[1]) // (1024 * 1024)} GiB"
                    break
    except OSError:
        pass
    cmd = "make peak" if profile == "full" else f"PEAK_PROFILE={profile} make peak"
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"`{cmd}`, {when}, on {os.cpu_count()} cores ({cpu or 'unknown CPU'}), {mem}, "
            f"{platform.system()} {platform.release()}; PostgreSQL, the eight replicas and the "
            "load generator all on this machine.")


def charts(out, per_second, classes, faults):
    """calls/s, p99 and errors/s per class over time, faults shaded."""
    if not per_second:
        return
    data = os.path.join(out, "chart-data")
    os.makedirs(data, exist_ok=True)
    for cl in classes:
        with open(os.path.join(data, f"{cl}.dat"), "w") as f:
            for r in per_second:
                if r["class"] == cl:
                    f.write(f"{r['t_s']} {r['started']} {r['errors']} "
                            f"{r['p50_ms'] or 'NaN'} {r['p99_ms'] or 'NaN'}\n")
    shade = []
    for i, fl in enumerate(faults, 1):
        shade.append(f"set object {i} rect from {fl['start_s']},graph 0 to "
                     f"{max(fl['end_s'], fl['start_s'] + 1)},graph 1 fc rgb '#f4cccc' "
                     "fs solid 0.5 noborder behind")
        shade.append(f"set label {i} '{fl['fault']}' at {fl['start_s']},graph 0.97 font ',8'")
    for name, col, ylabel, logy in (("calls", 2, "calls/s started", False),
                                    ("latency", 5, "p99 latency (ms)", True),
                                    ("errors", 3, "errors/s", False)):
        plots = ", ".join(f"'{data}/{cl}.dat' using 1:{col} with lines title '{cl}' noenhanced"
                          for cl in classes)
        script = "\n".join([
            "set terminal pngcairo size 1200,500 font ',9'" if has_cairo() else
            "set terminal png size 1200,500",
            f"set output '{out}/{name}.png'", "set key outside right", "set grid",
            "set xlabel 'seconds since the run started'", f"set ylabel '{ylabel}'",
            "set logscale y" if logy else "", *shade, f"plot {plots}"])
        try:
            subprocess.run(["gnuplot"], input=script, text=True, check=True,
                           stderr=subprocess.PIPE)
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"report: gnuplot could not draw {name}.png: {e}", file=sys.stderr)


def has_cairo():
    try:
        r = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
        return "pngcairo" in (r.stdout + r.stderr)
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())

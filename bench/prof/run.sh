#!/usr/bin/env bash
# Heap-profiler benchmark: bench_prof.c (two threads, N malloc/free pairs of
# mixed sizes under deep stacks, plus two known leaks) run with no profiler,
# oomkit's profiler at default sampling and in exact mode, heaptrack, the
# gperftools heap profiler and jemalloc's profiler. Reports wall time, CPU
# (user+sys) and peak RSS against the same program without a profiler, and
# whether each tool named the leak sites. Writes docs/benchmarks-prof.md.
#
# env: N (pairs, default 4000000), N_SLOW (for gperftools, default 200000),
#      RUNS (default 3), OOMKIT_BUILD_DIR (default ./build).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${OOMKIT_BUILD_DIR:-$ROOT/build}
N=${N:-4000000}
N_SLOW=${N_SLOW:-200000}
RUNS=${RUNS:-3}
LIB=$BUILD/liboomkit_prof.so
OOMKIT=$BUILD/oomkit
OUT_MD=$ROOT/docs/benchmarks-prof.md
[ -f "$LIB" ] && [ -x "$OOMKIT" ] || { echo "bench/prof: build first (missing $LIB or $OOMKIT)" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
BENCH=$WORK/bench_prof
gcc -O2 -g -fno-omit-frame-pointer -pthread -Wl,--build-id -o "$BENCH" bench/prof/bench_prof.c || exit 1
LIBDIR=$(dirname "$(gcc -print-file-name=libc.so.6)")
TCMALLOC=$(ls /usr/lib/x86_64-linux-gnu/libtcmalloc.so.4 2>/dev/null || true)
JEMALLOC=$(ls /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 2>/dev/null || true)
JE_PROF=no
if [ -n "$JEMALLOC" ]; then
  # Capture first: grep -q closing the pipe early would fail it under pipefail.
  je_stats=$(MALLOC_CONF=stats_print:true LD_PRELOAD=$JEMALLOC "$BENCH" 1000 2>&1)
  case "$je_stats" in *"config.prof: true"*) JE_PROF=yes ;; esac
fi

# run NAME N CMD...: one timed run; appends "name wall cpu rss" to results.
run() {
  local name=$1 n=$2; shift 2
  local tf=$WORK/time.$name
  /usr/bin/time -f "%e %U %S %M" -o "$tf" "$@" "$BENCH" "$n" >/dev/null 2>"$WORK/err.$name" || {
    echo "bench/prof: $name failed:" >&2; tail -3 "$WORK/err.$name" >&2; return 1; }
  awk -v n="$name" '{ printf "%s %s %.3f %s\n", n, $1, $2 + $3, $4 }' "$tf" >> "$WORK/results"
}

configs=(base ours_default ours_all_fp ours_all_dwarf heaptrack)
[ -n "$JEMALLOC" ] && configs+=(je_base)
[ "$JE_PROF" = yes ] && configs+=(je_prof)
slow_configs=(base_slow)
[ -n "$TCMALLOC" ] && slow_configs+=(tc_base_slow gperf_slow)

for r in $(seq 1 "$RUNS"); do
  echo "bench/prof: run $r/$RUNS (N=$N)"
  rm -f "$WORK"/o_*
  run base "$N" env
  run ours_default "$N" env LD_PRELOAD="$LIB" OOMKIT_PROF="out=$WORK/o_def"
  run ours_all_fp "$N" env LD_PRELOAD="$LIB" OOMKIT_PROF="out=$WORK/o_allfp,sample=all,unwind=fp"
  run ours_all_dwarf "$N" env LD_PRELOAD="$LIB" OOMKIT_PROF="out=$WORK/o_alldw,sample=all"
  if command -v heaptrack >/dev/null; then
    run heaptrack "$N" heaptrack -o "$WORK/o_ht"
  fi
  [ -n "$JEMALLOC" ] && run je_base "$N" env LD_PRELOAD="$JEMALLOC"
  [ "$JE_PROF" = yes ] && run je_prof "$N" env LD_PRELOAD="$JEMALLOC" \
      MALLOC_CONF="prof:true,prof_final:true,lg_prof_sample:19,prof_prefix:$WORK/o_je"
  run base_slow "$N_SLOW" env
  if [ -n "$TCMALLOC" ]; then
    run tc_base_slow "$N_SLOW" env LD_PRELOAD="$TCMALLOC"
    run gperf_slow "$N_SLOW" env LD_PRELOAD="$TCMALLOC" HEAPPROFILE="$WORK/o_gp"
  fi
done

# The profiler's own share of CPU: perf samples that fall in our library
# and the unwinder (steadier than wall-time ratios on a shared machine).
PERF_SHARE="perf not available"
if command -v perf >/dev/null && perf record -q -o "$WORK/perf.data" env LD_PRELOAD="$LIB" \
     OOMKIT_PROF="out=$WORK/o_perf" "$BENCH" "$N" >/dev/null 2>&1; then
  PERF_SHARE=$(perf report -i "$WORK/perf.data" --no-children --stdio --sort dso 2>/dev/null \
    | awk '/^ +[0-9.]+%/ { gsub("%","",$1); if ($2 ~ /oomkit_prof|libunwind|libdw|libelf/) s += $1; t += $1 }
           END { if (t > 0) printf "%.1f %% of CPU samples in liboomkit_prof.so, libunwind and libdw", s; }')
fi

# Leak sites: does each tool name leak_big and leak_small, and with what bytes?
leak_ours() { # profile file -> "leak_big=...; leak_small=..."
  "$OOMKIT" report "$1" --leaks --json 2>/dev/null | python3 -c '
import json,sys
rows=json.load(sys.stdin)
out=[]
for fn in ("leak_big","leak_small"):
    b=sum(r["bytes"] for r in rows if r["function"]==fn)
    out.append("%s %s B" % (fn, format(b, ",")) if b else "%s missing" % fn)
print("; ".join(out))'
}
last() { ls -t "$@" 2>/dev/null | head -1; }
OURS_DEF=$(leak_ours "$(last "$WORK"/o_def.*.pb.gz)")
OURS_ALL=$(leak_ours "$(last "$WORK"/o_allfp.*.pb.gz)")
OURS_CI=$("$OOMKIT" report "$(last "$WORK"/o_def.*.pb.gz)" --top 40 2>/dev/null | grep -E ' leak_(big|small) ' \
  | awk '{ printf "%s %s %s %s; ", $5, $1, $7, $8 }')
GO_TOP="go not installed"
if command -v go >/dev/null; then
  GO_TOP=$(HOME=$WORK go tool pprof -top -sample_index=inuse_space "$(last "$WORK"/o_def.*.pb.gz)" 2>&1 \
    | grep -cE ' leak_(big|small)$' | sed 's/$/ of 2 leak sites listed by go tool pprof -top/')
fi
HT="not run"
if command -v heaptrack_print >/dev/null && [ -n "$(last "$WORK"/o_ht*)" ]; then
  HT=$(heaptrack_print -f "$(last "$WORK"/o_ht*)" -l 1 -p 0 -a 0 -T 0 2>/dev/null \
       | grep -A1 -E '^[0-9.]+[KMG]? leaked over' | grep -oE 'leak_(big|small)' | sort -u | tr '\n' ' ')
  HT="names: ${HT:-none}"
fi
GP="not run"
if [ -n "$TCMALLOC" ] && [ -n "$(last "$WORK"/o_gp*.heap)" ] && command -v go >/dev/null; then
  GP=$(HOME=$WORK go tool pprof -top -sample_index=inuse_space "$BENCH" "$(last "$WORK"/o_gp*.heap)" 2>/dev/null \
       | grep -oE 'leak_(big|small)' | sort -u | tr '\n' ' ')
  GP="names: ${GP:-none (empty stacks)}"
fi
JE="not available"
if [ "$JE_PROF" = yes ] && [ -n "$(last "$WORK"/o_je*.heap)" ] && command -v jeprof >/dev/null; then
  JE=$(jeprof --text --show_bytes "$BENCH" "$(last "$WORK"/o_je*.heap)" 2>/dev/null | grep -E 'leak_(big|small)' \
       | awk '{ printf "%s %s B; ", $NF, $1 }')
  JE="${JE:-none}"
fi

python3 - "$WORK/results" "$OUT_MD" "$N" "$N_SLOW" "$RUNS" <<PY
import statistics, sys, platform, subprocess, datetime, os
res, out, n, n_slow, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
data = {}
for line in open(res):
    name, wall, cpu, rss = line.split()
    data.setdefault(name, []).append((float(wall), float(cpu), int(rss)))
def med(name, i):
    return statistics.median(v[i] for v in data[name])
def row(name, label, base):
    if name not in data or base not in data:
        return ""
    w, c, r = med(name, 0), med(name, 1), med(name, 2)
    bw, bc, br = med(base, 0), med(base, 1), med(base, 2)
    return f"| {label} | {w:.2f} | {w/bw:.2f}x | {c:.2f} | {c/bc:.2f}x | {r/1024:.1f} | {(r-br)/br*100:+.1f} % |\n"
cpu = "unknown"
try:
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            cpu = l.split(":", 1)[1].strip(); break
except OSError:
    pass
md = f"""# Heap profiler benchmark (bench/prof)

Generated by \`bench/prof/run.sh\` on {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC.
Machine: {os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}; a shared machine, so wall
time is noisy: CPU time (user+sys) is the steadier measure. Medians of {runs} interleaved runs.

Workload: \`bench/prof/bench_prof.c\` built with \`gcc -O2 -g -fno-omit-frame-pointer\`: two threads,
N malloc/free pairs (70 % 16-256 B, 25 % to 4 KiB, 5 % to 64 KiB) from six sites under 5-20 extra
frames, 100 000 long-lived 512 B blocks, and two leaks: \`leak_big\` 1 000 x 40 000 B = 40 000 000 B
and \`leak_small\` 200 000 x 32 B = 6 400 000 B.

## Overhead, N = {n} pairs (ratios against the same run without a profiler, glibc malloc)

| config | wall s | wall ratio | CPU s | CPU ratio | peak RSS MiB | RSS change |
|---|---|---|---|---|---|---|
""" + row("base", "no profiler (glibc)", "base") \
    + row("ours_default", "oomkit, default (Poisson 512 KiB, libunwind)", "base") \
    + row("ours_all_fp", "oomkit --all (exact, frame pointers)", "base") \
    + row("ours_all_dwarf", "oomkit --all (exact, libunwind)", "base") \
    + row("heaptrack", "heaptrack", "base") \
    + row("je_base", "jemalloc, no profiling (its own baseline)", "je_base") \
    + row("je_prof", "jemalloc prof:true lg_prof_sample:19 (vs jemalloc)", "je_base") + f"""
Profiler's own share of CPU at default sampling (one \`perf record\` run, N = {n}): $PERF_SHARE.

## Slow peer, N = {n_slow} pairs

| config | wall s | wall ratio | CPU s | CPU ratio | peak RSS MiB | RSS change |
|---|---|---|---|---|---|---|
""" + row("base_slow", "no profiler (glibc)", "base_slow") \
    + row("tc_base_slow", "tcmalloc, no profiling", "base_slow") \
    + row("gperf_slow", "gperftools HEAPPROFILE (vs glibc)", "base_slow") + f"""
## Did each tool name the leaks?

| tool | result |
|---|---|
| oomkit default (sampled; estimate) | $OURS_DEF |
| oomkit default, 95 % CI per site (\`oomkit report\`) | $OURS_CI |
| oomkit --all (exact) | $OURS_ALL |
| go tool pprof -top on oomkit's default profile | $GO_TOP |
| heaptrack (\`heaptrack_print -l\`) | $HT |
| gperftools (exit dump, \`go tool pprof\`) | $GP |
| jemalloc (\`jeprof --text\`) | $JE |

Command: \`N={n} N_SLOW={n_slow} RUNS={runs} bench/prof/run.sh\` (or \`make bench\`).
"""
open(out, "w").write(md)
print(md)
PY

#!/usr/bin/env bash
# Benchmark of `oomkit watch`: capture-before-kill share at 10, 50
# and 200 MB/s for heap and mmap leaks into a 512 MiB cgroup, prediction
# error at the 50% crossing, verdicts, alert latency with a real
# Alertmanager, earlyoom as the baseline, and the daemon's CPU, RSS and
# sampling jitter. Writes docs/benchmarks-watch.md. Needs root and a
# writable cgroup v1 memory controller; otherwise it records why it did not
# run. Knobs: WATCH_TRIALS (rate:trials,...), WATCH_LIMIT_MB,
# WATCH_OVERHEAD_S, WATCH_OVERHEAD_CGROUPS.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${OOMKIT_BIN:=$PWD/build/oomkit}" "${OOMKIT_BUILD_DIR:=$PWD/build}"
export OOMKIT_BIN OOMKIT_BUILD_DIR
out=docs/benchmarks-watch.md
skip() {
  echo "bench/watch: SKIP: $1" >&2
  printf '# oomkit watch benchmark\n\nNot run on %s: %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$1" > "$out"
  exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root to create memory cgroups"
[ -w /sys/fs/cgroup/memory/cgroup.procs ] || skip "no writable cgroup v1 memory controller at /sys/fs/cgroup/memory"
[ -x "$OOMKIT_BUILD_DIR/tests/watch/watch_leak" ] || cmake --build "$OOMKIT_BUILD_DIR" --target watch_leak >/dev/null
[ -x "$OOMKIT_BIN" ] || skip "no oomkit binary at $OOMKIT_BIN"
results=$(mktemp)
# Run private copies, so a rebuild during the benchmark cannot swap the
# binaries under a trial.
bindir=$(mktemp -d)
trap 'rm -f "$results"; rm -rf "$bindir"' EXIT
mkdir -p "$bindir/tests/watch"
cp "$OOMKIT_BIN" "$bindir/oomkit"
cp "$OOMKIT_BUILD_DIR/tests/watch/watch_leak" "$bindir/tests/watch/watch_leak"
OOMKIT_BIN="$bindir/oomkit" OOMKIT_BUILD_DIR="$bindir" python3 bench/watch/bench_watch.py > "$results"
cmd="WATCH_TRIALS=${WATCH_TRIALS:-10:2,50:5,200:10} WATCH_LIMIT_MB=${WATCH_LIMIT_MB:-512} bench/watch/run.sh"
python3 bench/watch/bench_watch.py report "$results" "$cmd" > "$out"
echo "bench/watch: wrote $out"

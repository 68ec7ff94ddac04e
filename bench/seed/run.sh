#!/usr/bin/env bash
# bench/seed/run.sh: the seed benchmark of `make bench`. Runs
# `oomkit bench seed --markdown` (every table of the incident postmortem,
# measured on this machine) and writes docs/seed-tables.md with the date,
# the command and the machine's load above the tables, and a bar chart per
# table in docs/seed-charts/.
#
# Environment:
#   OOMKIT_BIN              the oomkit binary (default: <repo>/build/oomkit)
#   OOMKIT_BUILD_DIR        the build tree (default: <repo>/build)
#   OOMKIT_BENCH_SEED_QUICK 1 runs with --quick (a few seconds)
#   OOMKIT_BENCH_SEED_DOC   where to write (default: <repo>/docs/seed-tables.md)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${OOMKIT_BUILD_DIR:-$repo/build}
bin=${OOMKIT_BIN:-$build/oomkit}
doc=${OOMKIT_BENCH_SEED_DOC:-$repo/docs/seed-tables.md}
charts=$(dirname "$doc")/seed-charts
args=(bench seed --markdown --svg "$charts")
shown="bench seed --markdown --svg seed-charts"
if [ "${OOMKIT_BENCH_SEED_QUICK:-0}" = 1 ]; then
  args+=(--quick)
  shown="$shown --quick"
fi

if [ ! -x "$bin" ]; then
  echo "bench/seed/run.sh: $bin is not built (run: make build)" >&2
  exit 2
fi
mkdir -p "$(dirname "$doc")" "$charts"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
"$bin" "${args[@]}" >"$tmp"
skipped=$(grep -c '^\*\*Verdict:\*\* \(could not\|the store failed\)' "$tmp" || true)

{
  echo "# The postmortem's tables, measured here"
  echo
  echo "Written by \`bench/seed/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); command:"
  echo "\`oomkit $shown\`. Load average when the run"
  echo "started: $load."
  echo
  echo "Each section says what was measured, gives the figures, and ends with a"
  echo "verdict that the program derives from them: the postmortem's claim holds,"
  echo "or this machine disagrees and why. Tables that could not run: $skipped."
  echo
  echo "Notes:"
  echo
  echo "- The machine is shared (other builds and a CI run of the whole tree may"
  echo "  be going on): times are the process's CPU time, which leaves out waiting"
  echo "  for a CPU, but caches and memory bandwidth are shared all the same, so"
  echo "  times are indicative; allocation counts and bytes are exact."
  echo "- The postmortem's own figures are not reproduced beside these (they are"
  echo "  not in this repository); the verdicts compare directions, as the postmortem's tables do."
  echo "- Table 1's L1d misses come from the CPU's counters when perf_event_open"
  echo "  works, else (full run only) from cachegrind's simulated D1 misses; the"
  echo "  table says which."
  echo "- Each table has a bar chart of its headline column in seed-charts/."
  echo "- For scale: the research notes on the store estimate 80-100 bytes per"
  echo "  leaf entry for the postmortem's nested Go maps (derived, not measured);"
  echo "  table 3's nested GLib row is the measured C counterpart."
  echo "- Tables run in the order 2, 7, 3, 5, 6, 4, 1 (the priority they were"
  echo "  built in); each keeps the postmortem's number."
  echo
  tail -n +2 "$tmp"
} >"$doc"
echo "bench/seed/run.sh: wrote $doc"

#!/usr/bin/env bash
# bench/store/run.sh: the store benchmark of `make bench`. Generates the
# 100k-object workload (with the reference gen_state.py when
# OOMKIT_GEN_STATE_PY names it, else `oomkit gen-state`), runs
# `oomkit bench store` on it once (the store and its C peers; the Go and C++
# peers of bench/peers/run.sh are merged in when that script is present)
# and writes docs/benchmarks.md with its chart docs/benchmarks.svg.
#
# Environment:
#   OOMKIT_BIN                    the oomkit binary (default: <repo>/build/oomkit)
#   OOMKIT_BUILD_DIR              scratch space goes to $OOMKIT_BUILD_DIR/bench-store
#                                 (default: <repo>/build)
#   OOMKIT_BENCH_OBJECTS          objects in the workload (default 100000)
#   OOMKIT_BENCH_RECONCILE_CYCLES clear+refill cycles (default 100)
#   OOMKIT_BENCH_PEERS            0 skips bench/peers/run.sh
#   OOMKIT_BENCH_PEERS_JSON       reuse these bench/peers JSON lines instead of
#                                 running the peers again (same workload!)
#   OOMKIT_BENCH_CLOCK            wall | cpu (default: cpu when the load average
#                                 is at least the number of CPUs, else wall)
#   OOMKIT_BENCH_DOC              where to write (default: <repo>/docs/benchmarks.md)
#   OOMKIT_GEN_STATE_PY           the reference workload generator, gen_state.py
#                                 (byte-identical input to other implementations')
#   OOMKIT_BENCH_HIT_ROUNDS       alternating rounds of the store's and Go's flat
#                                 map's hit lookups after the run (default 5; 0: none)
#   OOMKIT_BENCH_CPU              the CPU the measuring thread of every program is
#                                 pinned to (bench/bench_cpu.h); default the last
#                                 CPU the script may run on, empty for none
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# Every program compared side by side is timed on the same CPU: the vCPUs
# of a virtual machine can differ by 2x for memory-bound work. By default
# the last CPU this script may run on (a container's cpuset need not start
# at 0); none when that cannot be read.
export OOMKIT_BENCH_CPU=${OOMKIT_BENCH_CPU-$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' \
  /proc/self/status 2>/dev/null | sed 's/.*[,-]//')}
build=${OOMKIT_BUILD_DIR:-$repo/build}
bin=${OOMKIT_BIN:-$build/oomkit}
objects=${OOMKIT_BENCH_OBJECTS:-100000}
cycles=${OOMKIT_BENCH_RECONCILE_CYCLES:-100}
doc=${OOMKIT_BENCH_DOC:-$repo/docs/benchmarks.md}
work=$build/bench-store

if [ ! -x "$bin" ]; then
  echo "bench/store/run.sh: $bin is not built (run: make build)" >&2
  exit 2
fi
mkdir -p "$work" "$(dirname "$doc")"
# Absolute, because the benchmark runs from the scratch directory so that
# only the file's own name lands in the report.
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
tsv=$work/state-$objects.tsv

# The workload: the reference generator keeps results comparable with the
# other implementations measured on byte-identical input.
reference=${OOMKIT_GEN_STATE_PY:-}
if [ -f "$reference" ] && command -v python3 >/dev/null 2>&1; then
  gen_cmd="gen_state.py --objects $objects"
  echo "bench/store/run.sh: generating $tsv with $gen_cmd" >&2
  python3 "$reference" --objects "$objects" >"$tsv"
else
  gen_cmd="oomkit gen-state --objects $objects"
  echo "bench/store/run.sh: generating $tsv with $gen_cmd" >&2
  "$bin" gen-state --objects "$objects" -o "$tsv"
fi

# Peers in other languages, on the same file, when their script is there.
merge=()
peers_note="bench/peers/run.sh was not run."
if [ -n "${OOMKIT_BENCH_PEERS_JSON:-}" ]; then
  cp "$OOMKIT_BENCH_PEERS_JSON" "$work/peers.jsonl.reused"
  mv "$work/peers.jsonl.reused" "$work/peers.jsonl"
  merge=(--merge peers.jsonl)
  peers_note="the bench/peers/run.sh lines of an earlier run on the same file were merged in (marked †; their times are wall time)."
elif [ "${OOMKIT_BENCH_PEERS:-1}" != 0 ] && [ -f "$repo/bench/peers/run.sh" ]; then
  echo "bench/store/run.sh: running bench/peers/run.sh on the same workload" >&2
  peers_rc=0
  # As many lookups as oomkit bench store makes (one per entry): fewer
  # would let a peer's later passes find more of their keys in cache.
  entries=$(wc -l <"$tsv")
  OOMKIT_BUILD_DIR=$build OOMKIT_BIN=$bin bash "$repo/bench/peers/run.sh" --lookups "$entries" \
    "$tsv" >"$work/peers.jsonl" 2>"$work/peers.log" || peers_rc=$?
  if [ -s "$work/peers.jsonl" ]; then
    merge=(--merge peers.jsonl)
    peers_note="bench/peers/run.sh ran on the same file (exit $peers_rc); its structures are marked †."
  else
    peers_note="bench/peers/run.sh printed nothing (exit $peers_rc; see peers.log in the scratch directory)."
  fi
fi

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
clock=${OOMKIT_BENCH_CLOCK:-}
if [ -z "$clock" ]; then
  # A machine busier than its CPU count would bill the queueing to
  # whichever structure happened to be measured then.
  clock=$(awk -v n="$(nproc)" '{ print ($1 >= n) ? "cpu" : "wall" }' /proc/loadavg)
fi
clock_opt=()
[ "$clock" = cpu ] && clock_opt=(--cpu-clock)
# Single hits of the store and of Go's flat map are close, and this
# machine's speed drifts more than their difference between the minutes of
# one run (docs/benchmarks-store-1m.md): so before the main run the two
# also run one after the other, alternating, and the rounds are reported
# side by side.
hit_rounds=${OOMKIT_BENCH_HIT_ROUNDS:-5}
go_bin=${OOMKIT_PEERS_DIR:-$build/peers}/peers-go
json_num() { # key file: the first number of "key" in a JSON file
  sed -n "s/.*\"$1\": *\([0-9.eE+-]*\).*/\1/p" "$2" | head -n1
}
alternating=""
if [ "$hit_rounds" -gt 0 ] && [ -x "$go_bin" ]; then
  entries=$(wc -l <"$tsv")
  rows="" ratios="" # ratios: one line per finished round
  for ((round = 1; round <= hit_rounds; round++)); do
    echo "bench/store/run.sh: hit lookups, round $round of $hit_rounds (store, then go-flat)" >&2
    store_hit="" store_batch="" go_hit=""
    if (cd "$work" && "$bin" bench store --tsv "state-$objects.tsv" --structures oomkit-store \
          --reconcile-cycles 1 "${clock_opt[@]}" --json --quiet >hit-store.json) &&
       "$go_bin" -mode flat -tsv "$tsv" -lookups "$entries" >"$work/hit-go.json"; then
      store_hit=$(json_num hit_ns "$work/hit-store.json")
      store_batch=$(json_num batch_hit_ns "$work/hit-store.json")
      go_hit=$(json_num hit_ns "$work/hit-go.json")
    fi
    if [ -z "$store_hit" ] || [ -z "$go_hit" ]; then
      rows+="| $round | failed (see the scratch directory's hit-*.json) | | | |"$'\n'
      continue
    fi
    ratio=$(awk -v g="$go_hit" -v s="$store_hit" 'BEGIN { printf "%.2f", g / s }')
    ratios+="$ratio"$'\n'
    rows+="| $round | $store_hit | $store_batch | $go_hit | $ratio |"$'\n'
  done
  median=$(printf '%s' "$ratios" | sort -n | awk '{ r[NR] = $1 } END { if (NR) print r[int((NR + 1) / 2)] }')
  summary=$(printf '%s' "$ratios" | awk -v m="$median" '
    { if ($1 > 1.05) ahead++; else if ($1 < 0.95) behind++ }
    END {
      if (NR == 0) { printf "no round finished"; exit }
      verdict = m > 1.05 ? "the store is faster" : m < 0.95 ? "the store is slower" : "the two tie (within 5%)"
      printf "median go-flat / store %.2f: %s; the store ahead by more than 5%% in %d of %d rounds, behind by more than 5%% in %d", m, verdict, ahead + 0, NR, behind + 0
    }')
  # The go-flat hit target of the run below is decided by these rounds
  # (report.c): the run compares two programs run minutes apart.
  if [ -n "$median" ]; then
    printf '{"name": "go-flat-hit-rounds", "go_flat_over_store_median": %s, "rounds": %d}\n' \
      "$median" "$hit_rounds" >>"$work/peers.jsonl"
    merge=(--merge peers.jsonl)
  fi
  alternating="## Hit lookups against Go's flat map, alternating

The store's single hits and Go's flat map's are close, and this machine's
speed drifts more than their difference between the minutes of one run. So
before the run above, \`oomkit bench store --structures oomkit-store\` and
\`peers-go -mode flat\` (bench/peers/go) ran $hit_rounds times, one after
the other, on the same file with one lookup per entry (the fastest of three
passes each), both pinned to CPU ${OOMKIT_BENCH_CPU:-none}.

| round | store hit ns | store get_many ns | go-flat hit ns | go-flat / store |
|---:|---:|---:|---:|---:|
$rows
Over the $hit_rounds rounds: $summary.
"
elif [ "$hit_rounds" -gt 0 ]; then
  alternating="## Hit lookups against Go's flat map, alternating

Not run: no Go peer at $(basename "$(dirname "$go_bin")")/peers-go (bench/peers/run.sh builds it
when Go is installed).
"
fi

started=$(date -u '+%Y-%m-%d %H:%M UTC')
cmd=(oomkit bench store --tsv "state-$objects.tsv" --reconcile-cycles "$cycles" "${clock_opt[@]}")
echo "bench/store/run.sh: ${cmd[*]}" >&2
(cd "$work" && "$bin" bench store --tsv "state-$objects.tsv" --reconcile-cycles "$cycles" "${clock_opt[@]}" \
  --markdown --json-out store.json --svg chart.svg "${merge[@]}" >results.md)
svg=${doc%.md}.svg
cp "$work/chart.svg" "$svg"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

cpu_model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1)
cpu_count=$(nproc 2>/dev/null || echo "?")
glib=$(pkg-config --modversion glib-2.0 2>/dev/null || echo "?")
uthash=$(dpkg-query -W -f='${Version}' uthash-dev 2>/dev/null || echo "?")
cc_version=$(cc --version 2>/dev/null | head -n1 || echo "?")
# The build type changes the store's speed (docs/architecture.md, "Build type").
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null | head -n1 ||
  true)

others=""
for f in "$repo"/docs/benchmarks-*.md; do
  [ -f "$f" ] || continue
  name=$(basename "$f")
  others+="- [$name]($name)"$'\n'
done
[ -n "$others" ] || others="- (none yet)"$'\n'

{
  cat <<EOF
# oomkit benchmarks

The store against the C structures a programmer would write for the
incident's state (\`map[namespace]map[name]map[key]int64\`), measured in one
run on the same input by \`oomkit bench store\` (bench/store/). Regenerate
with \`make bench\` or \`bench/store/run.sh\`.

## Run

- date: $started
- machine: ${cpu_model:-unknown CPU}, $cpu_count CPUs, Linux $(uname -r)
- load average before / after: $load_before / $load_after. The machine is
  shared with other builds and benchmarks, so times are noisy (only
  indicative, within tens of percent, and the ranking of close figures can
  flip between runs); allocation counts are deterministic, and so are
  bytes to within about 1% (the store's vary with how often its grace
  periods ran during the build: 18.9 to 19.1 B/entry at 100k).
- clock: $clock time (\`--cpu-clock\` is chosen when the load average is at
  least the CPU count). Lookups are the fastest of three passes, the
  structures taking turns pass by pass.
- workload: \`$gen_cmd\` (docs/architecture.md, "Workload format")
- command: \`${cmd[*]}\`
- compiler: $cc_version, CMake build type ${build_type:-unknown}; GLib $glib; uthash $uthash
- $peers_note

## Results

![bytes per entry and hit lookup time, every structure]($(basename "$svg"))

$(cat "$work/results.md")

$alternating
## What is measured

- **bytes/entry**: the heap in use (glibc \`mallinfo2()\` uordblks + hblkhd)
  after building from empty, minus before, over the entries. Everything the
  structure owns counts: tables, nodes, string copies, allocator headers.
  The input lines stay in one buffer outside the measurement. The store
  frees what it removed while growing only once readers have left, so the
  heap is read after \`oomkit_store_reclaim\` has freed it (the report
  says how much waited); slab space it grew while that waited still counts.
- **allocs/entry**: calls to malloc, calloc, realloc and the aligned
  allocators during the build, counted by a malloc interposed in
  \`oomkit-bench\` (a program of its own so the \`oomkit\` command keeps
  glibc's malloc untouched).
- **hit / miss ns**: one lookup of every entry in a shuffled order, through
  each structure's string API; a miss asks an existing object for a key it
  lacks. A query reads its three strings from the entry's own record and
  input line, as the Go peers' queries do. Answers are checked (the sum of
  the values found must match).
- **get_many hit ns**: the same hits in the same order through the store's
  batched lookup, \`oomkit_store_get_many\`, 64 per call (the peers have no
  batched API: —). Answers are checked the same way.
- **delete object**: 1,000 random objects, each with all its fields.
  glib-flat has no object index: it is handed the object's keys and removes
  them one by one, its most favourable case.
- **list biggest ns**: the names of every object of the biggest namespace
  (fastest of three); glib-flat must scan every entry.
- **reconcile**: clear the whole state and refill it, after one warm-up
  cycle; allocations and time per cycle. The GLib peers clear with
  \`g_hash_table_remove_all\` on the top table (freeing the nested tables),
  uthash walks and frees every item, the store calls \`oomkit_store_clear\`,
  which keeps its capacity. The peers refill entry by entry; the store
  refills object by object (\`oomkit_store_put_fields\`, one write per
  object, as a reconcile loop that computes each object's state writes
  it), and the sentence under the table gives its entry-by-entry figures
  too.
- **worst / p99.9 write µs**: a fresh structure built from empty, then
  100,000 random objects (all of them in a smaller workload) deleted and
  put back field by field, the same sequence for every structure; every
  single put and delete-object call is timed alone, the worst and the
  99.9th percentile (within 1.6%) are reported, and the text under the
  table gives the worst of each phase. A table that grows by rehashing
  everything at once stalls one write for the whole rehash. After each
  write the writing thread's page-fault and involuntary context-switch
  counts are read (outside the timed window), so a write that waited on
  the kernel, for a fresh page or for the CPU, is told apart from the
  structure's own work; a bare clock loop as long as the store's write
  phase gives the machine's own gaps over 1 ms to compare.

The peers: **glib-nested** is a GHashTable of GHashTable of GHashTable with
every string copied by \`g_strdup\`, the C twin of the incident;
**glib-flat** one GHashTable keyed by the \`g_strconcat\`'ed "ns/name/key";
both store the int64 in the value pointer (no boxing, their cheapest
layout). **uthash** is nested the same way, one malloc per item with the
string inline. For scale, on the same file Go 1.19's nested maps hold 87.5
B/entry, its flat \`map[string]int64\` 116.5 and \`sync.Map\` 164.8 (an earlier measurement with Go 1.19; this run's Go peers are in the table).

## Other benchmarks

$others
EOF
} >"$doc"
echo "bench/store/run.sh: wrote $doc" >&2

#!/usr/bin/env bash
# bench/peers/run.sh: builds oomkit's benchmark peers and runs each on one
# TSV workload, printing one JSON object per line on stdout. `oomkit bench
# store` calls it and merges the lines into its table; it also runs alone.
#
# Usage:
#   bench/peers/run.sh [options] TSV_FILE
#     --only LIST        comma-separated subset of: go, absl, concurrent
#                        (default: all three)
#     --seconds S        length of each concurrent run (default 3)
#     --rounds R         runs of each concurrent program, taking turns with the
#                        others; each line reports the median run (default 5)
#     --readers CSV      reader counts of the concurrent runs (default 1,2, plus
#                        one reader per core when there are more than 2 cores)
#     --writes-per-s W   writer rate of the concurrent runs (default 10000)
#     --lookups N        random hit and miss lookups per structure (default 200000)
#   bench/peers/run.sh   (no file: as called by `make bench`) does nothing
#                        when bench/store/run.sh exists, since that script
#                        runs the peers on its own workload and merges them
#                        into docs/benchmarks.md; otherwise it generates the
#                        100k-object workload with `oomkit gen-state` when the
#                        built oomkit has it, else says why and exits 0.
#
# Environment:
#   OOMKIT_BUILD_DIR   the CMake build tree whose liboomkit.a the store peer
#                      links (default: <repo>/build)
#   OOMKIT_PEERS_DIR   where the peers are built (default: $OOMKIT_BUILD_DIR/peers);
#                      build logs go there too, nothing is written elsewhere
#   CC, CXX, GO        compilers (defaults: cc, c++, go)
#   OOMKIT_BENCH_CPU   the CPU every peer's measuring thread is pinned to
#                      (reader i of a concurrent run: the i-th after it; see
#                      bench/bench_cpu.h); default the last CPU the script may
#                      run on, empty: none
#
# Output lines, one per structure (single-threaded) or per structure and
# reader count (concurrent):
#   {"name":"go-nested","entries":N,"bytes_per_entry":..,"allocs_per_entry":..,
#    "build_ns_per_entry":..,"hit_ns":..,"miss_ns":..,"delete_object_ns":..,
#    "list_namespace_ns":..,"reconcile_allocs_per_cycle":..,
#    "reconcile_ns_per_cycle":.., ...extra fields}
#   {"name":"urcu-lfht-concurrent","readers":2,"reads_per_s":..,"worst_write_us":..,
#    "rounds":3,"reads_per_s_min":..,"reads_per_s_max":.., ...}
#     (reads_per_s counts keys looked up: a batched reader's call counts each
#     of its keys; it is the median of the rounds, the other fields but the
#     range are from that round; worst_write_us is the slowest single put or
#     delete of the writer in any round, timed around that call alone, the
#     same way for every backend)
#   {"name":"absl-flat","not_built":"why"}     a peer that cannot build here
#   {"name":"go-flat","failed":"why"}          a peer that built but failed
# Names: go-nested go-flat go-syncmap absl-flat go-syncmap-concurrent
#   go-rwmutex-concurrent glib-rwlock-concurrent urcu-lfht-concurrent
#   oomkit-store-concurrent oomkit-store-batched-concurrent (the store's
#   readers calling oomkit_store_get_many, 64 keys per call)
#   ideal-concurrent ideal-batched-concurrent (the values alone in an array,
#   each query hashed straight to its slot: a ceiling no structure can pass
#   on this machine in this harness; concurrent/backend_ideal.c). Every name of
#   the selected groups (all of them without --only) appears on at least one
#   line.
#
# Exit: 0 when every peer printed its line(s) (not_built lines included),
# 2 bad usage or unreadable TSV file, 3 when a built peer failed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# Every program compared side by side is timed on the same CPU: the vCPUs
# of a virtual machine can differ by 2x for memory-bound work. By default
# the last CPU this script may run on (a container's cpuset need not start
# at 0); none when that cannot be read.
export OOMKIT_BENCH_CPU=${OOMKIT_BENCH_CPU-$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' \
  /proc/self/status 2>/dev/null | sed 's/.*[,-]//')}

only="go,absl,concurrent" seconds=3 rounds=5 readers="1,2" wps=10000 lookups=200000 tsv=""
cores=$(nproc 2>/dev/null || echo 2)
[ "$cores" -gt 2 ] 2>/dev/null && readers="1,2,$cores"
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only=${2:-}; shift 2 ;;
    --seconds) seconds=${2:-}; shift 2 ;;
    --rounds) rounds=${2:-}; shift 2 ;;
    --readers) readers=${2:-}; shift 2 ;;
    --writes-per-s) wps=${2:-}; shift 2 ;;
    --lookups) lookups=${2:-}; shift 2 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [ -z "$tsv" ] || { echo "run.sh: one TSV file only" >&2; exit 2; }
       tsv=$1; shift ;;
  esac
done

build_dir=${OOMKIT_BUILD_DIR:-$repo/build}
out=${OOMKIT_PEERS_DIR:-$build_dir/peers}
mkdir -p "$out" || { echo "run.sh: cannot create $out" >&2; exit 2; }
out=$(cd "$out" && pwd)

if [ -z "$tsv" ]; then
  bin=${OOMKIT_BIN:-$build_dir/oomkit}
  if [ -f "$repo/bench/store/run.sh" ]; then
    echo "run.sh: no TSV file given; the peers run inside bench/store/run.sh" \
         "(oomkit bench store --merge), so there is nothing to do here" >&2
    exit 0
  elif [ -x "$bin" ] && "$bin" gen-state --help >/dev/null 2>&1; then
    tsv=$out/state-100k.tsv
    echo "run.sh: generating $tsv with oomkit gen-state --objects 100000" >&2
    "$bin" gen-state --objects 100000 >"$tsv" || { echo "run.sh: gen-state failed" >&2; exit 3; }
  else
    echo "run.sh: no TSV file given and no 'oomkit gen-state' in $build_dir;" \
         "run: bench/peers/run.sh FILE (oomkit bench store runs the peers too)" >&2
    exit 0
  fi
fi
[ -r "$tsv" ] && [ -s "$tsv" ] || { echo "run.sh: cannot read $tsv" >&2; exit 2; }
case "$seconds$wps$lookups" in *[!0-9.]*) echo "run.sh: bad number" >&2; exit 2 ;; esac
case "$rounds" in ''|*[!0-9]*) rounds=0 ;; esac
[ $((10#$rounds)) -ge 1 ] || { echo "run.sh: --rounds wants a whole number from 1" >&2; exit 2; }
case "$readers" in ''|*[!0-9,]*) echo "run.sh: bad --readers" >&2; exit 2 ;; esac

want() { case ",$only," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

# One line of text as a JSON string body: backslashes and quotes escaped,
# control characters dropped, at most 300 characters.
json_str() { printf '%s' "$1" | tr -d '\000-\037' | cut -c1-300 | sed 's/\\/\\\\/g; s/"/\\"/g'; }
not_built() { # reason names...
  local why; why=$(json_str "$1"); shift
  for n in "$@"; do printf '{"name":"%s","not_built":"%s"}\n' "$n" "$why"; done
}
status=0
failed() { # reason names...
  local why; why=$(json_str "$1"); shift
  for n in "$@"; do printf '{"name":"%s","failed":"%s"}\n' "$n" "$why"; done
  status=3
}
# The first line of a log that says what went wrong.
first_error() { grep -m1 -iE 'error|undefined|cannot|not found|no such' "$1" || tail -n1 "$1"; }
# stale BIN FILES...: true when BIN is missing or older than any FILE.
stale() {
  local bin=$1; shift
  [ -x "$bin" ] || return 0
  for f in "$@"; do [ "$f" -nt "$bin" ] && return 0; done
  return 1
}
# run_peer LOG NAMES -- CMD...: prints CMD's JSON lines, or failed lines.
run_peer() {
  local log=$1; shift
  local names=()
  while [ "$1" != "--" ]; do names+=("$1"); shift; done
  shift
  local lines rc
  lines=$("$@" 2>"$log"); rc=$?
  [ -n "$lines" ] && printf '%s\n' "$lines"
  if [ $rc -ne 0 ]; then
    failed "exit $rc: $(tail -n1 "$log")" "${names[@]}"
  elif [ -z "$lines" ]; then
    failed "printed nothing" "${names[@]}"
  fi
}

# ---- Go -----------------------------------------------------------------------
go_names=(go-nested go-flat go-syncmap)
goc_names=(go-syncmap-concurrent go-rwmutex-concurrent)
if want go || want concurrent; then
  GO=${GO:-go}
  go_bin=$out/peers-go
  go_ok=0
  if ! command -v "$GO" >/dev/null 2>&1; then
    go_why="no Go toolchain ('$GO' not in PATH; Debian: golang-go)"
  elif ! stale "$go_bin" "$here"/go/*.go "$here/go/go.mod"; then
    go_ok=1
  elif (cd "$here/go" && env GOTOOLCHAIN=local GOPROXY=off GOFLAGS= GO111MODULE=on \
          GOCACHE="$out/go-cache" GOPATH="$out/go-path" \
          "$GO" build -o "$go_bin" .) >"$out/go-build.log" 2>&1; then
    go_ok=1
  else
    go_why="go build failed: $(first_error "$out/go-build.log")"
  fi
  if want go; then
    if [ $go_ok = 1 ]; then
      for m in nested flat syncmap; do
        echo "run.sh: go-$m" >&2
        run_peer "$out/go-$m.log" "go-$m" -- "$go_bin" -mode "$m" -tsv "$tsv" -lookups "$lookups"
      done
    else
      not_built "$go_why" "${go_names[@]}"
    fi
  fi
fi

# ---- C++: absl::flat_hash_map -------------------------------------------------
if want absl; then
  CXX=${CXX:-c++}
  absl_bin=$out/absl-peer
  if ! command -v "$CXX" >/dev/null 2>&1; then
    not_built "no C++ compiler ('$CXX' not in PATH)" absl-flat
  elif ! pkg-config --exists absl_hash absl_raw_hash_set 2>/dev/null; then
    not_built "Abseil not found by pkg-config (absl_hash absl_raw_hash_set; Debian: libabsl-dev)" absl-flat
  elif stale "$absl_bin" "$here/cpp/absl_peer.cc" "$repo/bench/bench_cpu.h" &&
       ! "$CXX" -std=c++17 -O2 -o "$absl_bin" "$here/cpp/absl_peer.cc" \
           $(pkg-config --cflags --libs absl_hash absl_raw_hash_set) >"$out/absl-build.log" 2>&1; then
    not_built "c++ build failed: $(first_error "$out/absl-build.log")" absl-flat
  else
    echo "run.sh: absl-flat" >&2
    run_peer "$out/absl-flat.log" absl-flat -- "$absl_bin" "$tsv" "$lookups"
  fi
fi

# ---- concurrent reads -------------------------------------------------------------
# The programs that can run are queued as jobs (kind, argument); each
# runs --rounds times, taking turns with the others (round 1 of every job,
# then round 2...), so a machine whose speed drifts over minutes slows them
# alike. conc_median then prints one line per structure and reader count.
conc_kinds=() conc_args=()
queue() { conc_kinds+=("$1"); conc_args+=("$2"); }
run_job() { # kind arg
  case $1 in
    c) "$c_bin" "$2" "$tsv" "$readers" "$seconds" "$wps" ;;
    store) "$s_bin" "$2" "$tsv" "$readers" "$seconds" "$wps" ;;
    go) "$go_bin" -mode "${2#go-}-concurrent" -tsv "$tsv" -readers "$readers" \
          -seconds "$seconds" -writes-per-s "$wps" ;;
  esac
}
# Reads JSON lines; prints each not-built or failed line once and, for each
# name and reader count, the line of the round with the median reads/s (the
# lower middle one for an even count), with "rounds", "reads_per_s_min" and
# "reads_per_s_max" added and worst_write_us raised to the worst of all
# rounds.
conc_median() {
  awk '
    function field(key,   m) {
      if (!match($0, "\"" key "\":[0-9.eE+-]+")) return "-1"
      m = substr($0, RSTART, RLENGTH); sub(/^[^:]*:/, "", m); return m
    }
    function num(key) { return field(key) + 0 }
    /"reads_per_s":/ {
      match($0, /"name":"[^"]*"/); k = substr($0, RSTART, RLENGTH) "," num("readers")
      if (!(k in n)) order[++nk] = k
      i = ++n[k]; text[k, i] = field("reads_per_s"); val[k, i] = text[k, i] + 0
      line[k, i] = $0
      w = num("worst_write_us"); if (!(k in worst) || w > worst[k]) worst[k] = w
      next
    }
    !seen[$0]++ { print }
    END {
      for (o = 1; o <= nk; o++) {
        k = order[o]; c = n[k]
        for (i = 1; i <= c; i++) idx[i] = i
        for (i = 2; i <= c; i++)
          for (j = i; j > 1 && val[k, idx[j - 1]] > val[k, idx[j]]; j--) {
            t = idx[j]; idx[j] = idx[j - 1]; idx[j - 1] = t
          }
        l = line[k, idx[int((c + 1) / 2)]]
        if (worst[k] >= 0)
          sub(/"worst_write_us":[0-9.eE+-]+/, sprintf("\"worst_write_us\":%.1f", worst[k]), l)
        sub(/}[[:space:]]*$/, "", l)
        printf "%s,\"rounds\":%d,\"reads_per_s_min\":%s,\"reads_per_s_max\":%s}\n", \
          l, c, text[k, idx[1]], text[k, idx[c]]
      }
    }'
}
if want concurrent; then
  CC=${CC:-cc}
  csrc=$here/concurrent
  cflags=(-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -pthread)
  common=("$csrc/main.c" "$csrc/input.c" "$csrc/harness.c" "$csrc/backend_glib.c"
          "$csrc/backend_lfht.c" "$csrc/backend_ideal.c")
  c_bin=$out/peers-concurrent
  c_ok=0
  if ! command -v "$CC" >/dev/null 2>&1; then
    c_why="no C compiler ('$CC' not in PATH)"
  elif ! pkg-config --exists glib-2.0 liburcu-bp liburcu-cds libxxhash 2>/dev/null; then
    c_why="pkg-config lacks one of glib-2.0 liburcu-bp liburcu-cds libxxhash"
  elif ! stale "$c_bin" "$csrc"/*.c "$csrc"/*.h "$repo/bench/bench_cpu.h"; then
    c_ok=1
  elif "$CC" "${cflags[@]}" -o "$c_bin" "${common[@]}" \
         $(pkg-config --cflags --libs glib-2.0 liburcu-bp liburcu-cds libxxhash) \
         >"$out/concurrent-build.log" 2>&1; then
    c_ok=1
  else
    c_why="cc build failed: $(first_error "$out/concurrent-build.log")"
  fi
  if [ $c_ok = 1 ]; then
    for b in glib-rwlock urcu-lfht ideal ideal-batched; do queue c "$b"; done
  else
    not_built "$c_why" glib-rwlock-concurrent urcu-lfht-concurrent ideal-concurrent \
      ideal-batched-concurrent
  fi

  # The store: the same program linked against the build tree's liboomkit.a,
  # run twice: readers calling oomkit_store_get, then oomkit_store_get_many.
  # Whether oomkit_store_* links is decided by linking, nothing else.
  s_bin=$out/peers-concurrent-store
  lib=$build_dir/liboomkit.a
  store_names=(oomkit-store-concurrent oomkit-store-batched-concurrent)
  if [ $c_ok != 1 ]; then
    not_built "$c_why" "${store_names[@]}"
  elif [ ! -f "$lib" ]; then
    not_built "no liboomkit.a in the build tree (set OOMKIT_BUILD_DIR; build it first)" \
      "${store_names[@]}"
  else
    # Every library liboomkit might need; --as-needed drops the unused ones.
    deps=()
    for p in liburcu-bp liburcu-cds libxxhash zlib json-c libunwind libdw yaml-0.1 \
             libcurl libmicrohttpd; do
      pkg-config --exists "$p" 2>/dev/null && deps+=("$p")
    done
    s_ok=1
    if stale "$s_bin" "$csrc"/*.c "$csrc"/*.h "$repo/bench/bench_cpu.h" "$lib" "$repo/include/oomkit/store.h"; then
      "$CC" "${cflags[@]}" -DPEERS_WITH_STORE -I"$repo/include" -o "$s_bin" \
        "${common[@]}" "$csrc/backend_store.c" "$lib" -Wl,--as-needed \
        $(pkg-config --cflags --libs glib-2.0 "${deps[@]}") -lm -ldl \
        >"$out/store-build.log" 2>&1 || s_ok=0
    fi
    if [ $s_ok = 1 ]; then
      for b in oomkit-store oomkit-store-batched; do queue store "$b"; done
    else
      not_built "the oomkit store does not link yet: $(first_error "$out/store-build.log")" \
        "${store_names[@]}"
    fi
  fi

  if [ ${go_ok:-0} = 1 ]; then
    for m in syncmap rwmutex; do queue go "go-$m"; done
  else
    not_built "$go_why" "${goc_names[@]}"
  fi

  for ((round = 1; round <= rounds; round++)); do
    for i in "${!conc_kinds[@]}"; do
      name=${conc_args[i]}-concurrent
      echo "run.sh: $name (round $round of $rounds)" >&2
      run_peer "$out/$name.log" "$name" -- run_job "${conc_kinds[i]}" "${conc_args[i]}"
    done
  done > "$out/concurrent-rounds.jsonl"
  conc_median < "$out/concurrent-rounds.jsonl"
fi
exit $status

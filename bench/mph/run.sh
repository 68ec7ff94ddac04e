#!/usr/bin/env bash
# bench/mph/run.sh: the mph benchmark of `make bench`. Generates flattened
# namespace/name/key strings from the workload generator (the reference
# gen_state.py when OOMKIT_GEN_STATE_PY names it, else `oomkit gen-state`),
# runs `oomkit bench mph --keys FILE --json` on 1M keys
# (and 10M when OOMKIT_BENCH_MPH_10M=1), and writes docs/benchmarks-mph.md.
#
# Environment:
#   OOMKIT_BIN             the oomkit binary (default: <repo>/build/oomkit)
#   OOMKIT_BUILD_DIR       scratch space in $OOMKIT_BUILD_DIR/bench-mph
#   OOMKIT_GEN_STATE_PY    the reference workload generator, gen_state.py
#   OOMKIT_BENCH_MPH_KEYS  key counts, space-separated (default "1000000",
#                          or "1000000 10000000" with OOMKIT_BENCH_MPH_10M=1)
#   OOMKIT_BENCH_MPH_PEERS passed to --peers (default: all)
#   OOMKIT_BENCH_MPH_DOC   where to write (default: <repo>/docs/benchmarks-mph.md)
#   OOMKIT_BENCH_MPH_REUSE 1 rewrites the report from the JSON results of the
#                          last run (in the scratch space) without measuring
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${OOMKIT_BUILD_DIR:-$repo/build}
bin=${OOMKIT_BIN:-$build/oomkit}
doc=${OOMKIT_BENCH_MPH_DOC:-$repo/docs/benchmarks-mph.md}
counts=${OOMKIT_BENCH_MPH_KEYS:-}
if [ -z "$counts" ]; then
  counts=1000000
  [ "${OOMKIT_BENCH_MPH_10M:-0}" = 1 ] && counts="1000000 10000000"
fi
work=$build/bench-mph

if [ ! -x "$bin" ]; then
  echo "bench/mph/run.sh: $bin is not built (run: make build)" >&2
  exit 2
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
mkdir -p "$work" "$(dirname "$doc")"

reference=${OOMKIT_GEN_STATE_PY:-}
generate() { # objects -> TSV on stdout
  if [ -f "$reference" ] && command -v python3 >/dev/null 2>&1; then
    # stderr muted: head closing the pipe makes Python print a
    # BrokenPipeError; a short output is caught by the line count below.
    python3 "$reference" --objects "$1" 2>/dev/null
  else
    "$bin" gen-state --objects "$1" 2>/dev/null
  fi
}
if [ -f "$reference" ]; then generator="gen_state.py"; else generator="oomkit gen-state"; fi

results=()
for n in $counts; do
  keys=$work/keys-$n.txt
  if [ ! -s "$keys" ]; then
    # About 8.5 entries per object: n/8 objects give a little more than n
    # entries; the first n flattened keys are kept.
    generate $(( n / 8 + 1 )) | awk -F'\t' '{ print $1 "/" $2 "/" $3 }' | head -n "$n" \
      > "$keys.tmp" || true # head closes the pipe early, on purpose
    if [ "$(wc -l < "$keys.tmp")" -ne "$n" ]; then
      echo "bench/mph/run.sh: the generator gave fewer than $n keys" >&2
      exit 3
    fi
    mv "$keys.tmp" "$keys"
  fi
  echo "bench/mph: $n keys" >&2
  out=$work/result-$n.json
  if [ "${OOMKIT_BENCH_MPH_REUSE:-0}" = 1 ] && [ -s "$out" ]; then
    results+=("$out")
    continue
  fi
  (cd "$work" && "$bin" bench mph --keys "$(basename "$keys")" --json \
      ${OOMKIT_BENCH_MPH_PEERS:+--peers "$OOMKIT_BENCH_MPH_PEERS"}) > "$out"
  cat "$out" >&2
  results+=("$out")
done

python3 - "$doc" "$generator" "$(uname -srm)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" "$(nproc)" "$(cat /proc/loadavg | cut -d' ' -f1-3)" "${results[@]}" <<'EOF'
import json, sys, datetime
doc, gen, kernel, cpu, ncpu, load = sys.argv[1:7]
files = sys.argv[7:]
out = []
w = out.append
w("# mph benchmark\n")
w("Written by `bench/mph/run.sh` (`make bench`); do not edit by hand.\n")
import os
when = max(os.path.getmtime(f) for f in files) if files else 0
w(f"- Date: {datetime.datetime.utcfromtimestamp(when).strftime('%Y-%m-%d %H:%M UTC')} (when the last result was measured)")
w(f"- Machine: {cpu}, {ncpu} CPUs, {kernel}; load average when this report was written {load}")
w(f"- Keys: flattened `namespace/name/key` strings from `{gen} --objects N/8 + 1`, first N lines")
w("- Command: `oomkit bench mph --keys keys-N.txt --json`")
w("- Times are the benchmark thread's CPU time (CLOCK_THREAD_CPUTIME_ID), per key; wall time in")
w("  the JSON. Lookups run over all keys in one fixed random order, keys streamed from a")
w("  contiguous copy in that order. `floor` hashes each key (XXH3) and reduces it to a range:")
w("  no structure can answer faster. CMPH has no batched API.")
w("- On a shared machine (other builds and benchmarks running) CPU times still move by")
w("  +-30-50% between runs: read ratios, not digits.\n")
for f in files:
    d = json.load(open(f))
    n = d["keys"]
    w(f"## {n:,} keys (mean {d['mean_key_bytes']} bytes)\n")
    w("| structure | bijection | bits/key | build s (CPU) | lookup ns/key | batched ns/key |")
    w("|---|---|---|---|---|---|")
    res = d["results"]
    for r in res:
        b = "-" if r["batched_ns"] is None else f"{r['batched_ns']:.1f}"
        bits = "-" if r["name"].startswith("floor") else f"{r['bits_per_key']:.3f}"
        build = "-" if r["name"].startswith("floor") else f"{r['build_s']:.2f}"
        w(f"| {r['name']} | {'yes' if r['ok'] else 'NO'} | {bits} | {build} | {r['lookup_ns']:.1f} | {b} |")
    ours = next((r for r in res if r["name"] == "oomkit-mph"), None)
    cm = [r for r in res if r["name"].startswith("cmph") and r["ok"]]
    if ours and cm:
        best = min(cm, key=lambda r: r["lookup_ns"])
        fastest_build = min(cm, key=lambda r: r["build_s"])
        w("")
        w(f"- oomkit-mph single lookup vs the fastest CMPH ({best['name']}): "
          f"{best['lookup_ns'] / ours['lookup_ns']:.1f}x faster; batched: "
          f"{best['lookup_ns'] / ours['batched_ns']:.1f}x.")
        w(f"- Build: {ours['build_s']:.2f} s CPU vs {fastest_build['build_s']:.2f} s for the "
          f"fastest CMPH build ({fastest_build['name']}).")
        w(f"- Size: {ours['bits_per_key']:.3f} bits/key (target <= 2.7, cap 3.0).")
    w("")
open(doc, "w").write("\n".join(out) + "\n")
EOF
echo "bench/mph: wrote $doc" >&2

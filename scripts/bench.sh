#!/usr/bin/env bash
# make bench: runs every component's benchmark script, bench/<comp>/run.sh,
# with the built tree in ./build. Each script writes docs/benchmarks-<comp>.md;
# one failing benchmark is reported and the others still run.
set -uo pipefail
cd "$(dirname "$0")/.."
export OOMKIT_BIN="$PWD/build/oomkit" OOMKIT_BUILD_DIR="$PWD/build"
failed=()
for script in bench/*/run.sh; do
  [ -f "$script" ] || continue
  comp=$(basename "$(dirname "$script")")
  echo "=== bench: $comp"
  if ! bash "$script"; then
    echo "bench: $comp FAILED" >&2
    failed+=("$comp")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench: failed: ${failed[*]}" >&2
  exit 1
fi

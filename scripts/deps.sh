#!/usr/bin/env bash
# Installs the Debian packages a make target needs, and only those missing.
# Usage: scripts/deps.sh build|test|bench|demo ...
# Several processes may hold the dpkg lock (unattended upgrades, another
# session), so every apt call waits for it instead of failing.
set -euo pipefail

pkgs_build=(build-essential cmake pkg-config clang libclang-rt-dev
            libxxhash-dev liburcu-dev zlib1g-dev libunwind-dev libdw-dev libelf-dev
            libmicrohttpd-dev libcurl4-openssl-dev libjson-c-dev libyaml-dev
            libcmocka-dev libglib2.0-dev uthash-dev)
# Real components the tests talk to: go tool pprof, Prometheus, Alertmanager.
pkgs_test=(golang-go prometheus prometheus-alertmanager elfutils)
# Peers measured side by side in the benchmarks.
pkgs_bench=(libcmph-dev libabsl-dev g++ heaptrack libgoogle-perftools-dev
            google-perftools libjemalloc-dev hyperfine earlyoom)
pkgs_demo=(elfutils)

want=()
for group in "$@"; do
  case "$group" in
    build) want+=("${pkgs_build[@]}") ;;
    test)  want+=("${pkgs_build[@]}" "${pkgs_test[@]}") ;;
    bench) want+=("${pkgs_build[@]}" "${pkgs_test[@]}" "${pkgs_bench[@]}") ;;
    demo)  want+=("${pkgs_build[@]}" "${pkgs_demo[@]}") ;;
    *) echo "deps.sh: unknown group '$group' (build|test|bench|demo)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    *"install ok installed"*) ;;
    *) missing+=("$p") ;;
  esac
done
# Deduplicate while keeping order.
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "deps.sh: missing packages (${missing[*]}) and not root; install them and retry" >&2
    exit 1
  fi
fi
echo "deps.sh: installing ${missing[*]}"
apt_opts=(-o DPkg::Lock::Timeout=600 -q)
# Lists may be absent on a fresh machine; refresh them once, then install.
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  $sudo apt-get "${apt_opts[@]}" update
  $sudo apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"
fi

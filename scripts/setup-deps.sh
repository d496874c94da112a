#!/usr/bin/env bash
# Installs every Debian 12 package that building, testing, the demo and the benchmarks need.
# Idempotent: when everything is present it only runs one `dpkg-query` and exits.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git
  libyaml-cpp-dev libssl-dev openssl libboost1.81-dev
  libcli11-dev nlohmann-json3-dev libre2-dev libspdlog-dev libfmt-dev libsqlite3-dev sqlite3
  libgtest-dev libgmock-dev libbenchmark-dev libgoogle-perftools-dev
  libgraphviz-dev graphviz
  qt6-base-dev qt6-svg-dev qt6-charts-dev libqt6opengl6-dev libgl-dev xvfb xauth
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "setup-deps: installing ${missing[*]}" >&2
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# The package lists may be missing or stale on a fresh machine; one update is enough.
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2

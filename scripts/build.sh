#!/usr/bin/env bash
# Configures and builds one CMake preset (default: release). Shared by test.sh and demo.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
"$(dirname "$0")/setup-deps.sh"
# ccache keeps rebuilds of an unchanged tree cheap, also across fresh clones on one machine.
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_BASEDIR="$PWD"
export CCACHE_NOHASHDIR=1
if [[ ! -f "build/$preset/CMakeCache.txt" ]]; then
  cmake --preset "$preset" >&2
fi
cmake --build --preset "$preset" >&2

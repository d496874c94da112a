#!/usr/bin/env bash
# Installs what is missing, builds, and runs the bookinfo scenario headless.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh release
meshsim=build/release/headless/meshsim
echo "== meshsim validate -f scenarios/bookinfo"
"$meshsim" validate -f scenarios/bookinfo

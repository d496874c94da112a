#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, integration, scenarios).
# Usage: scripts/test.sh [preset]   (presets: release (default), dev, asan)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
scripts/build.sh "$preset"
ctest --preset "$preset" -j2 --timeout 300

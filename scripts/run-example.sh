#!/usr/bin/env bash
# Sets up, builds chorus in Release and runs the launch-review team: three agents in parallel
# (research, draft, risk review) and a synthesis. Without an API key in the environment the
# team runs on the built-in offline model and says so. Extra arguments go to `chorus run`.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target chorus_cli

build/chorus run examples/launch-review.yaml \
  --input request="Launch Quill, our note-taking app, in Germany in Q3" \
  --input notes=@examples/launch-notes.md "$@"

#!/usr/bin/env bash
# Sets up, builds (Release) and runs the whole test suite. With CI=true (or CHORUS_SANITIZE=1)
# it then builds again with AddressSanitizer + UndefinedBehaviorSanitizer and reruns the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
jobs=$(nproc)

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

if [ "${CI:-}" = "true" ] || [ "${CHORUS_SANITIZE:-}" = "1" ]; then
  echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer =="
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCHORUS_SANITIZE=ON \
    -DCHORUS_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs"
fi

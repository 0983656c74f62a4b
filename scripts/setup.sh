#!/usr/bin/env bash
# Installs everything chorus needs to build, test and benchmark on Debian 12 (bookworm).
# Idempotent: packages already present are skipped by apt.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build git ca-certificates
  libcurl4-openssl-dev libssl-dev
  libboost1.81-dev
  nlohmann-json3-dev libyaml-cpp-dev
  libsqlite3-dev sqlite3
  libexpected-dev libcli11-dev
  libre2-dev libpcre2-dev
  wamerican
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format
  nodejs
  procps time
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  echo "setup: installing ${missing[*]}" >&2
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present" >&2
fi

# Tokenizer rank files and golden vectors (gpt-tokenizer, pinned by package-lock.json).
# Debian's nodejs leaves npm to a separate package; NodeSource's bundles it and conflicts with it.
if ! command -v npm >/dev/null; then
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends npm
fi
(cd "$(dirname "$0")/.." && npm ci --ignore-scripts --no-audit --no-fund)

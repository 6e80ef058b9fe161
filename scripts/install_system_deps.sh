#!/usr/bin/env bash
# Install the system packages the local stack (emulators/) needs on Debian bookworm, as root.
#
# Idempotent: a package already installed is skipped, and when nothing is missing the script exits
# without touching apt. `apt-get update` runs at most once, only when something must be installed.
#   postgresql                        Postgres 15 server binaries (/usr/lib/postgresql/15/bin)
#   golang-go, golang-google-cloud-dev  Go toolchain + Google's pstest Pub/Sub fake (built offline)
#   ffmpeg                            ffprobe/ffmpeg for media tests
#   wrk                               HTTP load generator of bench/bench_http.py
#   nodejs, npm                       Firestore emulator (npm @firestore-emulator/server) and the
#                                     web gallery's build (web/), only if no `node`/`npm` is on PATH
#                                     (e.g. NodeSource's nodejs has npm)
#   chromium, fonts-dejavu-core       Debian's Chromium (/usr/bin/chromium) for the browser tests
#                                     (tests/browser, Playwright without a browser download), and a
#                                     font for its screenshots
set -euo pipefail

if [[ "$(id -u)" -ne 0 ]]; then
  echo "install_system_deps.sh: run as root (it uses apt-get)" >&2
  exit 1
fi

missing=()

need_pkg() {
  # Queue a Debian package unless dpkg reports it installed.
  local pkg="$1"
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
}

need_pkg postgresql
need_pkg golang-go
need_pkg golang-google-cloud-dev
need_pkg ffmpeg
need_pkg chromium
need_pkg fonts-dejavu-core
need_pkg wrk
if ! command -v node >/dev/null 2>&1; then
  need_pkg nodejs
fi
if ! command -v npm >/dev/null 2>&1; then
  need_pkg npm
fi

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install_system_deps.sh: all system packages present"
  exit 0
fi

echo "install_system_deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

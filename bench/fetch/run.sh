#!/usr/bin/env bash
# Bulk fetch benchmark (see bench.py): make bench-fetch, or bench/fetch/run.sh [--small 2000 --large 4 ...]
# Installs the reference tools it compares against (aria2, wget, nginx) from Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
missing=""
for p in aria2 wget nginx-light; do dpkg -s $p >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
  # Debian starts the packaged nginx on port 80; the benchmark runs its own on loopback.
  ($SUDO service nginx stop || true) >/dev/null 2>&1
fi
exec .venv/bin/python bench/fetch/bench.py "$@"

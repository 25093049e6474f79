#!/usr/bin/env bash
# Install every Debian package Sluice needs (tools/debian-packages.txt).
# Idempotent: a sentinel keyed by the list's checksum makes the second run
# instant; a changed list installs again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
list="$here/debian-packages.txt"
mapfile -t pkgs < <(grep -v '^\s*#' "$list" | grep -v '^\s*$')
sum=$(sha256sum "$list" | cut -c1-16)
sentinel="/var/cache/sluice-deps-$sum"
installed=$(dpkg-query -W -f='${Status}\n' "${pkgs[@]}" 2>/dev/null | grep -c 'install ok installed' || true)
if [ -f "$sentinel" ] && [ "$installed" = "${#pkgs[@]}" ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# Keep packaged daemons (nginx, haproxy) from starting on install: the tests
# start their own copies on loopback ports.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  made_policy=1
fi
trap '[ "$made_policy" = 1 ] && $SUDO rm -f "$policy"' EXIT
echo "make deps: installing ${#pkgs[@]} Debian packages"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${pkgs[@]}"
$SUDO touch "$sentinel"

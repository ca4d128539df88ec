#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine of this kind lacks for building and testing libanyllm.
# Idempotent and quick when everything is there: apt runs only for missing packages.
set -euo pipefail
APT_PACKAGES=(cmake pkg-config libcurl4-openssl-dev libjansson-dev valgrind g++ make curl openssl
              librust-serde-dev librust-serde-derive-dev librust-serde-json-dev)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
python3 -c "import pytest" 2>/dev/null || python3 -m pip install -q pytest
export PATH="/opt/swift/usr/bin:$PATH"
command -v swift >/dev/null || { echo "Swift 6.3 is required (expected at /opt/swift)"; exit 1; }

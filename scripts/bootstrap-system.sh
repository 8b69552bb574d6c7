#!/usr/bin/env bash
# Installs the Debian packages carenet needs, only those that are missing.
# Called by `make run` / `make test`; safe to run again.
set -euo pipefail

packages=()
have_file() { compgen -G "$1" > /dev/null; }

have_file "/usr/lib/*/mod_spatialite.so*" || packages+=(libsqlite3-mod-spatialite)
if [[ "${CARENET_SKIP_POSTGIS:-0}" != 1 ]]; then
  have_file "/usr/lib/postgresql/*/bin/initdb" || packages+=(postgresql)
  have_file "/usr/share/postgresql/*/extension/postgis.control" || packages+=(postgresql-postgis)
  have_file "/usr/share/postgresql/*/extension/btree_gist.control" || packages+=(postgresql-contrib)
fi
if [[ "${CARENET_SKIP_BROWSER:-0}" != 1 ]]; then
  command -v chromium > /dev/null || packages+=(chromium)
fi
python3 -m venv --help > /dev/null 2>&1 || packages+=(python3-venv)

if ((${#packages[@]} == 0)); then
  exit 0
fi

echo "carenet: installing Debian packages: ${packages[*]}"
SUDO=""
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo > /dev/null || { echo "carenet: need root (or sudo) to apt-get install ${packages[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -qq; then
  echo "carenet: 'apt-get update' failed; check the network or /etc/apt/sources.list, then run make again" >&2
  exit 1
fi
if ! $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" > /tmp/carenet-apt.log 2>&1; then
  tail -20 /tmp/carenet-apt.log >&2
  echo "carenet: apt-get install ${packages[*]} failed (log above, full log in /tmp/carenet-apt.log)" >&2
  exit 1
fi
echo "carenet: Debian packages installed"

#!/usr/bin/env bash
# Runs the whole suite on SpatiaLite and PostGIS. Starts a throwaway PostgreSQL +
# PostGIS cluster unless CARENET_TEST_POSTGRES_URL points at a server already.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

cluster_dir=""
cleanup() { [[ -n "$cluster_dir" ]] && "$BIN/python" -m carenet.db.throwaway_pg stop "$cluster_dir"; }
trap cleanup EXIT

if [[ -z "${CARENET_TEST_POSTGRES_URL:-}" ]]; then
  cluster_dir=$(mktemp -d /tmp/carenet-test-pg.XXXXXX)
  if ! CARENET_TEST_POSTGRES_URL=$("$BIN/python" -m carenet.db.throwaway_pg start "$cluster_dir"); then
    echo "carenet: could not start a throwaway PostgreSQL; see $cluster_dir/server.log" >&2
    exit 1
  fi
  export CARENET_TEST_POSTGRES_URL
  echo "carenet: throwaway PostGIS at $CARENET_TEST_POSTGRES_URL"
fi

export CARENET_REQUIRE_BACKENDS="spatialite,postgis"
# Two workers: the CI machine has 2 cores; each worker gets its own databases.
"$BIN/pytest" -n "${CARENET_TEST_WORKERS:-2}" "$@"

#!/usr/bin/env bash
# `deno task bench`: runs every bench/*.ts in turn and prints their figures.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
for bench in bench/*.ts; do
  echo "== ${bench}"
  deno run --allow-all "${bench}" || status=1
done
exit $status

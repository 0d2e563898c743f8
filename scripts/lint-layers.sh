#!/usr/bin/env bash
# Lint: imports go one way down the layers of DESIGN.md §3 —
#   C targets → Sky, Table → Formats → RunEngine → Registry → Fetch → Pipelines → AstroPileCLI → astropile.
# A module importing one of its own layer or above (Fetch importing Pipelines, RunEngine importing
# Fetch, Registry importing Fetch, …) fails `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
# module: the AstroPile modules it must not import
declare -A forbidden=(
  [Sky]="Table Formats RunEngine Fetch Pipelines AstroPileCLI Foundation"
  [Table]="Sky Formats RunEngine Fetch Pipelines AstroPileCLI Foundation"
  [Formats]="RunEngine Fetch Pipelines AstroPileCLI"
  [RunEngine]="Registry Fetch Pipelines AstroPileCLI Sky Table"
  [Registry]="Fetch Pipelines AstroPileCLI Sky Table"
  [Fetch]="Pipelines AstroPileCLI"
  [Pipelines]="AstroPileCLI"
  [AstroPileCLI]="astropile"
)
status=0
for module in "${!forbidden[@]}"; do
  for bad in ${forbidden[$module]}; do
    if hits=$(grep -rln "^import $bad\$" "Sources/$module" --include='*.swift'); then
      for f in $hits; do echo "$f: $module must not import $bad (layers: DESIGN.md §3)"; done
      status=1
    fi
  done
done
exit "$status"

#!/usr/bin/env bash
# Deploy = package + apply + migrate (docs/RUNBOOKS/DEPLOY.md, "Deploy").
#
#   scripts/deploy.sh terraform/examples/dev [terraform apply options, e.g. -var-file=terraform.tfvars]
#
# Migrations run after the apply: they must be backwards compatible with the functions of the
# previous release (expand, deploy, then contract in a later release). For a release whose
# functions need the new schema first, run scripts/migrate.sh before this (its job already exists).
set -euo pipefail

dir=${1:?usage: scripts/deploy.sh TERRAFORM_DIR [terraform apply options]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)

make -C "$root" package
terraform -chdir="$dir" init -input=false
terraform -chdir="$dir" apply "$@"
"$root/scripts/migrate.sh" "$dir"

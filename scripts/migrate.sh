#!/usr/bin/env bash
# Migrate the database of a deployment: build the migration image, set it on the <prefix>migrate
# Cloud Run job and run the job to completion (terraform/migrate.tf, docs/RUNBOOKS/DEPLOY.md).
#
#   scripts/migrate.sh terraform/examples/dev        # the directory terraform applied in
#
# Needs gcloud signed in as a deployer who may submit builds as the module's build service
# account, update and run the job (roles/run.developer on it) and act as its service account,
# and (the first time) assign Cloud SQL database roles (roles/cloudsql.admin).
set -euo pipefail

dir=${1:?usage: scripts/migrate.sh TERRAFORM_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
out() { terraform -chdir="$dir" output -raw "$1"; }

project=$(out project_id)
region=$(out region)
job=$(out migrate_job)
db_user=$(out migrate_db_user)
instance=$(out sql_instance_name)
build_sa=$(out build_service_account)
source_bucket=$(out functions_source_bucket)
repository=$(out artifact_registry_repository)    # projects/P/locations/R/repositories/NAME
image="${region}-docker.pkg.dev/${project}/${repository##*/}/migrate:$(git -C "$root" rev-parse --short HEAD)"

# Once per instance (idempotent): the migration identity may create and grant roles.
gcloud sql users assign-roles "$db_user" --project="$project" --instance="$instance" \
  --type=CLOUD_IAM_SERVICE_ACCOUNT --database-roles=cloudsqlsuperuser

gcloud builds submit "$root" --project="$project" --region="$region" \
  --config="$root/terraform/migrate/cloudbuild.yaml" --substitutions="_IMAGE=$image" \
  --service-account="projects/$project/serviceAccounts/$build_sa" \
  --gcs-source-staging-dir="gs://$source_bucket/migration-source"
digest=$(gcloud artifacts docker images describe "$image" --project="$project" \
  --format='value(image_summary.fully_qualified_digest)')

gcloud run jobs update "$job" --project="$project" --region="$region" --image="$digest"
gcloud run jobs execute "$job" --project="$project" --region="$region" --wait

# Schema migrations as a Cloud Run job of their own identity: deploy = `terraform apply` + run
# this job (scripts/deploy.sh, docs/RUNBOOKS/DEPLOY.md). The job runs scripts/db_migrate.py:
# it creates the NOLOGIN roles `media_owner` (owns every table) and `media_app` (the functions'
# data access, granted to every function's database user in DB_APP_USERS), then migrates under
# SET ROLE media_owner. Nobody's personal IAM user owns a table, and no Postgres password exists.
#
# The image (terraform/migrate/Dockerfile: the project, its migrations and alembic) is built and
# set by scripts/migrate.sh on every deploy (`gcloud run jobs update --image`); Terraform creates
# the job with migration_image and then leaves the image alone.

resource "google_service_account" "migrate" {
  project      = var.project_id
  account_id   = "${var.name_prefix}migrate"
  display_name = "media pipeline schema migrations"
  description  = "Identity of the migrate Cloud Run job: the database's administrator (cloudsqlsuperuser member), owner of no table."

  depends_on = [google_project_service.enabled]
}

# The migration identity's database user. It becomes a member of cloudsqlsuperuser through the
# Cloud SQL Admin API (scripts/migrate.sh: gcloud sql users assign-roles; provider 6.x has no
# argument for database roles).
resource "google_sql_user" "migrate" {
  project  = var.project_id
  instance = google_sql_database_instance.main.name
  name     = trimsuffix(google_service_account.migrate.email, ".gserviceaccount.com")
  type     = "CLOUD_IAM_SERVICE_ACCOUNT"
  # Postgres cannot drop a role that owns or was granted anything; Terraform forgets it instead.
  deletion_policy = "ABANDON"
}

resource "google_cloud_run_v2_job" "migrate" {
  project             = var.project_id
  name                = "${var.name_prefix}migrate"
  location            = var.region
  labels              = local.labels
  deletion_protection = false

  template {
    task_count = 1

    template {
      service_account = google_service_account.migrate.email
      max_retries     = 0
      timeout         = "1800s"

      dynamic "vpc_access" {
        for_each = var.vpc_connector == null ? [] : [var.vpc_connector]
        content {
          connector = vpc_access.value
          egress    = "PRIVATE_RANGES_ONLY"
        }
      }

      containers {
        image = var.migration_image

        resources {
          limits = {
            cpu    = "1"
            memory = "1Gi"
          }
        }

        dynamic "env" {
          for_each = local.migration_environment
          content {
            name  = env.key
            value = env.value
          }
        }
      }
    }
  }

  lifecycle {
    # scripts/migrate.sh sets the image of each release; gcloud also records itself as client.
    ignore_changes = [template[0].template[0].containers[0].image, client, client_version]
  }

  depends_on = [google_project_iam_member.sql_client, google_project_iam_member.sql_instance_user]
}

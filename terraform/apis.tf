# APIs the pipeline uses. iamcredentials is what signBlob (V4 signed URLs without keys) calls;
# cloudscheduler runs the housekeeping ticks; monitoring holds the alert policies and dashboard
# (logging the log-based metrics). Cloud KMS is used only in the key's own project, if at all.

locals {
  required_services = toset([
    "artifactregistry.googleapis.com",
    "billingbudgets.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "sqladmin.googleapis.com",
    "storage.googleapis.com",
  ])
}

resource "google_project_service" "enabled" {
  for_each = local.required_services

  project                    = var.project_id
  service                    = each.value
  disable_on_destroy         = var.disable_services_on_destroy
  disable_dependent_services = false
}

# Service agents the module grants roles to. On a fresh project a Google-managed service agent
# may not exist yet when its API has just been enabled; generating its identity creates it (or
# returns the existing one), so every grant naming it follows its creation (ordering.tf waits for
# IAM to see it). The Cloud Storage service agent is created the same way by
# data.google_storage_project_service_account (storage.tf).
locals {
  service_agent_services = toset(["pubsub.googleapis.com", "cloudscheduler.googleapis.com"])
}

resource "google_project_service_identity" "agent" {
  provider = google-beta
  for_each = local.service_agent_services

  project = var.project_id
  service = each.value

  depends_on = [google_project_service.enabled]
}

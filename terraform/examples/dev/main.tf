# A development deployment of the media pipeline: public-IP Cloud SQL reached only through the
# connectors (no VPC needed), no deletion protection, functions invocable only with an identity
# token unless allow_unauthenticated_http is set.
#
#   cp terraform/examples/dev/backend.hcl.example terraform/examples/dev/backend.hcl  # edit the bucket
#   scripts/deploy.sh terraform/examples/dev -var-file=terraform.tfvars
#
# (= make package; terraform init; terraform apply; scripts/migrate.sh: docs/RUNBOOKS/DEPLOY.md)
#
# terraform.tfvars sets only variables the module itself also has, so the module can be planned
# directly too: cd terraform && terraform plan -var-file=examples/dev/terraform.tfvars

terraform {
  required_version = ">= 1.11"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.23, < 7.0"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = ">= 6.23, < 7.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.7, < 4.0"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.11, < 1.0"
    }
  }

  # State in a GCS bucket (versioned, uniform access, readable only by the deployers): copy
  # backend.hcl.example to backend.hcl, then `terraform init -backend-config=backend.hcl`.
  # The state holds no secret (the JWT secret is write-only), but names and URLs of everything.
  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region  = var.region
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
}

variable "project_id" {
  type        = string
  description = "Project to deploy the development pipeline into."
}

variable "region" {
  type        = string
  description = "Region of the deployment."
  default     = "europe-west1"
}

variable "allow_unauthenticated_http" {
  type        = bool
  description = "Let devices call create_media / list_media with only their app JWT (see the module README)."
  default     = false
}

variable "http_invoker_members" {
  type        = list(string)
  description = "Principals allowed to invoke the HTTP functions with an identity token."
  default     = []
}

variable "upload_cors_origins" {
  type        = list(string)
  description = "Browser origins allowed to PUT to signed upload URLs."
  default     = []
}

variable "cors_allowed_origins" {
  type        = list(string)
  description = "Browser origins allowed to call the HTTP functions besides the web gallery (e.g. a local dev server)."
  default     = []
}

variable "web_gallery_image" {
  type        = string
  description = "Web gallery image (terraform/web/Dockerfile), pushed by digest; null: no gallery."
  default     = null
}

variable "alert_notification_channels" {
  type        = list(string)
  description = "Notification channels of the rejection-spike and dead-letter alerts."
  default     = []
}

variable "detector_model_object" {
  type        = string
  description = "ONNX detector model in the models bucket (docs/RUNBOOKS/DEPLOY.md); null: local default detectors."
  default     = null
}

variable "detector_model_sha256" {
  type        = string
  description = "SHA-256 of detector_model_object."
  default     = null
}

variable "sql_public_ip_enabled" {
  type        = bool
  description = "Public IP without authorized networks (connector only); true unless a VPC with private services access is wired in."
  default     = true
}

variable "sql_operator_iam_users" {
  type        = list(string)
  description = "People who may log in to Postgres as Cloud SQL IAM users (inspection; migrations run as the migrate job)."
  default     = []
}

module "media_pipeline" {
  source = "../.."

  project_id  = var.project_id
  region      = var.region
  name_prefix = "media-dev-"
  labels      = { env = "dev" }

  allow_unauthenticated_http = var.allow_unauthenticated_http
  http_invoker_members       = var.http_invoker_members
  upload_cors_origins        = var.upload_cors_origins
  cors_allowed_origins       = var.cors_allowed_origins

  # The gallery (optional) and the alerts' channels.
  web_gallery_image           = var.web_gallery_image
  alert_notification_channels = var.alert_notification_channels

  # The object detector's model (optional), uploaded to the models bucket first.
  detector_model_object = var.detector_model_object
  detector_model_sha256 = var.detector_model_sha256

  # No VPC in dev: a public IP without authorized networks, usable only through the connectors.
  sql_public_ip_enabled   = var.sql_public_ip_enabled
  sql_tier                = "db-custom-1-3840"
  sql_deletion_protection = false
  sql_operator_iam_users  = var.sql_operator_iam_users

  firestore_delete_protection = false
  bucket_force_destroy        = true
  quarantine_retention_days   = 7

  # Smaller ceilings in dev; threads and pools follow each function's concurrency.
  function_overrides = {
    process_media   = { max_instance_count = 2 }
    list_media      = { max_instance_count = 4 }
    manage_media    = { max_instance_count = 1 }
    deliver_webhook = { max_instance_count = 1, max_request_concurrency = 1 }
  }
  sql_max_connections = 100
}

output "create_media_url" {
  description = "Where devices POST /v1/media."
  value       = module.media_pipeline.create_media_url
}

output "list_media_url" {
  description = "Where devices and UIs list media and fetch signed downloads."
  value       = module.media_pipeline.list_media_url
}

output "sql_instance_connection_name" {
  description = "For cloud-sql-proxy / alembic through the connector."
  value       = module.media_pipeline.sql_instance_connection_name
}

output "project_id" {
  description = "For scripts/migrate.sh."
  value       = var.project_id
}

output "region" {
  description = "For scripts/migrate.sh."
  value       = var.region
}

output "migrate_job" {
  description = "The Cloud Run job that migrates (scripts/migrate.sh runs it)."
  value       = module.media_pipeline.migrate_job
}

output "migrate_db_user" {
  description = "The migration identity's database user."
  value       = module.media_pipeline.migrate_db_user
}

output "sql_instance_name" {
  description = "The Cloud SQL instance."
  value       = module.media_pipeline.sql_instance_name
}

output "build_service_account" {
  description = "Builds the migration image."
  value       = module.media_pipeline.build_service_account
}

output "functions_source_bucket" {
  description = "Where the migration image's build context is staged."
  value       = module.media_pipeline.functions_source_bucket
}

output "artifact_registry_repository" {
  description = "Where the migration and gallery images are pushed."
  value       = module.media_pipeline.artifact_registry_repository
}

output "db_iam_users" {
  description = "Postgres role names of the functions, for the GRANT statements."
  value       = module.media_pipeline.db_iam_users
}

output "subscription_names" {
  description = "Subscription names, e.g. the dead-letter-inspect pull subscription."
  value       = module.media_pipeline.subscription_names
}

output "web_gallery_url" {
  description = "The web gallery (null without web_gallery_image)."
  value       = module.media_pipeline.web_gallery_url
}

output "models_bucket" {
  description = "Where to upload the detector model."
  value       = module.media_pipeline.models_bucket
}

output "monitoring_dashboard_id" {
  description = "The pipeline's Cloud Monitoring dashboard."
  value       = module.media_pipeline.monitoring_dashboard_id
}

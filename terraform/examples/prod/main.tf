# A production deployment of the media pipeline. What differs from examples/dev, and why:
#
# - Network: Cloud SQL has a private IP only (no public address at all), in a VPC with private
#   services access created here; the functions and the migrate job reach it through a Serverless
#   VPC Access connector (Cloud Functions 2nd gen offer no Direct VPC egress in provider 6.x).
#   connector_enforcement = REQUIRED: only the IAM-authorized connectors may connect.
# - Exposure: no public invoker (allow_unauthenticated_http = false) and ingress
#   ALLOW_INTERNAL_AND_GCLB: the HTTP functions and the gallery answer only through the external
#   HTTPS load balancer of the API origin (its serverless NEGs; the load balancer's identity or
#   IAP's service agent goes in http_invoker_members).
# - Availability: REGIONAL Cloud SQL (a standby in a second zone), deletion protection on
#   everything, warm instances of create_media and list_media (min_instance_count = 1: devices
#   and the gallery never wait for a cold start; about USD 10 a month each).
# - Encryption: kms_key_name encrypts the media buckets with a customer-managed key. Where the
#   organization policy constraints/gcp.restrictNonCmekServices lists more services (Cloud SQL,
#   Pub/Sub, Artifact Registry, Secret Manager), the module does not yet encrypt those with it
#   and the apply is refused: terraform/README.md, "Environments".
# - Audit: Data Access audit logs for Cloud Storage (the module's default), a budget on the
#   billing account, alerts to the on-call channel.
#
#   cp backend.hcl.example backend.hcl                  # the state bucket
#   scripts/deploy.sh terraform/examples/prod -var-file=prod.tfvars

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
  description = "Project of the production pipeline."
}

variable "region" {
  type        = string
  description = "Region of the deployment."
  default     = "europe-west1"
}

variable "http_invoker_members" {
  type        = list(string)
  description = "Identities in front of the HTTP functions and the gallery: the load balancer's or IAP's service agent."
}

variable "kms_key_name" {
  type        = string
  description = "Customer-managed key of the media buckets (projects/P/locations/REGION/keyRings/R/cryptoKeys/K)."
}

variable "alert_notification_channels" {
  type        = list(string)
  description = "The on-call's notification channels."
}

variable "billing_account_id" {
  type        = string
  description = "Billing account of the project, for the budget."
}

variable "budget_monthly_units" {
  type        = number
  description = "Monthly budget (billing account currency)."
  default     = 1000
}

variable "web_gallery_image" {
  type        = string
  description = "Web gallery image by digest; null: no gallery."
  default     = null
}

resource "google_project_service" "network" {
  for_each = toset(["compute.googleapis.com", "servicenetworking.googleapis.com", "vpcaccess.googleapis.com"])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

resource "google_compute_network" "media" {
  project                 = var.project_id
  name                    = "media-prod"
  auto_create_subnetworks = false

  depends_on = [google_project_service.network]
}

# Nothing in the network takes connections from outside: the connector and Cloud SQL's peering
# need no ingress rule (Google-managed), so every ingress is denied below the default priority.
resource "google_compute_firewall" "deny_ingress" {
  project   = var.project_id
  name      = "media-prod-deny-ingress"
  network   = google_compute_network.media.name
  direction = "INGRESS"
  priority  = 65534

  source_ranges = ["0.0.0.0/0"]

  deny {
    protocol = "all"
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

# Private services access: the range Cloud SQL's private IP is taken from.
resource "google_compute_global_address" "private_services" {
  project       = var.project_id
  name          = "media-prod-private-services"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = 20
  network       = google_compute_network.media.id
}

resource "google_service_networking_connection" "private_services" {
  network                 = google_compute_network.media.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services.name]
}

resource "google_vpc_access_connector" "functions" {
  project       = var.project_id
  name          = "media-prod"
  region        = var.region
  network       = google_compute_network.media.name
  ip_cidr_range = "10.8.0.0/28"
  min_instances = 2
  max_instances = 3
  machine_type  = "e2-micro"

  depends_on = [google_project_service.network]
}

module "media_pipeline" {
  source = "../.."

  project_id  = var.project_id
  region      = var.region
  name_prefix = "media-prod-"
  labels      = { env = "prod" }

  # Only through the API origin's load balancer, with an identity token of its service agent.
  allow_unauthenticated_http = false
  http_ingress_settings      = "ALLOW_INTERNAL_AND_GCLB"
  http_invoker_members       = var.http_invoker_members
  web_gallery_image          = var.web_gallery_image

  # Private IP only, through the connector.
  sql_public_ip_enabled     = false
  sql_private_network       = google_compute_network.media.id
  vpc_connector             = google_vpc_access_connector.functions.id
  sql_connector_enforcement = "REQUIRED"
  sql_availability_type     = "REGIONAL"
  sql_tier                  = "db-custom-2-7680"
  sql_deletion_protection   = true

  firestore_delete_protection    = true
  bucket_force_destroy           = false
  kms_key_name                   = var.kms_key_name
  storage_data_access_audit_logs = true

  function_overrides = {
    create_media = { min_instance_count = 1 }
    list_media   = { min_instance_count = 1 }
  }

  alert_notification_channels = var.alert_notification_channels
  billing_account_id          = var.billing_account_id
  budget_monthly_units        = var.budget_monthly_units

  depends_on = [google_service_networking_connection.private_services]
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

output "function_service_uris" {
  description = "run.app URIs of the functions (the load balancer's serverless NEGs point at the services)."
  value       = module.media_pipeline.function_service_uris
}

# The Cloud Functions (2nd gen) of topology.json, each running as its own service account. All
# have HTTP triggers: create_media, list_media and manage_media (owner and admin routes) are
# called by devices and UIs (exposure: http_ingress_settings, allow_unauthenticated_http); finalize_upload,
# process_media and housekeeping by Pub/Sub push subscriptions (pubsub.tf), housekeeping also for
# the Cloud Scheduler ticks (scheduler.tf) and dead letters.

# Images built from the source archives. A repository owned by the module (instead of the
# implicit gcf-artifacts one) lets the build service account write to this repository only.
resource "google_artifact_registry_repository" "functions" {
  #checkov:skip=CKV_GCP_84:Holds only function and gallery images rebuilt from the repository's source; Google-managed encryption at rest. The module variable kms_key_name encrypts the buckets holding media bytes; CMEK here would also need the Artifact Registry service agent on the key.
  project       = var.project_id
  location      = var.region
  repository_id = "${var.name_prefix}functions"
  format        = "DOCKER"
  description   = "Cloud Functions images of the media pipeline."
  labels        = local.labels

  cleanup_policy_dry_run = false

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = var.artifact_registry_keep_count
    }
  }

  cleanup_policies {
    id     = "delete-older-than-30-days"
    action = "DELETE"
    condition {
      tag_state  = "ANY"
      older_than = "2592000s"
    }
  }

  depends_on = [google_project_service.enabled]
}

resource "google_cloudfunctions2_function" "function" {
  #checkov:skip=CKV_GCP_124:The three HTTP functions (create_media, list_media, manage_media) use var.http_ingress_settings: devices and the gallery call them over the internet, authenticated by the app JWT and optionally IAM (ALLOW_INTERNAL_AND_GCLB behind a load balancer). The pushed functions are ALLOW_INTERNAL_ONLY.
  for_each = local.functions

  project     = var.project_id
  location    = var.region
  name        = local.function_service_names[each.key]
  description = "media pipeline: ${each.key} (${each.value.trigger == "http" ? "HTTP" : "Pub/Sub push"})"
  labels      = local.labels

  build_config {
    runtime           = "python311"
    entry_point       = each.value.entry_point
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.functions_source.name
        object = google_storage_bucket_object.function_source[each.key].name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.function[each.key].email
    available_memory                 = local.function_sizing[each.key].available_memory
    available_cpu                    = local.function_sizing[each.key].available_cpu
    timeout_seconds                  = local.function_sizing[each.key].timeout_seconds
    min_instance_count               = local.function_sizing[each.key].min_instance_count
    max_instance_count               = local.function_sizing[each.key].max_instance_count
    max_instance_request_concurrency = local.function_sizing[each.key].max_request_concurrency
    ingress_settings                 = contains(local.http_functions, each.key) ? var.http_ingress_settings : "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    environment_variables            = local.function_environment[each.key]
    vpc_connector                    = var.vpc_connector
    vpc_connector_egress_settings    = var.vpc_connector == null ? null : "PRIVATE_RANGES_ONLY"

    # "latest" is resolved when an instance starts; a pinned version number changes the
    # revision, so all instances switch together (docs/RUNBOOKS/DEPLOY.md, "Rotate the JWT secret").
    dynamic "secret_environment_variables" {
      for_each = contains(local.jwt_functions, each.key) ? [google_secret_manager_secret.jwt.secret_id] : []
      content {
        key        = "JWT_SECRET"
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = var.jwt_secret_version
      }
    }

    # During a rotation the previous version stays valid for verification (JWT_PREVIOUS_SECRET).
    dynamic "secret_environment_variables" {
      for_each = contains(local.jwt_functions, each.key) && var.jwt_previous_secret_version != null ? [google_secret_manager_secret.jwt.secret_id] : []
      content {
        key        = "JWT_PREVIOUS_SECRET"
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = var.jwt_previous_secret_version
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.sql_private_network == null || var.vpc_connector != null
      error_message = "A private-IP Cloud SQL instance (sql_private_network) is reachable only through vpc_connector."
    }
    precondition {
      condition     = length(local.function_sizing_problems) == 0
      error_message = "function_overrides: ${join(" ", local.function_sizing_problems)}"
    }
    precondition {
      condition     = var.detector_model_object == null || var.detector_model_sha256 != null
      error_message = "detector_model_object needs detector_model_sha256: process_media checks the model against it."
    }
  }

  # Builds and first revisions start once their grants are seen by IAM (ordering.tf).
  depends_on = [
    time_sleep.function_grants,
    google_secret_manager_secret_version.jwt_initial,
  ]
}

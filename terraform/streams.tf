# The stream service (services/streams): the Server-Sent Events of the API
# (GET /v1/media/{id}/events, /v1/jobs/{id}/events, /v1/events/stream), apart from the functions
# so that open streams never hold their request slots. One Cloud Run service with high
# concurrency (an open stream is a coroutine and a queue, not a thread) and its own identity:
# it reads Postgres (who may see what, a stream's first event) and the Firestore mirror (one
# listener per collection per instance), and verifies the app's JWTs; nothing else. Built from
# terraform/streams/Dockerfile, enabled by streams_image, reached through the load balancer
# (lb.tf). docs/CONTRACTS.md, "Live status"; README, "Event streams".

locals {
  streams_enabled      = var.streams_image != null
  streams_service_name = "${var.name_prefix}streams"
  # Ingress: only through the load balancer when there is one.
  streams_ingress = local.lb_enabled ? "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" : local.cloud_run_ingress
  streams_environment = merge(
    local.common_environment,
    {
      DB_POOL_SIZE         = tostring(var.streams_db_pool_size)
      DB_MAX_OVERFLOW      = "0"
      CORS_ALLOWED_ORIGINS = jsonencode(local.cors_allowed_origins)
      SSE_MAX_SECONDS      = tostring(var.streams_max_stream_seconds)
    },
    local.streams_enabled ? {
      DB_IAM_USER = trimsuffix(google_service_account.streams[0].email, ".gserviceaccount.com")
    } : {},
  )
}

resource "google_service_account" "streams" {
  count = local.streams_enabled ? 1 : 0

  project      = var.project_id
  account_id   = local.streams_service_name
  display_name = "media pipeline stream service"
  description  = "Runtime identity of the stream service: reads Postgres and the Firestore mirror, reads the JWT secret."

  depends_on = [google_project_service.enabled]
}

resource "google_cloud_run_v2_service" "streams" {
  count = local.streams_enabled ? 1 : 0

  project     = var.project_id
  name        = local.streams_service_name
  location    = var.region
  description = "media pipeline: event streams (Server-Sent Events)"
  labels      = local.labels
  ingress     = local.streams_ingress
  # Stateless: streams resume from their last event id on any instance.
  deletion_protection = false

  template {
    service_account                  = google_service_account.streams[0].email
    max_instance_request_concurrency = var.streams_max_request_concurrency
    # A stream ends itself after streams_max_stream_seconds, before this.
    timeout = "3600s"

    scaling {
      min_instance_count = var.streams_min_instance_count
      max_instance_count = var.streams_max_instance_count
    }

    dynamic "vpc_access" {
      for_each = var.vpc_connector == null ? [] : [var.vpc_connector]
      content {
        connector = vpc_access.value
        egress    = "PRIVATE_RANGES_ONLY"
      }
    }

    containers {
      image = var.streams_image

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = "1"
          memory = "1Gi"
        }
        # The Firestore listeners run between requests too (the resume cache stays current).
        cpu_idle = false
      }

      dynamic "env" {
        for_each = local.streams_environment
        content {
          name  = env.key
          value = env.value
        }
      }

      env {
        name = "JWT_SECRET"
        value_source {
          secret_key_ref {
            secret  = google_secret_manager_secret.jwt.secret_id
            version = var.jwt_secret_version
          }
        }
      }

      dynamic "env" {
        for_each = var.jwt_previous_secret_version == null ? [] : [var.jwt_previous_secret_version]
        content {
          name = "JWT_PREVIOUS_SECRET"
          value_source {
            secret_key_ref {
              secret  = google_secret_manager_secret.jwt.secret_id
              version = env.value
            }
          }
        }
      }

      # Ready once every Firestore listener has its first snapshot (GET /ready).
      startup_probe {
        initial_delay_seconds = 2
        period_seconds        = 3
        failure_threshold     = 20
        timeout_seconds       = 2
        http_get {
          path = "/ready"
        }
      }
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_secret_manager_secret_iam_member.streams_jwt_accessor,
    google_secret_manager_secret_version.jwt_initial,
  ]
}

# Who may call it: as the HTTP functions (allow_unauthenticated_http / http_invoker_members);
# the app's JWT or stream ticket is checked by the service itself.
resource "google_cloud_run_v2_service_iam_member" "streams_public_invoker" {
  #checkov:skip=CKV_GCP_102:Created only when allow_unauthenticated_http = true (default false): browsers and devices then authenticate with the application JWT or a stream ticket alone, as on the HTTP functions.
  count = local.streams_enabled && var.allow_unauthenticated_http ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.streams[0].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_cloud_run_v2_service_iam_member" "streams_invoker_members" {
  for_each = local.streams_enabled ? toset(var.http_invoker_members) : toset([])

  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.streams[0].name
  role     = "roles/run.invoker"
  member   = each.value
}

resource "google_secret_manager_secret_iam_member" "streams_jwt_accessor" {
  count = local.streams_enabled ? 1 : 0

  project   = var.project_id
  secret_id = google_secret_manager_secret.jwt.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.streams[0].member
}

# Cloud SQL through the connector as an IAM database user (SELECT only: README, "Database
# grants"), narrowed to this instance as the functions' grants are.
resource "google_project_iam_member" "streams_sql_client" {
  count = local.streams_enabled ? 1 : 0

  project = var.project_id
  role    = "roles/cloudsql.client"
  member  = google_service_account.streams[0].member

  condition {
    title       = "only-${google_sql_database_instance.main.name}"
    description = "Only the media pipeline's Cloud SQL instance."
    expression  = "resource.type == \"sqladmin.googleapis.com/Instance\" && resource.name == \"${local.sql_instance_resource_name}\""
  }
}

resource "google_project_iam_member" "streams_sql_instance_user" {
  count = local.streams_enabled ? 1 : 0

  project = var.project_id
  role    = "roles/cloudsql.instanceUser"
  member  = google_service_account.streams[0].member

  condition {
    title       = "only-${google_sql_database_instance.main.name}"
    description = "Only the media pipeline's Cloud SQL instance."
    expression  = "resource.type == \"sqladmin.googleapis.com/Instance\" && resource.name == \"${local.sql_instance_resource_name}\""
  }
}

resource "google_sql_user" "streams" {
  count = local.streams_enabled ? 1 : 0

  project  = var.project_id
  instance = google_sql_database_instance.main.name
  name     = trimsuffix(google_service_account.streams[0].email, ".gserviceaccount.com")
  type     = "CLOUD_IAM_SERVICE_ACCOUNT"
}

# The Firestore mirror, read-only, narrowed to its database.
resource "google_project_iam_member" "streams_firestore_viewer" {
  count = local.streams_enabled ? 1 : 0

  project = var.project_id
  role    = "roles/datastore.viewer"
  member  = google_service_account.streams[0].member

  condition {
    title       = "only-mirror-database"
    description = "Only the Firestore database of the status mirror."
    expression  = "resource.name == \"${local.firestore_resource_name}\""
  }
}

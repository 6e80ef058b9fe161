# The web gallery: the static app of web/ (built to web/dist by its npm build), served by
# a small Cloud Run service from an image built in the repository (terraform/web/Dockerfile: the
# npm build, then terraform/web/server.py under gunicorn). No bucket is public: the files are in
# the image. The browser calls the API at its one base URL, the load balancer of lb.tf (CORS:
# the service's origin is in the functions' and the stream service's CORS_ALLOWED_ORIGINS), PUTs uploads to signed URLs (the uploads
# bucket's CORS) and signs in with the identity provider named in web_gallery_extra_config
# (oidcIssuer, oidcClientId; docs/RUNBOOKS/GALLERY.md). Enabled by web_gallery_image; README,
# "Web gallery".

locals {
  # Origins the page talks to: the API's one origin (lb.tf) and signed Cloud Storage URLs.
  web_gallery_api_origins = local.api_base_url == null ? [] : [local.api_base_url]
  # The identity provider's origin (discovery and token endpoint), when the page signs in with one.
  web_gallery_idp_origins = [
    for key in ["oidcIssuer"] : regex("^https://[^/]+", var.web_gallery_extra_config[key])
    if can(regex("^https://[^/]+", lookup(var.web_gallery_extra_config, key, "")))
  ]
  web_gallery_default_csp = join("; ", [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob: https://storage.googleapis.com ${join(" ", local.web_gallery_api_origins)}",
    "media-src 'self' blob: https://storage.googleapis.com ${join(" ", local.web_gallery_api_origins)}",
    "connect-src 'self' https://storage.googleapis.com ${join(" ", concat(local.web_gallery_api_origins, local.web_gallery_idp_origins))}",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ])
  # Served as /config.json: where the page finds the API. Public by nature; no secrets.
  # liveArrivals: the grid follows GET /v1/events/stream where the stream service is behind the
  # API's origin.
  web_gallery_config = merge({ liveArrivals = local.streams_enabled && local.lb_enabled }, var.web_gallery_extra_config, {
    apiBaseUrl = local.api_base_url
  })
}

resource "google_cloud_run_v2_service" "web" {
  count = local.web_gallery_enabled ? 1 : 0

  project     = var.project_id
  name        = local.web_gallery_service_name
  location    = var.region
  description = "media pipeline: web gallery (static files of web/dist)"
  labels      = local.labels
  ingress     = local.cloud_run_ingress
  # Stateless: every file is in the image; destroying it loses nothing.
  deletion_protection = false

  template {
    service_account                  = google_service_account.web[0].email
    max_instance_request_concurrency = 80
    timeout                          = "30s"

    scaling {
      min_instance_count = 0
      max_instance_count = var.web_gallery_max_instance_count
    }

    containers {
      image = var.web_gallery_image

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = "1"
          memory = "256Mi"
        }
        cpu_idle = true
      }

      env {
        name  = "WEB_CONFIG_JSON"
        value = jsonencode(local.web_gallery_config)
      }
      env {
        name  = "WEB_CONTENT_SECURITY_POLICY"
        value = coalesce(var.web_gallery_content_security_policy, local.web_gallery_default_csp)
      }
    }
  }

  lifecycle {
    precondition {
      condition     = local.lb_enabled
      error_message = "The web gallery calls the API at its one base URL: set api_domains (lb.tf) too."
    }
    # The functions' CORS lists the computed deterministic URL (main.tf); fail the apply if the
    # service does not answer there.
    postcondition {
      condition     = contains(self.urls, local.web_gallery_origin)
      error_message = "The web gallery's URLs do not include ${local.web_gallery_origin}, the origin given to CORS_ALLOWED_ORIGINS and the uploads bucket's CORS."
    }
  }

  depends_on = [google_project_service.enabled]
}

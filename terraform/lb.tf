# The API's one origin: an external Application Load Balancer (EXTERNAL_MANAGED, Envoy-based:
# route rules match on path templates and on the request's method) in front of the HTTP
# functions and the stream service, each behind a serverless NEG. Its URL map is the route
# binding (lb_routes.tf, from url_map.json), so a request reaches the service that serves its
# route, whichever it is; clients take one base URL (output api_base_url). HTTPS with a
# Google-managed certificate for api_domains (TLS 1.2+), HTTP redirected to HTTPS. Enabled by
# api_domains. With it, set http_ingress_settings = "ALLOW_INTERNAL_AND_GCLB" so the functions
# answer only through it (the stream service does so by itself).

locals {
  lb_enabled   = length(var.api_domains) > 0
  api_base_url = local.lb_enabled ? "https://${var.api_domains[0]}" : null
  # Services behind the load balancer: the HTTP functions, and the stream service when it runs.
  lb_backends = toset([
    for name in local.api_services : name
    if name != "streams" || local.streams_enabled
  ])
  lb_rules = [for rule in local.lb_route_rules : rule if contains(local.lb_backends, rule.service)]
}

resource "google_compute_region_network_endpoint_group" "api" {
  for_each = local.lb_enabled ? local.lb_backends : toset([])

  project               = var.project_id
  name                  = "${var.name_prefix}${replace(each.key, "_", "-")}-neg"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  # A 2nd gen function is a Cloud Run service of the same name.
  cloud_run {
    service = each.key == "streams" ? google_cloud_run_v2_service.streams[0].name : google_cloudfunctions2_function.function[each.key].name
  }

  depends_on = [google_project_service.enabled]
}

resource "google_compute_backend_service" "api" {
  for_each = local.lb_enabled ? local.lb_backends : toset([])

  project               = var.project_id
  name                  = "${var.name_prefix}${replace(each.key, "_", "-")}-backend"
  description           = "media pipeline API: ${each.key}"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = "HTTPS"
  security_policy       = var.lb_security_policy

  backend {
    group = google_compute_region_network_endpoint_group.api[each.key].id
  }

  log_config {
    enable      = true
    sample_rate = 1.0
  }
}

resource "google_compute_url_map" "api" {
  count = local.lb_enabled ? 1 : 0

  project         = var.project_id
  name            = "${var.name_prefix}api"
  description     = "media pipeline API: the route binding (terraform/url_map.json)"
  default_service = google_compute_backend_service.api[local.url_map.default_service].id

  host_rule {
    hosts        = var.api_domains
    path_matcher = "api"
  }

  path_matcher {
    name            = "api"
    default_service = google_compute_backend_service.api[local.url_map.default_service].id

    # /v1/admin/ off the public map: 404 here, before any rule (unless lb_admin_routes).
    dynamic "route_rules" {
      for_each = var.lb_admin_routes ? [] : [local.lb_admin_prefix]
      content {
        priority = 1
        service  = google_compute_backend_service.api[local.url_map.default_service].id
        match_rules {
          prefix_match = route_rules.value
        }
        route_action {
          fault_injection_policy {
            abort {
              http_status = 404
              percentage  = 100
            }
          }
        }
      }
    }

    dynamic "route_rules" {
      for_each = local.lb_rules
      content {
        priority = route_rules.value.priority
        service  = google_compute_backend_service.api[route_rules.value.service].id
        match_rules {
          path_template_match = route_rules.value.path_template
          header_matches {
            header_name = ":method"
            regex_match = route_rules.value.method_regex
          }
        }
        # A browser's CORS preflight goes where the request it announces will go.
        match_rules {
          path_template_match = route_rules.value.path_template
          header_matches {
            header_name = ":method"
            exact_match = "OPTIONS"
          }
          header_matches {
            header_name = "access-control-request-method"
            regex_match = route_rules.value.cors_regex
          }
        }
      }
    }
  }
}

resource "google_compute_managed_ssl_certificate" "api" {
  count = local.lb_enabled ? 1 : 0

  project = var.project_id
  name    = "${var.name_prefix}api-cert"

  managed {
    domains = var.api_domains
  }
}

resource "google_compute_ssl_policy" "api" {
  count = local.lb_enabled ? 1 : 0

  project         = var.project_id
  name            = "${var.name_prefix}api-tls"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_target_https_proxy" "api" {
  count = local.lb_enabled ? 1 : 0

  project          = var.project_id
  name             = "${var.name_prefix}api-https"
  url_map          = google_compute_url_map.api[0].id
  ssl_certificates = [google_compute_managed_ssl_certificate.api[0].id]
  ssl_policy       = google_compute_ssl_policy.api[0].id
}

resource "google_compute_global_address" "api" {
  count = local.lb_enabled ? 1 : 0

  project = var.project_id
  name    = "${var.name_prefix}api"

  depends_on = [google_project_service.enabled]
}

resource "google_compute_global_forwarding_rule" "api_https" {
  count = local.lb_enabled ? 1 : 0

  project               = var.project_id
  name                  = "${var.name_prefix}api-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.api[0].id
  port_range            = "443"
  target                = google_compute_target_https_proxy.api[0].id
}

# Plain HTTP only redirects to HTTPS (no token ever travels unencrypted).
resource "google_compute_url_map" "api_redirect" {
  count = local.lb_enabled ? 1 : 0

  project = var.project_id
  name    = "${var.name_prefix}api-redirect"

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "api_redirect" {
  count = local.lb_enabled ? 1 : 0

  project = var.project_id
  name    = "${var.name_prefix}api-http"
  url_map = google_compute_url_map.api_redirect[0].id
}

resource "google_compute_global_forwarding_rule" "api_http" {
  count = local.lb_enabled ? 1 : 0

  project               = var.project_id
  name                  = "${var.name_prefix}api-http"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.api[0].id
  port_range            = "80"
  target                = google_compute_target_http_proxy.api_redirect[0].id
}

check "functions_answer_only_through_the_load_balancer" {
  assert {
    condition     = !local.lb_enabled || var.http_ingress_settings == "ALLOW_INTERNAL_AND_GCLB"
    error_message = "With the load balancer (api_domains), set http_ingress_settings = \"ALLOW_INTERNAL_AND_GCLB\": otherwise the functions' own URLs stay open beside the API's one origin."
  }
}

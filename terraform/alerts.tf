# What an on-call needs besides the two event alerts of monitoring.tf: function errors and
# latency, Pub/Sub backlog, Cloud SQL saturation, failed scheduler ticks, uptime of the API and
# the gallery, and a budget. Every policy's documentation names its section of
# docs/RUNBOOKS/ALERTS.md (tests/terraform/test_terraform_alerts.py keeps the two in step).

locals {
  runbook = "docs/RUNBOOKS/ALERTS.md"
  # p95 request latency (ms) above which a function alerts: HTTP functions answer people, pushed
  # functions work through media (process_media decodes video).
  latency_p95_defaults_ms = {
    create_media    = 2000
    list_media      = 2000
    manage_media    = 5000
    finalize_upload = 60000
    process_media   = 300000
    housekeeping    = 120000
  }
  latency_p95_ms = merge(local.latency_p95_defaults_ms, var.alert_latency_p95_ms)
  # Streams (list_media's server-sent events) last minutes by design: only non-stream routes
  # would say something, and Cloud Run's metric does not tell routes apart, so list_media's p95
  # is left out while it serves streams.
  latency_alert_functions = toset([for name in keys(local.functions) : name if name != "list_media"])
  sql_database_id         = "${var.project_id}:${google_sql_database_instance.main.name}"
  schedule_job_ids        = sort([for key in keys(local.schedules) : "${var.name_prefix}${key}"])
  uptime_checks = merge(
    var.allow_unauthenticated_http ? {
      # The API answers its own 401 without a token: the function runs and routes.
      api = { host = regex("^https://([^/]+)", google_cloudfunctions2_function.function["list_media"].service_config[0].uri)[0], path = "/v1/media", status = 401 }
    } : {},
    var.allow_unauthenticated_http && local.web_gallery_enabled ? {
      gallery = { host = regex("^https://([^/]+)", google_cloud_run_v2_service.web[0].uri)[0], path = "/", status = 200 }
    } : {},
  )
}

resource "google_monitoring_alert_policy" "function_5xx" {
  for_each = local.functions

  project               = var.project_id
  display_name          = "${var.name_prefix}${each.key} 5xx rate"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = var.alert_notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "More than ${var.alert_5xx_ratio * 100}% of ${each.key}'s requests answered 5xx for 5 min"
    condition_threshold {
      filter             = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${local.function_service_names[each.key]}\" AND metric.type = \"run.googleapis.com/request_count\" AND metric.labels.response_code_class = \"5xx\""
      denominator_filter = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${local.function_service_names[each.key]}\" AND metric.type = \"run.googleapis.com/request_count\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.alert_5xx_ratio
      duration           = "300s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "${each.key} of ${var.name_prefix} answers 5xx. Runbook: ${local.runbook}#function-5xx-rate"
  }

  depends_on = [google_project_service.enabled]
}

resource "google_monitoring_alert_policy" "function_latency" {
  for_each = local.latency_alert_functions

  project               = var.project_id
  display_name          = "${var.name_prefix}${each.key} p95 latency"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = var.alert_notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "${each.key} p95 request latency above ${local.latency_p95_ms[each.key]} ms for 10 min"
    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${local.function_service_names[each.key]}\" AND metric.type = \"run.googleapis.com/request_latencies\""
      comparison      = "COMPARISON_GT"
      threshold_value = local.latency_p95_ms[each.key]
      duration        = "600s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_95"
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "${each.key} of ${var.name_prefix} is slow. Runbook: ${local.runbook}#function-p95-latency"
  }

  depends_on = [google_project_service.enabled]
}

resource "google_monitoring_alert_policy" "oldest_unacked" {
  for_each = local.subscriptions

  project               = var.project_id
  display_name          = "${var.name_prefix}${each.key} backlog age"
  combiner              = "OR"
  severity              = try(each.value.push_function, null) == null ? "WARNING" : "ERROR"
  notification_channels = var.alert_notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "Oldest unacknowledged message of ${each.key} older than ${var.alert_oldest_unacked_seconds} s"
    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = \"${google_pubsub_subscription.subscription[each.key].name}\" AND metric.type = \"pubsub.googleapis.com/subscription/oldest_unacked_message_age\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_oldest_unacked_seconds
      duration        = "300s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Messages wait on ${each.key} of ${var.name_prefix}. Runbook: ${local.runbook}#pubsub-backlog-age"
  }

  depends_on = [google_project_service.enabled]
}

resource "google_monitoring_alert_policy" "sql" {
  for_each = {
    cpu = {
      title     = "CPU utilization above ${var.alert_sql_cpu_utilization * 100}%"
      metric    = "cloudsql.googleapis.com/database/cpu/utilization"
      threshold = var.alert_sql_cpu_utilization
      section   = "cloud-sql-cpu"
    }
    disk = {
      title     = "disk utilization above ${var.alert_sql_disk_utilization * 100}%"
      metric    = "cloudsql.googleapis.com/database/disk/utilization"
      threshold = var.alert_sql_disk_utilization
      section   = "cloud-sql-disk"
    }
    connections = {
      title     = "connections above ${var.alert_sql_connections_ratio * 100}% of max_connections (${var.sql_max_connections})"
      metric    = "cloudsql.googleapis.com/database/postgresql/num_backends"
      threshold = floor(var.alert_sql_connections_ratio * var.sql_max_connections)
      section   = "cloud-sql-connections"
    }
  }

  project               = var.project_id
  display_name          = "${var.name_prefix}Cloud SQL ${each.key}"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = var.alert_notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "Cloud SQL ${each.value.title} for 10 min"
    condition_threshold {
      filter          = "resource.type = \"cloudsql_database\" AND resource.labels.database_id = \"${local.sql_database_id}\" AND metric.type = \"${each.value.metric}\""
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "600s"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_MAX"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Cloud SQL ${google_sql_database_instance.main.name}: ${each.value.title}. Runbook: ${local.runbook}#${each.value.section}"
  }

  depends_on = [google_project_service.enabled]
}

# Cloud Scheduler logs every attempt; a failed one (the publish to the housekeeping topic was
# refused or the job is misconfigured) is an ERROR entry of the job.
resource "google_logging_metric" "scheduler_failures" {
  project     = var.project_id
  name        = "${replace(var.name_prefix, "-", "_")}scheduler_failures"
  description = "media pipeline: failed Cloud Scheduler attempts of the housekeeping ticks, by job."
  filter      = "resource.type=\"cloud_scheduler_job\" AND resource.labels.job_id=(${join(" OR ", [for id in local.schedule_job_ids : "\"${id}\""])}) AND severity>=ERROR"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "${var.name_prefix}scheduler_failures"

    labels {
      key         = "job_id"
      value_type  = "STRING"
      description = "The Cloud Scheduler job."
    }
  }

  label_extractors = { job_id = "EXTRACT(resource.labels.job_id)" }

  depends_on = [google_project_service.enabled]
}

resource "time_sleep" "scheduler_failures_metric" {
  create_duration = "60s"
  triggers        = { metric = google_logging_metric.scheduler_failures.id }
}

resource "google_monitoring_alert_policy" "scheduler_failures" {
  project               = var.project_id
  display_name          = "${var.name_prefix}housekeeping tick failed"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = var.alert_notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "A Cloud Scheduler attempt of ${join(", ", local.schedule_job_ids)} failed"
    condition_threshold {
      filter          = "resource.type = \"cloud_scheduler_job\" AND metric.type = \"logging.googleapis.com/user/${google_logging_metric.scheduler_failures.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.job_id"]
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A housekeeping tick of ${var.name_prefix} did not reach its topic. Runbook: ${local.runbook}#housekeeping-tick-failed"
  }

  depends_on = [time_sleep.scheduler_failures_metric]
}

# Uptime checks reach only what the internet may call: with allow_unauthenticated_http = false the
# functions and the gallery answer Cloud Run's own 403 to any caller without an identity token,
# and the 5xx and latency alerts stand in for them.
resource "google_monitoring_uptime_check_config" "check" {
  for_each = local.uptime_checks

  project      = var.project_id
  display_name = "${var.name_prefix}${each.key}"
  timeout      = "10s"
  period       = "300s"
  user_labels  = local.labels

  http_check {
    path         = each.value.path
    port         = 443
    use_ssl      = true
    validate_ssl = true

    accepted_response_status_codes {
      status_value = each.value.status
    }
  }

  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = each.value.host
    }
  }
}

resource "google_monitoring_alert_policy" "uptime" {
  for_each = local.uptime_checks

  project               = var.project_id
  display_name          = "${var.name_prefix}${each.key} down"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = var.alert_notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "${each.key} failed its uptime check from more than one region"
    condition_threshold {
      filter          = "resource.type = \"uptime_url\" AND metric.type = \"monitoring.googleapis.com/uptime_check/check_passed\" AND metric.labels.check_id = \"${google_monitoring_uptime_check_config.check[each.key].uptime_check_id}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 1
      duration        = "600s"

      aggregations {
        alignment_period     = "1200s"
        per_series_aligner   = "ALIGN_NEXT_OLDER"
        cross_series_reducer = "REDUCE_COUNT_FALSE"
        group_by_fields      = ["resource.label.host"]
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "${each.key} of ${var.name_prefix} does not answer. Runbook: ${local.runbook}#uptime-check-failed"
  }
}

# A monthly budget on the project (opt-in: the deployer needs Billing Account Costs Manager on
# billing_account_id); alerts at 50, 90 and 100% of actual spend and 100% of forecast.
resource "google_billing_budget" "project" {
  count = var.billing_account_id == null ? 0 : 1

  billing_account = var.billing_account_id
  display_name    = "${var.name_prefix}media pipeline"

  budget_filter {
    projects = ["projects/${data.google_project.this.number}"]
  }

  amount {
    specified_amount {
      currency_code = var.budget_currency_code
      units         = tostring(var.budget_monthly_units)
    }
  }

  dynamic "threshold_rules" {
    for_each = [0.5, 0.9, 1.0]
    content {
      threshold_percent = threshold_rules.value
      spend_basis       = "CURRENT_SPEND"
    }
  }

  threshold_rules {
    threshold_percent = 1.0
    spend_basis       = "FORECASTED_SPEND"
  }

  all_updates_rule {
    monitoring_notification_channels = var.alert_notification_channels
    disable_default_iam_recipients   = false
  }

  depends_on = [google_project_service.enabled]
}

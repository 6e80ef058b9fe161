# Metrics from the functions' structured logs, two alert policies and a dashboard.
#
# The functions write one JSON object per line on stdout in Cloud Logging's format; Cloud Run
# turns each into a log entry whose jsonPayload carries `event` and the event's fields
# (README, "Metrics and alerts"). The log-based metrics (definitions in locals.tf) count or
# measure those events for this deployment's functions only.

resource "google_logging_metric" "event" {
  for_each = local.log_metrics

  project     = var.project_id
  name        = each.value.name
  description = "media pipeline: ${each.value.description} (event ${each.value.event})"
  filter      = each.value.filter

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = each.value.kind == "distribution" ? "DISTRIBUTION" : "INT64"
    unit         = each.value.unit
    display_name = "${var.name_prefix}${each.key}"

    dynamic "labels" {
      for_each = each.value.labels
      content {
        key         = labels.key
        value_type  = "STRING"
        description = labels.value
      }
    }
  }

  label_extractors = { for field in keys(each.value.labels) : field => "EXTRACT(jsonPayload.${field})" }
  value_extractor  = each.value.value_field == null ? null : "EXTRACT(jsonPayload.${each.value.value_field})"

  # Upload sizes: 1 KiB, 2 KiB, ... 4 TiB (the largest object max_upload_size_bytes allows is 5 TiB).
  dynamic "bucket_options" {
    for_each = each.value.kind == "distribution" ? [each.key] : []
    content {
      exponential_buckets {
        num_finite_buckets = 32
        growth_factor      = 2
        scale              = 1024
      }
    }
  }

  depends_on = [google_project_service.enabled]
}

# More than alert_rejection_threshold_count rejected uploads (any reason) within
# alert_rejection_window_seconds: a device or client is sending bad bytes, or verification broke.
resource "google_monitoring_alert_policy" "upload_rejection_spike" {
  project               = var.project_id
  display_name          = "${var.name_prefix}upload rejection spike"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = var.alert_notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "More than ${var.alert_rejection_threshold_count} uploads rejected in ${var.alert_rejection_window_seconds} s"
    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND metric.type = \"${local.log_metric_types.upload_rejections}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_rejection_threshold_count
      duration        = "0s"

      aggregations {
        alignment_period     = "${var.alert_rejection_window_seconds}s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Uploads to the ${var.name_prefix} pipeline are being rejected. The dashboard \"${var.name_prefix}media pipeline\" breaks the rejections down by `reason_code`; the lines themselves: `jsonPayload.event=\"upload.rejected\"` in Logs Explorer. Runbook: ${local.runbook}#upload-rejection-spike"
  }

  depends_on = [time_sleep.log_metrics]
}

# Any message that exhausted its delivery attempts. Two sources, either fires: the dead-letter
# handler's log event (by subscription), and Pub/Sub's own count of messages forwarded to the
# dead-letter topic (which fires even if the handler itself is broken).
resource "google_monitoring_alert_policy" "dead_letter" {
  project               = var.project_id
  display_name          = "${var.name_prefix}dead-lettered messages"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = var.alert_notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "Dead-letter handler received a message"
    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND metric.type = \"${local.log_metric_types.dead_letters}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.subscription"]
      }

      trigger {
        count = 1
      }
    }
  }

  conditions {
    display_name = "Pub/Sub forwarded a message to the dead-letter topic"
    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND metric.type = \"pubsub.googleapis.com/subscription/dead_letter_message_count\" AND resource.labels.subscription_id = one_of(${join(", ", [for id in sort(keys(local.dead_letter_subscriptions)) : "\"${var.name_prefix}${id}\""])})"
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.subscription_id"]
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A message of the ${var.name_prefix} pipeline exhausted its delivery attempts. The handler marks the media or job failed (reason dead_lettered); find the cause and redeliver. Runbook: ${local.runbook}#dead-lettered-messages"
  }

  depends_on = [time_sleep.log_metrics, google_project_service.enabled]
}

locals {
  # Every alert policy, in the order of the pipeline's stages: API, upload verification,
  # processing, Pub/Sub, Postgres, housekeeping, uptime.
  dashboard_alert_policies = concat(
    [for name in ["create_media", "list_media", "manage_media"] : google_monitoring_alert_policy.function_5xx[name]],
    [google_monitoring_alert_policy.upload_rejection_spike],
    [for name in ["finalize_upload", "process_media", "housekeeping"] : google_monitoring_alert_policy.function_5xx[name]],
    [for name in sort(tolist(local.latency_alert_functions)) : google_monitoring_alert_policy.function_latency[name]],
    [for id in sort(keys(local.subscriptions)) : google_monitoring_alert_policy.oldest_unacked[id]],
    [google_monitoring_alert_policy.dead_letter],
    [for key in ["cpu", "disk", "connections"] : google_monitoring_alert_policy.sql[key]],
    [google_monitoring_alert_policy.scheduler_failures],
    [for key in sort(keys(local.uptime_checks)) : google_monitoring_alert_policy.uptime[key]],
  )
}

resource "google_monitoring_dashboard" "pipeline" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName = "${var.name_prefix}media pipeline"
    mosaicLayout = {
      columns = 48
      tiles = concat(
        [
          for index, chart in local.dashboard_charts : {
            xPos   = (index % 2) * 24
            yPos   = floor(index / 2) * 16
            width  = 24
            height = 16
            widget = { title = chart.title, xyChart = { dataSets = chart.dataSets } }
          }
        ],
        [
          for index, policy in local.dashboard_alert_policies : {
            xPos   = (index % 2) * 24
            yPos   = (ceil(length(local.dashboard_charts) / 2) + floor(index / 2)) * 16
            width  = 24
            height = 16
            widget = { title = policy.display_name, alertChart = { name = policy.name } }
          }
        ],
      )
    }
  })

  depends_on = [time_sleep.log_metrics]
}

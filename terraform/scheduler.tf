# Housekeeping ticks: one Cloud Scheduler job per entry of topology.json "schedules", publishing a
# message with the schedule's attributes (task: reconcile | retention) and no data to its topic.
# The topic's push subscription hands it to the housekeeping function (pubsub.tf); the local stack
# runs the same handler on a timer of every_seconds. A tick that runs long or twice is safe: the
# handlers work in bounded batches and claim rows.
#
# Pub/Sub targets publish as the Cloud Scheduler service agent; its only grant from this module is
# roles/pubsub.publisher on the schedule topics (iam.tf, scheduler_publisher).

resource "google_cloud_scheduler_job" "schedule" {
  for_each = local.schedules

  project     = var.project_id
  region      = var.region
  name        = "${var.name_prefix}${each.key}"
  description = "media pipeline: ${each.key} tick (attributes ${jsonencode(each.value.attributes)}) to ${var.name_prefix}${each.value.topic}"
  schedule    = each.value.cron
  time_zone   = "Etc/UTC"
  paused      = var.schedules_paused

  # A failed publish is retried a few times; a tick missed entirely is covered by the next one.
  retry_config {
    retry_count          = 3
    min_backoff_duration = "10s"
    max_backoff_duration = "60s"
    max_doublings        = 2
  }

  pubsub_target {
    topic_name = google_pubsub_topic.topic[each.value.topic].id
    attributes = each.value.attributes
  }

  depends_on = [
    google_project_service.enabled,
    google_pubsub_topic_iam_member.scheduler_publisher,
    google_pubsub_subscription.subscription,
  ]
}

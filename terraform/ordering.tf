# One `terraform apply` on a fresh project: waits where Google documents that a change takes
# time to be seen by other services, so nothing downstream starts before it can succeed.
#
# - IAM grants take effect "typically within 2 minutes" (IAM, "Access change propagation");
#   a service agent that was just generated may not yet be accepted as a member. Cloud Build
#   fails a function build whose service account cannot yet write logs or push the image; Cloud
#   Storage refuses a bucket notification whose service agent cannot yet publish; Cloud Run
#   refuses a revision whose identity cannot yet read its secret.
# - A log-based metric's descriptor is created asynchronously: an alert policy naming it right
#   after creation fails with "Cannot find metric(s)".
#
# Each wait happens only when what it waits for is created or replaced (triggers), never on a
# plain re-apply.

# Service agents exist before any grant names them.
resource "time_sleep" "service_agents" {
  create_duration = "30s"
  triggers = {
    pubsub         = google_project_service_identity.agent["pubsub.googleapis.com"].email
    cloudscheduler = google_project_service_identity.agent["cloudscheduler.googleapis.com"].email
    storage        = data.google_storage_project_service_account.gcs.email_address
  }
}

locals {
  # Members of the service agents, read through the wait above.
  pubsub_agent_member    = "serviceAccount:${time_sleep.service_agents.triggers["pubsub"]}"
  scheduler_agent_member = "serviceAccount:${time_sleep.service_agents.triggers["cloudscheduler"]}"
  gcs_agent_member       = "serviceAccount:${time_sleep.service_agents.triggers["storage"]}"
}

# Grants the function builds and the first revisions depend on, seen by IAM before the
# functions are created.
resource "time_sleep" "function_grants" {
  create_duration = "90s"
  triggers = {
    build = join(",", [
      google_project_iam_member.build_log_writer.id,
      google_project_iam_member.build_gcf_sources_viewer.id,
      google_artifact_registry_repository_iam_member.build_writer.id,
    ])
    secrets = join(",", [for m in google_secret_manager_secret_iam_member.jwt_accessor : m.id])
  }
}

# The Cloud Storage service agent's publisher grant, seen before the notification is created.
resource "time_sleep" "notification_grant" {
  create_duration = "60s"
  triggers = {
    publisher = google_pubsub_topic_iam_member.object_events_gcs_publisher.id
  }
}

# Log-based metrics' descriptors exist before alert policies and the dashboard name them.
resource "time_sleep" "log_metrics" {
  create_duration = "60s"
  triggers        = { for key, metric in google_logging_metric.event : key => metric.id }
}

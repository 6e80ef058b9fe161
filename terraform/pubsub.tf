# Topics and subscriptions exactly as topology.json declares them (ids prefixed by name_prefix).
# Subscriptions with a push_function push to that function's URL with an OIDC token of the
# push-invoker service account; the others are pull subscriptions (dead-letter-inspect).

resource "google_pubsub_topic" "topic" {
  #checkov:skip=CKV_GCP_83:Messages carry object names and ids, no media; Google-managed encryption at rest. The module variable kms_key_name encrypts the buckets holding media bytes; CMEK on topics would also need the Pub/Sub service agent on the key.
  for_each = local.topics

  project                    = var.project_id
  name                       = "${var.name_prefix}${each.key}"
  message_retention_duration = "${each.value.message_retention_seconds}s"
  labels                     = local.labels

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_subscription" "subscription" {
  for_each = local.subscriptions

  project                    = var.project_id
  name                       = "${var.name_prefix}${each.key}"
  topic                      = google_pubsub_topic.topic[each.value.topic].id
  ack_deadline_seconds       = each.value.ack_deadline_seconds
  message_retention_duration = "${each.value.message_retention_seconds}s"
  labels                     = local.labels

  # Never delete an idle subscription (the default expires it after 31 days without traffic).
  expiration_policy {
    ttl = ""
  }

  dynamic "push_config" {
    for_each = try(each.value.push_function, null) == null ? [] : [each.value.push_function]
    content {
      push_endpoint = google_cloudfunctions2_function.function[push_config.value].service_config[0].uri

      oidc_token {
        service_account_email = google_service_account.push_invoker.email
        audience              = google_cloudfunctions2_function.function[push_config.value].service_config[0].uri
      }
    }
  }

  dynamic "retry_policy" {
    for_each = try(each.value.minimum_backoff_seconds, null) == null ? [] : [each.value]
    content {
      minimum_backoff = "${retry_policy.value.minimum_backoff_seconds}s"
      maximum_backoff = "${retry_policy.value.maximum_backoff_seconds}s"
    }
  }

  dynamic "dead_letter_policy" {
    for_each = try(each.value.dead_letter_topic, null) == null ? [] : [each.value]
    content {
      dead_letter_topic     = google_pubsub_topic.topic[dead_letter_policy.value.dead_letter_topic].id
      max_delivery_attempts = dead_letter_policy.value.max_delivery_attempts
    }
  }

  lifecycle {
    # A push is a request: if the function may run longer than the ack deadline, Pub/Sub
    # redelivers while the first attempt is still running.
    precondition {
      condition     = try(local.function_sizing[each.value.push_function].timeout_seconds <= each.value.ack_deadline_seconds, true)
      error_message = "The pushed function's timeout_seconds must not exceed the subscription's ack_deadline_seconds (topology.json)."
    }
  }

  depends_on = [google_pubsub_topic_iam_member.dead_letter_pubsub_agent_publisher]
}

# Values derived only from variables and topology.json: no provider, no resource. Kept apart so
# tests/terraform evaluates them with real Terraform offline (validations, sizing, budget).
#
# The Pub/Sub topology and the list of functions come from the repository's topology.json, which
# the local stack (emulators/) reads too, so the two cannot drift.

locals {
  topology      = jsondecode(file("${path.module}/../topology.json"))
  topics        = local.topology.topics
  subscriptions = local.topology.subscriptions
  functions     = local.topology.functions

  labels = merge(var.labels, { app = "media-pipeline", managed-by = "terraform" })

  # Archives of scripts/package_functions.py; the module lives in <repository>/terraform.
  functions_dist_dir = var.functions_dist_dir != null ? var.functions_dist_dir : "${path.module}/../dist/functions"

  # Cloud Run service names allow no underscores: create_media -> <prefix>create-media.
  function_service_names = { for name in keys(local.functions) : name => "${var.name_prefix}${replace(name, "_", "-")}" }

  http_functions = toset([for name, f in local.functions : name if f.trigger == "http"])

  push_subscriptions        = { for id, s in local.subscriptions : id => s if try(s.push_function, null) != null }
  pushed_functions          = toset([for s in values(local.push_subscriptions) : s.push_function])
  dead_letter_subscriptions = { for id, s in local.subscriptions : id => s if try(s.dead_letter_topic, null) != null }
  dead_letter_topics        = toset([for s in values(local.dead_letter_subscriptions) : s.dead_letter_topic])

  # Topics the module wires by name (topology.json suffixes).
  object_events_topic  = "object-events"
  media_verified_topic = "media-verified"
  media_jobs_topic     = "media-jobs"

  # Functions that sign URLs through IAM signBlob as themselves.
  signing_functions = toset(["create_media", "list_media"])
  # Functions that read the JWT secret (device / UI authentication happens in the app).
  jwt_functions = toset(["create_media", "list_media"])
  # Firestore status mirror: writers and readers. create_media mirrors a declaration's first
  # status (pending_upload) and verifies inline snapshots; housekeeping ends stuck work.
  firestore_writers = toset(["create_media", "finalize_upload", "process_media", "housekeeping"])
  firestore_readers = toset(["list_media"])
  # Publishers of the topics the functions write to.
  media_verified_publishers = toset(["create_media", "finalize_upload", "housekeeping"])
  media_jobs_publishers     = toset(["list_media", "housekeeping"])

  # Sizing per function. process_media decodes video and runs detection: more memory, the
  # longest timeout. Timeouts of pushed functions stay within their subscription's ack deadline
  # (checked below). A pool of db_pool_size + db_max_overflow connections per instance.
  function_defaults = {
    create_media = {
      available_memory        = "512Mi"
      available_cpu           = "1"
      timeout_seconds         = 30
      min_instance_count      = 0
      max_instance_count      = 10
      max_request_concurrency = 4
      db_pool_size            = 2
      db_max_overflow         = 1
    }
    list_media = {
      available_memory        = "512Mi"
      available_cpu           = "1"
      timeout_seconds         = 300
      min_instance_count      = 0
      max_instance_count      = 10
      max_request_concurrency = 8
      db_pool_size            = 2
      db_max_overflow         = 1
    }
    finalize_upload = {
      available_memory        = "1Gi"
      available_cpu           = "1"
      timeout_seconds         = 120
      min_instance_count      = 0
      max_instance_count      = 10
      max_request_concurrency = 1
      db_pool_size            = 1
      db_max_overflow         = 0
    }
    housekeeping = {
      available_memory        = "1Gi"
      available_cpu           = "1"
      timeout_seconds         = 300
      min_instance_count      = 0
      max_instance_count      = 2
      max_request_concurrency = 1
      db_pool_size            = 1
      db_max_overflow         = 0
    }
    process_media = {
      available_memory        = "2Gi"
      available_cpu           = "1"
      timeout_seconds         = 540
      min_instance_count      = 0
      max_instance_count      = 5
      max_request_concurrency = 1
      db_pool_size            = 1
      db_max_overflow         = 0
    }
  }

  function_sizing = {
    for name, defaults in local.function_defaults : name => {
      for key, value in defaults : key => try(coalesce(var.function_overrides[name][key], value), value)
    }
  }

  # Postgres connections all instances of all functions may hold at once.
  sql_connection_budget = sum([
    for s in values(local.function_sizing) : s.max_instance_count * (s.db_pool_size + s.db_max_overflow)
  ])
}

check "topology_is_consistent" {
  assert {
    condition = alltrue([
      for s in values(local.subscriptions) : contains(keys(local.topics), s.topic)
    ])
    error_message = "topology.json: every subscription's topic must be a declared topic."
  }

  assert {
    condition     = alltrue([for t in local.dead_letter_topics : contains(keys(local.topics), t)])
    error_message = "topology.json: every dead_letter_topic must be a declared topic."
  }

  assert {
    condition     = alltrue([for f in local.pushed_functions : contains(keys(local.functions), f)])
    error_message = "topology.json: every push_function must be a declared function."
  }

  assert {
    condition = alltrue([
      for t in [local.object_events_topic, local.media_verified_topic, local.media_jobs_topic] : contains(keys(local.topics), t)
    ])
    error_message = "topology.json must declare the object-events, media-verified and media-jobs topics."
  }

  assert {
    condition     = length(setsubtract(keys(local.functions), keys(local.function_defaults))) == 0
    error_message = "Every function of topology.json needs sizing defaults in terraform/main.tf."
  }
}

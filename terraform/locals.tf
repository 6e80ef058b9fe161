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

  # What each function's identity may do, as data: iam.tf makes the storage, Pub/Sub and
  # Firestore grants from it. The local stack records every cloud call each function's code makes
  # (common/core/calls.py) and tests/integration/test_least_privilege.py fails when a call is not
  # allowed here. Object operations, per bucket: get (read, stat, signed GET), create (write,
  # signed PUT), delete (quarantine, replacing a rendition). `signs_urls`: signBlob as itself.
  function_access = {
    create_media = {
      objects    = { uploads = ["create", "delete", "get"] }
      publishes  = [local.media_verified_topic]
      firestore  = "write"
      signs_urls = true
    }
    list_media = {
      objects    = { uploads = ["get"], derivatives = ["get"] }
      publishes  = [local.media_jobs_topic]
      firestore  = "read"
      signs_urls = true
    }
    manage_media = {
      objects    = { uploads = ["create", "delete", "get"], derivatives = ["create", "delete", "get"] }
      publishes  = []
      firestore  = "write"
      signs_urls = false
    }
    finalize_upload = {
      objects    = { uploads = ["create", "delete", "get"] }
      publishes  = [local.media_verified_topic]
      firestore  = "write"
      signs_urls = false
    }
    process_media = {
      objects    = { uploads = ["get"], derivatives = ["create", "delete", "get"] }
      publishes  = []
      firestore  = "write"
      signs_urls = false
    }
    housekeeping = {
      objects    = { uploads = ["create", "delete", "get"] }
      publishes  = [local.media_verified_topic, local.media_jobs_topic]
      firestore  = "write"
      signs_urls = false
    }
  }

  # Object grants: "get" is roles/storage.objectViewer, "create,delete,get" roles/storage.objectUser
  # (iam.tf); any other set of operations has no grant and fails the check below.
  object_grants = merge([
    for name, access in local.function_access : {
      for bucket, operations in access.objects : "${bucket} ${name}" => {
        bucket     = bucket
        function   = name
        operations = join(",", sort(operations))
      }
    }
  ]...)
  topic_publishers = merge([
    for name, access in local.function_access : {
      for topic in access.publishes : "${topic} ${name}" => { topic = topic, function = name }
    }
  ]...)

  # Functions that sign URLs through IAM signBlob as themselves.
  signing_functions = toset([for name, a in local.function_access : name if a.signs_urls])
  # Functions that read the JWT secret (device / UI authentication happens in the app).
  jwt_functions = toset(["create_media", "list_media", "manage_media"])
  # Firestore status mirror: writers and readers.
  firestore_writers = toset([for name, a in local.function_access : name if a.firestore == "write"])
  firestore_readers = toset([for name, a in local.function_access : name if a.firestore == "read"])

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
    manage_media = {
      available_memory        = "512Mi"
      available_cpu           = "1"
      timeout_seconds         = 60
      min_instance_count      = 0
      max_instance_count      = 3
      max_request_concurrency = 2
      db_pool_size            = 1
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

  assert {
    condition     = length(setsubtract(keys(local.functions), keys(local.function_access))) == 0
    error_message = "Every function of topology.json needs its access in local.function_access."
  }

  assert {
    condition     = alltrue([for g in values(local.object_grants) : contains(["get", "create,delete,get"], g.operations)])
    error_message = "local.function_access: object operations must be [get] or [create, delete, get]."
  }
}

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
  # Cloud Scheduler jobs (scheduler.tf): each publishes `attributes` to `topic` on `cron` (UTC).
  # `every_seconds` is the same period for the local stack's timer; Terraform uses `cron`.
  schedules       = try(local.topology.schedules, {})
  schedule_topics = toset([for s in values(local.schedules) : s.topic])

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
  webhook_topic        = "webhook-deliveries"

  # What each function's identity may do, as data: iam.tf makes the storage, Pub/Sub and
  # Firestore grants from it. The local stack records every cloud call each function's code makes
  # (common/core/calls.py) and tests/integration/test_least_privilege.py fails when a call is not
  # allowed here. Object operations, per bucket: get (read, stat, signed GET), create (write,
  # signed PUT), delete (quarantine, replacing a rendition). `signs_urls`: signBlob as itself.
  function_access = {
    create_media = {
      # derivatives: a data URL's bytes staged for its ingest job (ingest/), removed on a replay.
      objects    = { uploads = ["create", "delete", "get"], derivatives = ["create", "delete", "get"] }
      publishes  = [local.media_verified_topic, local.media_jobs_topic, local.webhook_topic]
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
      objects = { uploads = ["create", "delete", "get"], derivatives = ["create", "delete", "get"] }
      # An operator's revival hands dead-lettered work over again; a replayed webhook delivery.
      publishes = [local.media_verified_topic, local.media_jobs_topic, local.webhook_topic]
      firestore = "write"
      # PATCH and pin answer the media's detail, whose rendition URLs are signed.
      signs_urls = true
    }
    finalize_upload = {
      objects    = { uploads = ["create", "delete", "get"] }
      publishes  = [local.media_verified_topic, local.webhook_topic]
      firestore  = "write"
      signs_urls = false
    }
    process_media = {
      # models: the detector model (DETECTOR_MODEL_URI), downloaded once per instance.
      # uploads: ingest jobs store the bytes they fetched as new originals (create if absent).
      # webhook-deliveries: events and media.processed / media.failed (common/webhooks/outbox.py);
      # media-jobs: event clips (common/jobs/event_clips.py).
      objects    = { uploads = ["create", "get"], derivatives = ["create", "delete", "get"], models = ["get"] }
      publishes  = [local.media_jobs_topic, local.webhook_topic]
      firestore  = "write"
      signs_urls = false
    }
    housekeeping = {
      # uploads: the reconciler verifies stuck uploads again (quarantine moves included);
      # derivatives: the retention sweep and the reconciler's finished deletes remove a media's
      # renditions and track snapshots (common/media/delete.py), nothing else.
      objects    = { uploads = ["create", "delete", "get"], derivatives = ["delete"] }
      publishes  = [local.media_verified_topic, local.media_jobs_topic, local.webhook_topic]
      firestore  = "write"
      signs_urls = false
    }
    deliver_webhook = {
      # Reads and updates webhook_deliveries in Postgres and POSTs to endpoints users registered
      # (common/fetch SSRF rules): no bucket, no topic (retries are Pub/Sub redeliveries), no
      # Firestore, no signing, no JWT secret.
      objects    = {}
      publishes  = []
      firestore  = "none"
      signs_urls = false
    }
  }

  # Object grants, bound on each bucket with a project-level custom role (iam.tf) holding exactly
  # the permissions of the operations: no function may list a bucket, administer it or touch its
  # IAM. "get" is the reader role, "create,get" the creator role, "create,delete,get" the writer
  # role, "delete" the deleter role; any other set of operations has no role and fails the check
  # below.
  object_grants = merge([
    for name, access in local.function_access : {
      for bucket, operations in access.objects : "${bucket} ${name}" => {
        bucket     = bucket
        function   = name
        operations = join(",", sort(operations))
      }
    }
  ]...)
  storage_operation_permissions = {
    get    = "storage.objects.get"
    create = "storage.objects.create"
    delete = "storage.objects.delete"
  }
  storage_custom_roles = {
    # role_id allows letters, digits, underscores and dots only: "media-dev-" -> "media_dev_".
    reader = {
      role_id     = "${replace(var.name_prefix, "-", "_")}objectReader"
      title       = "Media pipeline (${var.name_prefix}) object reader"
      description = "Read objects of one bucket (bound per bucket): storage.objects.get only, no list."
      operations  = ["get"]
    }
    creator = {
      role_id     = "${replace(var.name_prefix, "-", "_")}objectCreator"
      title       = "Media pipeline (${var.name_prefix}) object creator"
      description = "Read and create objects of one bucket (bound per bucket), no delete, no list."
      operations  = ["create", "get"]
    }
    writer = {
      role_id     = "${replace(var.name_prefix, "-", "_")}objectWriter"
      title       = "Media pipeline (${var.name_prefix}) object writer"
      description = "Read, create and delete objects of one bucket (bound per bucket), no list."
      operations  = ["create", "delete", "get"]
    }
    deleter = {
      role_id     = "${replace(var.name_prefix, "-", "_")}objectDeleter"
      title       = "Media pipeline (${var.name_prefix}) object deleter"
      description = "Delete objects of one bucket (bound per bucket): no read, no create, no list."
      operations  = ["delete"]
    }
  }
  storage_custom_role_permissions = {
    for key, role in local.storage_custom_roles : key => sort([for op in role.operations : local.storage_operation_permissions[op]])
  }
  storage_role_of_operations = { for key, role in local.storage_custom_roles : join(",", sort(role.operations)) => key }

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
  # (checked below). Each instance runs max_request_concurrency gunicorn threads (THREADS) and
  # keeps a pool of db_pool_size connections, by default one per thread, so requests never wait
  # for a connection and none is opened and closed per request (SQLAlchemy closes overflow
  # connections when they are returned). db_max_overflow stays 0: every connection above the
  # pool would churn.
  function_defaults = {
    create_media = {
      available_memory        = "512Mi"
      available_cpu           = "1"
      timeout_seconds         = 30
      min_instance_count      = 0
      max_instance_count      = 10
      max_request_concurrency = 4
      db_max_overflow         = 0
    }
    list_media = {
      available_memory        = "512Mi"
      available_cpu           = "1"
      timeout_seconds         = 300
      min_instance_count      = 0
      max_instance_count      = 10
      max_request_concurrency = 8
      db_max_overflow         = 0
    }
    manage_media = {
      available_memory        = "512Mi"
      available_cpu           = "1"
      timeout_seconds         = 60
      min_instance_count      = 0
      max_instance_count      = 3
      max_request_concurrency = 2
      db_max_overflow         = 0
    }
    finalize_upload = {
      available_memory        = "1Gi"
      available_cpu           = "1"
      timeout_seconds         = 120
      min_instance_count      = 0
      max_instance_count      = 10
      max_request_concurrency = 1
      db_max_overflow         = 0
    }
    housekeeping = {
      available_memory        = "1Gi"
      available_cpu           = "1"
      timeout_seconds         = 300
      min_instance_count      = 0
      max_instance_count      = 2
      max_request_concurrency = 1
      db_max_overflow         = 0
    }
    deliver_webhook = {
      available_memory        = "512Mi"
      available_cpu           = "1"
      timeout_seconds         = 60
      min_instance_count      = 0
      max_instance_count      = 3
      max_request_concurrency = 2
      db_max_overflow         = 0
    }
    process_media = {
      available_memory        = "2Gi"
      available_cpu           = "1"
      timeout_seconds         = 540
      min_instance_count      = 0
      max_instance_count      = 5
      max_request_concurrency = 1
      db_max_overflow         = 0
    }
  }

  function_sizing_requested = {
    for name, defaults in local.function_defaults : name => {
      for key, value in defaults : key => try(coalesce(var.function_overrides[name][key], value), value)
    }
  }
  # threads = max_request_concurrency (THREADS); db_pool_size follows it unless overridden.
  function_sizing = {
    for name, s in local.function_sizing_requested : name => merge(s, {
      threads      = s.max_request_concurrency
      db_pool_size = try(coalesce(var.function_overrides[name].db_pool_size, s.max_request_concurrency), s.max_request_concurrency)
    })
  }
  # Sizings the functions cannot run with, as messages (a precondition in functions.tf fails the
  # plan on any; the tests evaluate them offline).
  function_sizing_problems = flatten([
    for name, s in local.function_sizing : concat(
      s.db_pool_size > 20 ? ["${name}: db_pool_size ${s.db_pool_size} exceeds 20 (the Settings bound); with max_request_concurrency above 20 set db_pool_size (and db_max_overflow) explicitly."] : [],
      s.db_pool_size + s.db_max_overflow < s.threads ? ["${name}: db_pool_size + db_max_overflow (${s.db_pool_size + s.db_max_overflow}) is below its ${s.threads} threads: requests would wait for a connection."] : [],
      s.min_instance_count > s.max_instance_count ? ["${name}: min_instance_count exceeds max_instance_count."] : [],
    )
  ])

  # Postgres connections all instances of all functions may hold at once.
  sql_connection_budget = sum([
    for s in values(local.function_sizing) : s.max_instance_count * (s.db_pool_size + s.db_max_overflow)
  ])
}

locals {
  # ---------------------------------------------------------------------------------------------
  # Customer-managed encryption of the uploads and derivatives buckets (optional)
  # ---------------------------------------------------------------------------------------------

  # projects/P/locations/L/keyRings/R/cryptoKeys/K -> L; the key must be in the buckets' location.
  kms_key_location = var.kms_key_name == null ? null : split("/", var.kms_key_name)[3]

  # ---------------------------------------------------------------------------------------------
  # Log-based metrics (monitoring.tf) from the functions' structured logs: every event line is a
  # JSON object on stdout with jsonPayload.event and the event's fields.
  # ---------------------------------------------------------------------------------------------

  # Only this deployment's functions (Cloud Functions 2nd gen log as their Cloud Run service).
  function_log_filter = join(" OR ", [for name in sort(keys(local.function_service_names)) : "resource.labels.service_name=\"${local.function_service_names[name]}\""])

  # kind: "distribution" (value_field extracted into buckets) or "counter" (one per line);
  # labels: jsonPayload fields that become metric labels (low cardinality only).
  log_metric_definitions = {
    upload_bytes = {
      event       = "upload.verified"
      kind        = "distribution"
      value_field = "size_bytes"
      unit        = "By"
      labels      = {}
      description = "Size in bytes of each verified upload (sum: bytes uploaded)."
    }
    dedupe_hits = {
      event       = "dedupe.hit"
      kind        = "counter"
      value_field = null
      unit        = "1"
      labels      = {}
      description = "Uploads or ingests answered with existing media of the same SHA-256 (stored once)."
    }
    upload_rejections = {
      event       = "upload.rejected"
      kind        = "counter"
      value_field = null
      unit        = "1"
      labels      = { reason_code = "Why verification rejected the upload." }
      description = "Uploads rejected by verification, by reason_code."
    }
    quota_refusals = {
      event       = "quota.refused"
      kind        = "counter"
      value_field = null
      unit        = "1"
      labels      = { reason_code = "Which quota refused: bytes_per_day or media_per_day." }
      description = "Declarations or ingests refused by a quota (429), by reason_code."
    }
    ingest_fetch_failures = {
      event       = "ingest.fetch_failed"
      kind        = "counter"
      value_field = null
      unit        = "1"
      labels      = { reason_code = "url_not_allowed, fetch_failed or too_large." }
      description = "Server-side ingests whose remote fetch failed or was refused, by reason_code."
    }
    dead_letters = {
      event       = "delivery.dead_lettered"
      kind        = "counter"
      value_field = null
      unit        = "1"
      labels      = { subscription = "Subscription whose message exhausted its delivery attempts." }
      description = "Messages that reached the dead-letter handler, by source subscription."
    }
    share_opens = {
      event       = "share.opened"
      kind        = "counter"
      value_field = null
      unit        = "1"
      labels      = {}
      description = "Share links opened."
    }
  }

  log_metrics = {
    for key, m in local.log_metric_definitions : key => merge(m, {
      # Metric names carry the prefix so several deployments can share a project.
      name   = "${replace(var.name_prefix, "-", "_")}${key}"
      filter = "resource.type=\"cloud_run_revision\" AND (${local.function_log_filter}) AND jsonPayload.event=\"${m.event}\""
    })
  }

  log_metric_types = { for key, m in local.log_metrics : key => "logging.googleapis.com/user/${m.name}" }

  # Dashboard charts of the metrics (monitoring.tf adds the two alert policies' charts): one per
  # metric, counters as bars by their label, upload sizes as a heatmap, plus bytes per hour.
  dashboard_charts = concat(
    [
      {
        title = "Upload sizes (verified uploads)"
        dataSets = [{
          plotType = "HEATMAP"
          timeSeriesQuery = {
            timeSeriesFilter = {
              filter      = "metric.type=\"${local.log_metric_types.upload_bytes}\" resource.type=\"cloud_run_revision\""
              aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_SUM", groupByFields = [] }
            }
          }
        }]
      },
      {
        title = "Bytes uploaded per hour"
        dataSets = [{
          plotType = "STACKED_BAR"
          timeSeriesQuery = {
            # Distributions read as Prometheus histograms: <metric>_sum is the sum of sizes.
            prometheusQuery = "sum(increase(logging_googleapis_com:user_${local.log_metrics.upload_bytes.name}_sum[1h]))"
          }
        }]
      },
    ],
    [
      for key in ["upload_rejections", "dedupe_hits", "quota_refusals", "ingest_fetch_failures", "dead_letters", "share_opens"] : {
        title = "${local.log_metric_definitions[key].description} (per 5 min)"
        dataSets = [{
          plotType = "STACKED_BAR"
          timeSeriesQuery = {
            timeSeriesFilter = {
              filter = "metric.type=\"${local.log_metric_types[key]}\" resource.type=\"cloud_run_revision\""
              aggregation = {
                alignmentPeriod    = "300s"
                perSeriesAligner   = "ALIGN_SUM"
                crossSeriesReducer = "REDUCE_SUM"
                groupByFields      = [for label in keys(local.log_metric_definitions[key].labels) : "metric.label.${label}"]
              }
            }
          }
        }]
      }
    ],
  )

  # ---------------------------------------------------------------------------------------------
  # Web gallery (web.tf): a Cloud Run service serving web/dist, enabled by web_gallery_image
  # ---------------------------------------------------------------------------------------------

  web_gallery_enabled      = var.web_gallery_image != null
  web_gallery_service_name = "${var.name_prefix}web"
  # Cloud Run's ingress names for the functions' http_ingress_settings.
  cloud_run_ingress = {
    ALLOW_ALL               = "INGRESS_TRAFFIC_ALL"
    ALLOW_INTERNAL_ONLY     = "INGRESS_TRAFFIC_INTERNAL_ONLY"
    ALLOW_INTERNAL_AND_GCLB = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
  }[var.http_ingress_settings]

  # ---------------------------------------------------------------------------------------------
  # Detector model (process_media)
  # ---------------------------------------------------------------------------------------------

  # One source of truth for the default model: the pins `make models` builds against.
  detector_model_pins   = jsondecode(file("${path.module}/../models/models.json"))["ssd_mobilenetv2_oidv4"]
  detector_model_upload = var.detector_model_object == null
  detector_model_file   = coalesce(var.detector_model_file, "${path.module}/../models/${local.detector_model_pins.output}")
  detector_model_sha256 = coalesce(var.detector_model_sha256, local.detector_model_pins.output_sha256)
  detector_model_object = coalesce(var.detector_model_object, "ssd_mobilenetv2_oidv4/${substr(local.detector_model_sha256, 0, 12)}.onnx")
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
    error_message = "Every function of topology.json needs sizing defaults in local.function_defaults (terraform/locals.tf)."
  }

  assert {
    condition     = length(setsubtract(keys(local.functions), keys(local.function_access))) == 0
    error_message = "Every function of topology.json needs its access in local.function_access."
  }

  assert {
    condition     = alltrue([for g in values(local.object_grants) : contains(keys(local.storage_role_of_operations), g.operations)])
    error_message = "local.function_access: object operations must be [get], [create, get], [create, delete, get] or [delete] (the custom storage roles)."
  }

  assert {
    condition     = alltrue([for s in values(local.schedules) : contains(keys(local.topics), s.topic)])
    error_message = "topology.json: every schedule's topic must be a declared topic."
  }

  assert {
    condition = alltrue([
      for t in local.schedule_topics : anytrue([for s in values(local.push_subscriptions) : s.topic == t])
    ])
    error_message = "topology.json: every schedule's topic needs a push subscription (the handler of the ticks)."
  }
}

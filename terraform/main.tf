# Values that depend on resources: names for IAM conditions and the functions' environment.

data "google_project" "this" {
  project_id = var.project_id

  depends_on = [google_project_service.enabled]
}

locals {
  sql_instance_resource_name = "projects/${var.project_id}/instances/${google_sql_database_instance.main.name}"
  firestore_resource_name    = "projects/${var.project_id}/databases/${google_firestore_database.status.name}"
  bucket_names = {
    uploads     = google_storage_bucket.uploads.name
    derivatives = google_storage_bucket.derivatives.name
    models      = google_storage_bucket.models.name
  }

  # The gallery's origin is Cloud Run's deterministic URL https://SERVICE-PROJECT_NUMBER.REGION.run.app,
  # computed rather than read from the service: the service's config names the function URLs and
  # the functions' CORS names the service (web.tf checks the service really has this URL).
  web_gallery_origin   = local.web_gallery_enabled ? "https://${local.web_gallery_service_name}-${data.google_project.this.number}.${var.region}.run.app" : null
  cors_allowed_origins = distinct(concat(local.web_gallery_enabled ? [local.web_gallery_origin] : [], var.cors_allowed_origins))
  upload_cors_origins  = distinct(concat(local.web_gallery_enabled ? [local.web_gallery_origin] : [], var.upload_cors_origins))

  # Environment of every function: upper-cased field names of common.settings.Settings.
  common_environment = merge(
    var.extra_environment_variables,
    {
      GOOGLE_CLOUD_PROJECT       = var.project_id
      CLOUD_SQL_INSTANCE         = google_sql_database_instance.main.connection_name
      DB_NAME                    = google_sql_database.media.name
      UPLOADS_BUCKET             = google_storage_bucket.uploads.name
      DERIVATIVES_BUCKET         = google_storage_bucket.derivatives.name
      QUARANTINE_PREFIX          = var.quarantine_prefix
      REJECTED_OBJECT_ACTION     = var.rejected_object_action
      UPLOAD_URL_TTL_SECONDS     = tostring(var.upload_url_ttl_seconds)
      DOWNLOAD_URL_TTL_SECONDS   = tostring(var.download_url_ttl_seconds)
      MEDIA_VERIFIED_TOPIC       = google_pubsub_topic.topic[local.media_verified_topic].name
      MEDIA_JOBS_TOPIC           = google_pubsub_topic.topic[local.media_jobs_topic].name
      FIRESTORE_DATABASE         = google_firestore_database.status.name
      JWT_AUDIENCE               = var.jwt_audience
      JWT_ALGORITHMS             = jsonencode(var.jwt_algorithms)
      MAX_UPLOAD_SIZE_BYTES      = format("%d", var.max_upload_size_bytes)
      MIME_ALLOWLIST             = jsonencode(var.mime_allowlist)
      MAX_EVENT_AGE_SECONDS      = tostring(var.max_event_age_seconds)
      INGEST_ALLOWED_HOSTS       = jsonencode(var.ingest_allowed_hosts)
      INGEST_MAX_BYTES           = format("%d", var.ingest_max_bytes)
      EXPOSE_STORAGE_LOCATIONS   = tostring(var.expose_storage_locations)
      QUOTA_DEVICE_BYTES_PER_DAY = format("%d", var.daily_quotas.device_bytes)
      QUOTA_DEVICE_MEDIA_PER_DAY = format("%d", var.daily_quotas.device_media)
      QUOTA_USER_BYTES_PER_DAY   = format("%d", var.daily_quotas.user_bytes)
      QUOTA_USER_MEDIA_PER_DAY   = format("%d", var.daily_quotas.user_media)
      # Not a Settings field: Cloud Functions sets it on every 2nd gen function (execution IDs
      # in functions-framework logs); declaring it avoids a permanent plan diff.
      LOG_EXECUTION_ID = "true"
    },
    var.jwt_issuer == null ? {} : { JWT_ISSUER = var.jwt_issuer },
    var.jwt_jwks_url == null ? {} : { JWT_JWKS_URL = var.jwt_jwks_url },
  )

  function_environment = {
    for name in keys(local.functions) : name => merge(
      local.common_environment,
      {
        # Cloud SQL names IAM database users of service accounts by the email without
        # ".gserviceaccount.com".
        DB_IAM_USER     = trimsuffix(google_service_account.function[name].email, ".gserviceaccount.com")
        DB_POOL_SIZE    = tostring(local.function_sizing[name].db_pool_size)
        DB_MAX_OVERFLOW = tostring(local.function_sizing[name].db_max_overflow)
        # Not a Settings field: functions-framework's gunicorn runs this many threads per
        # instance; equal to max_instance_request_concurrency, so every admitted request has a
        # thread and (db_pool_size) a pooled connection.
        THREADS = tostring(local.function_sizing[name].threads)
      },
      contains(local.signing_functions, name) ? { SIGNING_SERVICE_ACCOUNT_EMAIL = google_service_account.function[name].email } : {},
      # Browsers call the HTTP functions from the gallery and the extra origins (JSON list).
      contains(local.http_functions, name) ? { CORS_ALLOWED_ORIGINS = jsonencode(local.cors_allowed_origins) } : {},
      # The object detector's model, read from the models bucket and checked against its hash
      # (the uploaded object's name is read from the resource: the function waits for it).
      name == "process_media" ? {
        DETECTOR_MODEL_URI    = "gs://${google_storage_bucket.models.name}/${local.detector_model_upload ? google_storage_bucket_object.detector_model[0].name : local.detector_model_object}"
        DETECTOR_MODEL_SHA256 = local.detector_model_sha256
      } : {},
      # manage_media makes share links; they open on list_media (Cloud Run's deterministic
      # URL, as for the gallery: the function's own URI would be a self-reference).
      name == "manage_media" ? { PUBLIC_BASE_URL = "https://${local.function_service_names["list_media"]}-${data.google_project.this.number}.${var.region}.run.app" } : {},
      # list_media serves Server-Sent Events: a stream closes itself before the request timeout.
      name == "list_media" ? { SSE_MAX_SECONDS = tostring(max(local.function_sizing[name].timeout_seconds - 30, 30)) } : {},
    )
  }

  # The migrate job's environment (migrate.tf): Settings of the connection as the migration
  # identity, and every function's database user for the media_app grant.
  migration_environment = {
    GOOGLE_CLOUD_PROJECT = var.project_id
    CLOUD_SQL_INSTANCE   = google_sql_database_instance.main.connection_name
    DB_NAME              = google_sql_database.media.name
    DB_IAM_USER          = google_sql_user.migrate.name
    DB_APP_USERS         = jsonencode(sort([for user in google_sql_user.function : user.name]))
    DB_OWNER_ROLE        = "media_owner"
    DB_APP_ROLE          = "media_app"
    DB_ADMIN_ROLE        = "cloudsqlsuperuser"
  }
}

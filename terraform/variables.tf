# ---------------------------------------------------------------------------------------------
# Project and naming
# ---------------------------------------------------------------------------------------------

variable "project_id" {
  type        = string
  description = "ID of the Google Cloud project everything is created in."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a valid project ID (6-30 lowercase letters, digits, hyphens)."
  }
}

variable "region" {
  type        = string
  description = "Region of the functions, the Cloud SQL instance, the buckets and the Artifact Registry repository, e.g. \"europe-west1\"."
  default     = "us-central1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a single Google Cloud region such as \"us-central1\"."
  }
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name, and of the topic and subscription IDs of topology.json (\"media-\" turns \"object-events\" into \"media-object-events\"). Lowercase letters, digits and hyphens, ending in a hyphen; at most 14 characters so service account IDs stay within 30."
  default     = "media-"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,12}-$", var.name_prefix))
    error_message = "name_prefix must match ^[a-z][a-z0-9-]{0,12}-$ (1-14 characters, ending in a hyphen)."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels added to every labelled resource (buckets, functions, topics, Cloud SQL, secret)."
  default     = {}
}

variable "disable_services_on_destroy" {
  type        = bool
  description = "Whether `terraform destroy` disables the APIs this module enabled. Keep false in shared projects."
  default     = false
}

# ---------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------

variable "functions_dist_dir" {
  type        = string
  description = "Directory holding <function>.zip for every function of topology.json, as written by `python scripts/package_functions.py`. null: <repository>/dist/functions, found relative to this module. A relative path is relative to the directory terraform runs in."
  default     = null
}

variable "function_overrides" {
  type = map(object({
    available_memory        = optional(string)
    available_cpu           = optional(string)
    timeout_seconds         = optional(number)
    min_instance_count      = optional(number)
    max_instance_count      = optional(number)
    max_request_concurrency = optional(number)
    db_pool_size            = optional(number)
    db_max_overflow         = optional(number)
  }))
  description = "Per-function sizing that replaces the module defaults (see README, \"Function sizing\"), keyed by function name. Memory is a Cloud Run quantity (\"512Mi\", \"2Gi\"), CPU a count (\"1\", \"2\"). max_request_concurrency is also the number of gunicorn threads (THREADS); db_pool_size defaults to it, and db_pool_size + db_max_overflow is the number of Postgres connections one instance may hold. min_instance_count > 0 keeps instances warm (the only cold-start lever; billed while idle)."
  default     = {}

  validation {
    condition = alltrue([
      for name in keys(var.function_overrides) :
      contains(["create_media", "list_media", "manage_media", "finalize_upload", "process_media", "housekeeping", "deliver_webhook"], name)
    ])
    error_message = "function_overrides keys must be function names: create_media, list_media, manage_media, finalize_upload, process_media, housekeeping, deliver_webhook."
  }

  validation {
    condition = alltrue([
      for o in values(var.function_overrides) :
      o.max_request_concurrency == null ? true : (o.max_request_concurrency >= 1 && o.max_request_concurrency <= 1000)
    ])
    error_message = "max_request_concurrency must be between 1 and 1000 (Cloud Run's limit)."
  }

  validation {
    condition = alltrue([
      for o in values(var.function_overrides) :
      o.db_max_overflow == null ? true : (o.db_max_overflow >= 0 && o.db_max_overflow <= 20)
    ])
    error_message = "db_max_overflow must be between 0 and 20 (common/core/settings.py bounds)."
  }

  validation {
    condition = alltrue([
      for o in values(var.function_overrides) :
      o.min_instance_count == null ? true : (o.min_instance_count >= 0 && o.min_instance_count <= 100)
    ])
    error_message = "min_instance_count must be between 0 and 100."
  }

  validation {
    condition = alltrue([
      for o in values(var.function_overrides) :
      o.timeout_seconds == null ? true : (o.timeout_seconds >= 1 && o.timeout_seconds <= 3600)
    ])
    error_message = "timeout_seconds must be between 1 and 3600 (HTTP functions)."
  }

  validation {
    condition = alltrue([
      for o in values(var.function_overrides) :
      o.max_instance_count == null ? true : (o.max_instance_count >= 1 && o.max_instance_count <= 1000)
    ])
    error_message = "max_instance_count must be between 1 and 1000."
  }

  validation {
    condition = alltrue([
      for o in values(var.function_overrides) :
      o.db_pool_size == null ? true : (o.db_pool_size >= 1 && o.db_pool_size <= 20)
    ])
    error_message = "db_pool_size must be between 1 and 20 (common/core/settings.py bounds)."
  }
}

variable "http_ingress_settings" {
  type        = string
  description = "Ingress of the three HTTP functions create_media, list_media and manage_media (manage_media serves the admin and owner routes too) and of the web gallery. ALLOW_ALL lets devices and browsers call their URLs directly; ALLOW_INTERNAL_AND_GCLB requires an external Application Load Balancer (or API Gateway) in front. The Pub/Sub-pushed functions are always ALLOW_INTERNAL_ONLY."
  default     = "ALLOW_ALL"

  validation {
    condition     = contains(["ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"], var.http_ingress_settings)
    error_message = "http_ingress_settings must be ALLOW_ALL, ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB."
  }
}

variable "allow_unauthenticated_http" {
  type        = bool
  description = "true: allUsers gets roles/run.invoker on all three HTTP functions (create_media, list_media and manage_media, whose admin routes are then reachable from the internet and answered 401/403 by the application without an admin JWT) and on the web gallery, so a device or browser calls them with only its app JWT. false: callers also need a Google identity token of a principal in http_invoker_members (an API Gateway / IAP service account or a UI backend)."
  default     = false
}

variable "http_invoker_members" {
  type        = list(string)
  description = "IAM principals (\"serviceAccount:...\", \"group:...\", \"user:...\") that get roles/run.invoker on the three HTTP functions (create_media, list_media, manage_media) and the web gallery, e.g. the API Gateway or UI backend service account."
  default     = []

  validation {
    condition = alltrue([
      for m in var.http_invoker_members :
      can(regex("^(serviceAccount|group|user|domain|principal|principalSet):.+", m))
    ])
    error_message = "http_invoker_members entries must be IAM principals like \"serviceAccount:x@p.iam.gserviceaccount.com\"; use allow_unauthenticated_http for allUsers."
  }
}

variable "vpc_connector" {
  type        = string
  description = "Serverless VPC Access connector (projects/P/locations/R/connectors/NAME) the functions use to reach a private-IP Cloud SQL instance. Required when sql_private_network is set; null otherwise."
  default     = null
}

# ---------------------------------------------------------------------------------------------
# Application settings (become function environment variables; see common/settings.py)
# ---------------------------------------------------------------------------------------------

variable "max_upload_size_bytes" {
  type        = number
  description = "MAX_UPLOAD_SIZE_BYTES: largest object a signed upload URL accepts (x-goog-content-length-range)."
  default     = 2147483648

  validation {
    condition     = var.max_upload_size_bytes > 0 && var.max_upload_size_bytes <= 5497558138880
    error_message = "max_upload_size_bytes must be between 1 and 5 TiB (the Cloud Storage object limit)."
  }
}

variable "mime_allowlist" {
  type        = list(string)
  description = "MIME_ALLOWLIST: content types create_media accepts."
  default     = ["image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp", "image/tiff", "video/mp4", "video/quicktime", "video/webm"]
}

variable "ingest_allowed_hosts" {
  type        = list(string)
  description = "INGEST_ALLOWED_HOSTS: hosts the server may fetch remote URLs from (exact names or *.suffix); empty: any public host."
  default     = []
}

variable "ingest_max_bytes" {
  type        = number
  description = "INGEST_MAX_BYTES: largest body a remote URL ingest reads (cut off past it)."
  default     = 104857600

  validation {
    condition     = var.ingest_max_bytes > 0
    error_message = "ingest_max_bytes must be positive."
  }
}

variable "daily_quotas" {
  type = object({
    device_bytes = number
    device_media = number
    user_bytes   = number
    user_media   = number
  })
  description = "QUOTA_DEVICE_BYTES_PER_DAY, QUOTA_DEVICE_MEDIA_PER_DAY, QUOTA_USER_BYTES_PER_DAY, QUOTA_USER_MEDIA_PER_DAY: what a device and a user may declare per UTC day (an admin may override a device's)."
  default = {
    device_bytes = 53687091200
    device_media = 20000
    user_bytes   = 214748364800
    user_media   = 100000
  }

  validation {
    condition     = alltrue([for v in values(var.daily_quotas) : v >= 0])
    error_message = "daily_quotas must not be negative."
  }
}

variable "expose_storage_locations" {
  type        = bool
  description = "EXPOSE_STORAGE_LOCATIONS: show buckets, object names and URIs to non-admins (admins always see them)."
  default     = false
}

variable "upload_url_ttl_seconds" {
  type        = number
  description = "UPLOAD_URL_TTL_SECONDS: lifetime of a signed PUT URL."
  default     = 900

  validation {
    condition     = var.upload_url_ttl_seconds >= 60 && var.upload_url_ttl_seconds <= 604800
    error_message = "upload_url_ttl_seconds must be between 60 and 604800 (V4 signing limit)."
  }
}

variable "download_url_ttl_seconds" {
  type        = number
  description = "DOWNLOAD_URL_TTL_SECONDS: lifetime of a signed GET URL returned by list_media."
  default     = 300

  validation {
    condition     = var.download_url_ttl_seconds >= 60 && var.download_url_ttl_seconds <= 604800
    error_message = "download_url_ttl_seconds must be between 60 and 604800 (V4 signing limit)."
  }
}

variable "jwt_audience" {
  type        = string
  description = "JWT_AUDIENCE: the `aud` device and UI tokens must carry."
  default     = "media-api"
}

variable "jwt_issuer" {
  type        = string
  description = "JWT_ISSUER: the `iss` tokens must carry; null accepts any issuer."
  default     = null
}

variable "jwt_algorithms" {
  type        = list(string)
  description = "JWT_ALGORITHMS: accepted signing algorithms. HS* verify the deployment's own tokens (devices, admins) with the shared secret in Secret Manager; RS*/ES* verify an identity provider's ID tokens (the web gallery's users) with the keys at jwt_jwks_url, and such tokens are always user tokens."
  default     = ["HS256"]

  validation {
    condition     = length(var.jwt_algorithms) > 0 && alltrue([for a in var.jwt_algorithms : contains(["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384"], a)])
    error_message = "jwt_algorithms must be a non-empty subset of HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384 (RS*/ES* also need jwt_jwks_url)."
  }
}

variable "jwt_jwks_url" {
  type        = string
  description = "JWT_JWKS_URL: the identity provider's JWKS endpoint (https) whose keys verify RS*/ES* ID tokens; null accepts no asymmetric tokens."
  default     = null

  validation {
    condition     = var.jwt_jwks_url == null || can(regex("^https://[^\\s]+$", var.jwt_jwks_url))
    error_message = "jwt_jwks_url must be null or an https:// URL."
  }
}

variable "jwt_secret_version" {
  type        = string
  description = "Secret Manager version of JWT_SECRET the HTTP functions load: \"latest\" (resolved when an instance starts) or a version number. Setting a new number and applying rolls out a new revision, so every instance switches at once (docs/RUNBOOKS/DEPLOY.md)."
  default     = "latest"

  validation {
    condition     = can(regex("^(latest|[1-9][0-9]*)$", var.jwt_secret_version))
    error_message = "jwt_secret_version must be \"latest\" or a positive version number."
  }
}

variable "jwt_previous_secret_version" {
  type        = string
  description = "Secret Manager version number of the previous JWT secret, still accepted for verification (JWT_PREVIOUS_SECRET) while devices move to tokens signed with jwt_secret_version; null outside a rotation."
  default     = null

  validation {
    condition     = var.jwt_previous_secret_version == null || can(regex("^[1-9][0-9]*$", var.jwt_previous_secret_version))
    error_message = "jwt_previous_secret_version must be null or a positive version number."
  }
}

variable "rejected_object_action" {
  type        = string
  description = "REJECTED_OBJECT_ACTION: what finalize_upload does with an object that fails verification."
  default     = "quarantine"

  validation {
    condition     = contains(["quarantine", "delete"], var.rejected_object_action)
    error_message = "rejected_object_action must be \"quarantine\" or \"delete\"."
  }
}

variable "max_event_age_seconds" {
  type        = number
  description = "MAX_EVENT_AGE_SECONDS: events older than this are acknowledged and dropped with a log line."
  default     = 604800

  validation {
    condition     = var.max_event_age_seconds > 0
    error_message = "max_event_age_seconds must be positive."
  }
}

variable "extra_environment_variables" {
  type        = map(string)
  description = "More Settings fields for every function, by upper-cased field name (e.g. { DETECTION_MIN_SCORE = \"0.4\", THUMBNAIL_MAX_PX = \"480\" }). Variables the module sets itself take precedence."
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.extra_environment_variables) : can(regex("^[A-Z][A-Z0-9_]*$", k)) && k != "JWT_SECRET"])
    error_message = "extra_environment_variables keys must be upper-case Settings names; JWT_SECRET comes only from Secret Manager."
  }
}

variable "cors_allowed_origins" {
  type        = list(string)
  description = "CORS_ALLOWED_ORIGINS of the HTTP functions: browser origins that may call create_media, list_media and manage_media, besides the web gallery's own origin (added when web_gallery_image is set), e.g. [\"http://localhost:5173\"]."
  default     = []

  validation {
    condition     = alltrue([for o in var.cors_allowed_origins : can(regex("^https?://[^/*]+$", o))])
    error_message = "cors_allowed_origins entries must be origins like \"https://app.example.com\" (scheme and host, no path, no wildcard)."
  }
}

# ---------------------------------------------------------------------------------------------
# Cloud Storage
# ---------------------------------------------------------------------------------------------

variable "upload_cors_origins" {
  type        = list(string)
  description = "Browser origins allowed to PUT to signed upload URLs (CORS on the uploads bucket), e.g. [\"https://app.example.com\"]. Empty: no CORS (devices and servers do not need it)."
  default     = []

  validation {
    condition     = alltrue([for o in var.upload_cors_origins : can(regex("^https?://[^/*]+$", o))])
    error_message = "upload_cors_origins entries must be origins like \"https://app.example.com\" (scheme and host, no path, no wildcard)."
  }
}

variable "upload_cors_max_age_seconds" {
  type        = number
  description = "How long browsers may cache the CORS preflight answer of the uploads bucket."
  default     = 3600

  validation {
    condition     = var.upload_cors_max_age_seconds >= 0 && var.upload_cors_max_age_seconds <= 86400
    error_message = "upload_cors_max_age_seconds must be between 0 and 86400."
  }
}

variable "quarantine_prefix" {
  type        = string
  description = "QUARANTINE_PREFIX: object-name prefix rejected uploads are moved under; objects there expire after quarantine_retention_days."
  default     = "quarantine/"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]*/$", var.quarantine_prefix))
    error_message = "quarantine_prefix must be a single path segment ending in \"/\", e.g. \"quarantine/\"."
  }
}

variable "quarantine_retention_days" {
  type        = number
  description = "Age in days after which quarantined objects are deleted by the bucket lifecycle."
  default     = 30

  validation {
    condition     = var.quarantine_retention_days >= 1 && var.quarantine_retention_days <= 3650
    error_message = "quarantine_retention_days must be between 1 and 3650."
  }
}

variable "incomplete_multipart_upload_age_days" {
  type        = number
  description = "Age in days after which unfinished XML API multipart uploads to the uploads bucket are aborted."
  default     = 1

  validation {
    condition     = var.incomplete_multipart_upload_age_days >= 1 && var.incomplete_multipart_upload_age_days <= 365
    error_message = "incomplete_multipart_upload_age_days must be between 1 and 365."
  }
}

variable "noncurrent_version_retention_days" {
  type        = number
  description = "Days a replaced or deleted object version is kept in the versioned buckets (uploads, functions source) before the lifecycle deletes it."
  default     = 30

  validation {
    condition     = var.noncurrent_version_retention_days >= 1 && var.noncurrent_version_retention_days <= 3650
    error_message = "noncurrent_version_retention_days must be between 1 and 3650."
  }
}

variable "soft_delete_retention_seconds" {
  type        = number
  description = "Soft delete retention of every bucket: deleted objects stay restorable (and billed) this long. 0 disables soft delete; otherwise 604800 (7 days) to 7776000 (90 days)."
  default     = 604800

  validation {
    condition     = var.soft_delete_retention_seconds == 0 || (var.soft_delete_retention_seconds >= 604800 && var.soft_delete_retention_seconds <= 7776000)
    error_message = "soft_delete_retention_seconds must be 0 or between 604800 and 7776000."
  }
}

variable "upload_notification_object_name_prefix" {
  type        = string
  description = "If set, only objects under this prefix send OBJECT_FINALIZE notifications (so moves into quarantine_prefix do not reach finalize_upload). null notifies for every object; finalize_upload then has to ignore its own quarantine writes."
  default     = null
}

variable "bucket_force_destroy" {
  type        = bool
  description = "Let `terraform destroy` delete buckets that still hold objects. Keep false outside throwaway environments."
  default     = false
}

variable "kms_key_name" {
  type        = string
  description = "Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K) used as default encryption of the uploads and derivatives buckets; null keeps Google-managed encryption. The key must be in the buckets' location (var.region); the module grants the Cloud Storage service agent roles/cloudkms.cryptoKeyEncrypterDecrypter on this key only."
  default     = null

  validation {
    condition     = var.kms_key_name == null || can(regex("^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/locations/[a-z0-9-]+/keyRings/[A-Za-z0-9_-]+/cryptoKeys/[A-Za-z0-9_-]+$", var.kms_key_name))
    error_message = "kms_key_name must be null or a key name projects/P/locations/L/keyRings/R/cryptoKeys/K (no /cryptoKeyVersions/ suffix)."
  }
}

variable "detector_model_file" {
  type        = string
  description = "Local path of the object detector's model file the module uploads to the models bucket; null: the file `make models` builds (models/ssd_mobilenetv2_oidv4.onnx beside this module), checked at plan time against detector_model_sha256 (default: its pin in models/models.json). Ignored when detector_model_object is set."
  default     = null
}

variable "detector_model_object" {
  type        = string
  description = "Object name of an object detector model an operator uploaded to the models bucket (output models_bucket) instead of detector_model_file, e.g. \"ssd_mobilenetv2_oidv4/2026-01-15.onnx\"; needs detector_model_sha256. null: the module uploads detector_model_file. Becomes DETECTOR_MODEL_URI=gs://<models bucket>/<object> on process_media (docs/RUNBOOKS/DEPLOY.md, \"Detector model\")."
  default     = null

  validation {
    condition     = var.detector_model_object == null || can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.detector_model_object)) && !can(regex("(^|/)\\.\\.?(/|$)", var.detector_model_object))
    error_message = "detector_model_object must be an object name such as \"yolov8n/model.onnx\" (no gs:// prefix, no leading slash, no . or .. segments)."
  }
}

variable "detector_model_sha256" {
  type        = string
  description = "DETECTOR_MODEL_SHA256: SHA-256 (64 lowercase hex digits) of the object detector's model; process_media refuses a model whose bytes do not match. null: the pin of models/models.json (the default model). Required when detector_model_object is set."
  default     = null

  validation {
    condition     = var.detector_model_sha256 == null || can(regex("^[0-9a-f]{64}$", var.detector_model_sha256))
    error_message = "detector_model_sha256 must be null or 64 lowercase hexadecimal digits (sha256sum output)."
  }
}

# ---------------------------------------------------------------------------------------------
# Cloud SQL for PostgreSQL
# ---------------------------------------------------------------------------------------------

variable "db_name" {
  type        = string
  description = "DB_NAME: the Postgres database the functions use."
  default     = "media"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.db_name))
    error_message = "db_name must be a lower-case Postgres identifier."
  }
}

variable "sql_tier" {
  type        = string
  description = "Machine tier of the Cloud SQL instance (Enterprise edition), e.g. db-custom-1-3840 (1 vCPU, 3.75 GB). Shared-core tiers (db-f1-micro, db-g1-small) have no SLA and allow only 25/50 connections."
  default     = "db-custom-1-3840"
}

variable "sql_availability_type" {
  type        = string
  description = "ZONAL (one zone) or REGIONAL (high availability, about twice the cost)."
  default     = "ZONAL"

  validation {
    condition     = contains(["ZONAL", "REGIONAL"], var.sql_availability_type)
    error_message = "sql_availability_type must be ZONAL or REGIONAL."
  }
}

variable "sql_disk_size_gb" {
  type        = number
  description = "Initial SSD size in GB; it grows automatically."
  default     = 10

  validation {
    condition     = var.sql_disk_size_gb >= 10 && var.sql_disk_size_gb <= 65536
    error_message = "sql_disk_size_gb must be between 10 and 65536."
  }
}

variable "sql_max_connections" {
  type        = number
  description = "Postgres max_connections. The sum over functions of max_instance_count * (db_pool_size + db_max_overflow) plus sql_reserved_connections must fit (checked at plan time). Changing it restarts the instance."
  default     = 200

  validation {
    condition     = var.sql_max_connections >= 25 && var.sql_max_connections <= 4000
    error_message = "sql_max_connections must be between 25 and 4000."
  }
}

variable "sql_reserved_connections" {
  type        = number
  description = "Connections kept free for operators, migrations and Cloud SQL itself when checking the connection budget."
  default     = 10

  validation {
    condition     = var.sql_reserved_connections >= 3
    error_message = "sql_reserved_connections must be at least 3 (Postgres superuser_reserved_connections)."
  }
}

variable "sql_public_ip_enabled" {
  type        = bool
  description = "Give the instance a public IPv4 address. It has no authorized networks, so only the Cloud SQL connectors (IAM-authorized, mutual TLS) can reach it. Needed when no VPC with private services access exists (sql_private_network = null)."
  default     = false
}

variable "sql_private_network" {
  type        = string
  description = "Self link or ID of a VPC network that already has private services access; the instance then gets a private IP and the functions need vpc_connector. null: no private IP."
  default     = null
}

variable "sql_connector_enforcement" {
  type        = string
  description = "REQUIRED: the instance accepts only Cloud SQL connector connections (what the functions and the migrate job use); NOT_REQUIRED also lets direct clients in (on the private IP, with a client certificate)."
  default     = "REQUIRED"

  validation {
    condition     = contains(["REQUIRED", "NOT_REQUIRED"], var.sql_connector_enforcement)
    error_message = "sql_connector_enforcement must be REQUIRED or NOT_REQUIRED."
  }
}

variable "storage_data_access_audit_logs" {
  type        = bool
  description = "Enable Data Access audit logs (DATA_READ, DATA_WRITE) for Cloud Storage in the project, so every object read and write is logged (billed as logs ingestion). The buckets rely on them instead of legacy usage logs. Set false only where the organization already enables them."
  default     = true
}

variable "sql_deletion_protection" {
  type        = bool
  description = "Protect the Cloud SQL instance against deletion, both in Terraform and in the Cloud SQL API. Set false (and apply) before `terraform destroy`."
  default     = true
}

variable "sql_backup_start_time" {
  type        = string
  description = "Start of the daily backup window, HH:MM in UTC."
  default     = "03:00"

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", var.sql_backup_start_time))
    error_message = "sql_backup_start_time must be HH:MM (24 h, UTC)."
  }
}

variable "sql_retained_backups_count" {
  type        = number
  description = "Number of daily backups kept."
  default     = 7

  validation {
    condition     = var.sql_retained_backups_count >= 1 && var.sql_retained_backups_count <= 365
    error_message = "sql_retained_backups_count must be between 1 and 365."
  }
}

variable "sql_transaction_log_retention_days" {
  type        = number
  description = "Days of write-ahead log kept for point-in-time recovery (Enterprise edition: 1-7)."
  default     = 7

  validation {
    condition     = var.sql_transaction_log_retention_days >= 1 && var.sql_transaction_log_retention_days <= 7
    error_message = "sql_transaction_log_retention_days must be between 1 and 7."
  }
}

variable "migration_image" {
  type        = string
  description = "Image the migrate Cloud Run job is created with. scripts/migrate.sh builds terraform/migrate/Dockerfile and sets each release's image on the job, which Terraform then leaves alone; the default is Google's sample job image, a placeholder until the first migrate."
  default     = "us-docker.pkg.dev/cloudrun/container/job:latest"
}

variable "sql_operator_iam_users" {
  type        = list(string)
  description = "Email addresses of people who get a Cloud SQL IAM database user (type CLOUD_IAM_USER) to log in through the connector, e.g. to inspect data. They own nothing and get no privileges from the module; migrations run as the migrate job's identity. Their IAM roles (cloudsql.client, cloudsql.instanceUser) are granted outside this module."
  default     = []

  validation {
    condition     = alltrue([for e in var.sql_operator_iam_users : can(regex("^[^@\\s]+@[^@\\s]+$", e)) && !endswith(e, ".gserviceaccount.com")])
    error_message = "sql_operator_iam_users must be user email addresses (service accounts are created by the module)."
  }
}

# ---------------------------------------------------------------------------------------------
# Firestore, Pub/Sub, Artifact Registry
# ---------------------------------------------------------------------------------------------

variable "firestore_location_id" {
  type        = string
  description = "Location of the Firestore status database (<name_prefix>status), e.g. \"nam5\" or a region; null uses var.region. Cannot change after creation."
  default     = null
}

variable "firestore_delete_protection" {
  type        = bool
  description = "Enable Firestore delete protection on the status database (set false and apply before `terraform destroy`)."
  default     = true
}

variable "pubsub_service_agent_needs_token_creator" {
  type        = bool
  description = "Grant the Pub/Sub service agent roles/iam.serviceAccountTokenCreator on the push-invoker service account. Only projects created before 2021-04-08 need it to mint OIDC tokens for push."
  default     = false
}

variable "artifact_registry_keep_count" {
  type        = number
  description = "Most recent image versions kept per function image in the build repository; older ones are deleted by a cleanup policy."
  default     = 5

  validation {
    condition     = var.artifact_registry_keep_count >= 1 && var.artifact_registry_keep_count <= 100
    error_message = "artifact_registry_keep_count must be between 1 and 100."
  }
}

# ---------------------------------------------------------------------------------------------
# Cloud Scheduler (housekeeping ticks from topology.json "schedules")
# ---------------------------------------------------------------------------------------------

variable "schedules_paused" {
  type        = bool
  description = "Create the Cloud Scheduler jobs of topology.json paused (no reconcile or retention ticks), e.g. in an environment being migrated. Resume with false and apply."
  default     = false
}

# ---------------------------------------------------------------------------------------------
# Monitoring: log-based metrics, alert policies, dashboard
# ---------------------------------------------------------------------------------------------

variable "alert_notification_channels" {
  type        = list(string)
  description = "Cloud Monitoring notification channels (projects/P/notificationChannels/ID) the alert policies notify. Empty: incidents are only shown in the console."
  default     = []

  validation {
    condition     = alltrue([for c in var.alert_notification_channels : can(regex("^projects/[^/]+/notificationChannels/[^/]+$", c))])
    error_message = "alert_notification_channels entries must be notification channel names projects/P/notificationChannels/ID."
  }
}

variable "alert_rejection_threshold_count" {
  type        = number
  description = "The rejection-spike alert fires when more than this many uploads are rejected (all reasons together) within alert_rejection_window_seconds."
  default     = 20

  validation {
    condition     = var.alert_rejection_threshold_count >= 1
    error_message = "alert_rejection_threshold_count must be at least 1."
  }
}

variable "alert_rejection_window_seconds" {
  type        = number
  description = "Window in seconds over which rejections are counted for the rejection-spike alert (a whole number of minutes)."
  default     = 300

  validation {
    condition     = var.alert_rejection_window_seconds >= 60 && var.alert_rejection_window_seconds <= 86400 && var.alert_rejection_window_seconds % 60 == 0
    error_message = "alert_rejection_window_seconds must be a whole number of minutes between 60 and 86400."
  }
}

# ---------------------------------------------------------------------------------------------
# Web gallery (Cloud Run service serving web/dist; terraform/web/)
# ---------------------------------------------------------------------------------------------

variable "web_gallery_image" {
  type        = string
  description = "Container image of the web gallery, built from the repository with terraform/web/Dockerfile and pushed to Artifact Registry (README, \"Web gallery\"), preferably pinned by digest (...@sha256:...). null: no gallery service. When set, its origin is added to the functions' CORS_ALLOWED_ORIGINS and to the uploads bucket's CORS rule."
  default     = null

  validation {
    condition     = var.web_gallery_image == null || can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?$", var.web_gallery_image))
    error_message = "web_gallery_image must be an image reference such as \"europe-west1-docker.pkg.dev/P/media-functions/web-gallery@sha256:<digest>\"."
  }
}

variable "web_gallery_max_instance_count" {
  type        = number
  description = "Most instances of the web gallery service (each serves up to 80 concurrent requests of static files)."
  default     = 3

  validation {
    condition     = var.web_gallery_max_instance_count >= 1 && var.web_gallery_max_instance_count <= 100
    error_message = "web_gallery_max_instance_count must be between 1 and 100."
  }
}

variable "web_gallery_extra_config" {
  type        = map(string)
  description = "Public settings added to the gallery's /config.json next to apiBaseUrl: the identity provider the page signs in with (oidcIssuer, an https URL whose origin the default CSP lets the page call; oidcClientId; optional oidcScope and oidcName; docs/RUNBOOKS/GALLERY.md). Everything here is readable by anyone who can load the page: never a secret."
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.web_gallery_extra_config) : can(regex("^[a-z][A-Za-z0-9]*$", k)) && !contains(["apiBaseUrl", "devLoginUrl"], k)])
    error_message = "web_gallery_extra_config keys must be camelCase names other than apiBaseUrl (set by the module) and devLoginUrl (local stack only)."
  }

  validation {
    condition     = !contains(keys(var.web_gallery_extra_config), "oidcIssuer") || can(regex("^https://[^/]+", lookup(var.web_gallery_extra_config, "oidcIssuer", "")))
    error_message = "web_gallery_extra_config.oidcIssuer must be an https URL (the identity provider's issuer)."
  }
}

variable "web_gallery_content_security_policy" {
  type        = string
  description = "Content-Security-Policy header of the gallery's responses; null: the module's policy (scripts and styles from the page's origin only; connections, images and media from the page, the functions and storage.googleapis.com for signed URLs)."
  default     = null
}

variable "alert_5xx_ratio" {
  type        = number
  description = "A function's 5xx alert fires when more than this fraction of its requests (5-minute rate) are answered 5xx for 5 minutes."
  default     = 0.05

  validation {
    condition     = var.alert_5xx_ratio > 0 && var.alert_5xx_ratio < 1
    error_message = "alert_5xx_ratio must be between 0 and 1."
  }
}

variable "alert_latency_p95_ms" {
  type        = map(number)
  description = "p95 request latency in ms above which a function's latency alert fires, by function name; replaces the module's defaults (create_media 2000, manage_media 5000, finalize_upload 60000, process_media 300000, housekeeping 120000; list_media serves streams and has none)."
  default     = {}

  validation {
    condition     = alltrue([for name, ms in var.alert_latency_p95_ms : contains(["create_media", "list_media", "manage_media", "finalize_upload", "process_media", "housekeeping"], name) && ms > 0])
    error_message = "alert_latency_p95_ms keys must be function names and values positive milliseconds."
  }
}

variable "alert_oldest_unacked_seconds" {
  type        = number
  description = "A subscription's backlog alert fires when its oldest unacknowledged message is older than this for 5 minutes."
  default     = 900

  validation {
    condition     = var.alert_oldest_unacked_seconds >= 60
    error_message = "alert_oldest_unacked_seconds must be at least 60."
  }
}

variable "alert_sql_cpu_utilization" {
  type        = number
  description = "Cloud SQL CPU utilization (0-1) above which the CPU alert fires after 10 minutes."
  default     = 0.8

  validation {
    condition     = var.alert_sql_cpu_utilization > 0 && var.alert_sql_cpu_utilization <= 1
    error_message = "alert_sql_cpu_utilization must be in (0, 1]."
  }
}

variable "alert_sql_disk_utilization" {
  type        = number
  description = "Cloud SQL disk utilization (0-1) above which the disk alert fires after 10 minutes (the disk grows automatically; this warns before its limit and the bill)."
  default     = 0.85

  validation {
    condition     = var.alert_sql_disk_utilization > 0 && var.alert_sql_disk_utilization <= 1
    error_message = "alert_sql_disk_utilization must be in (0, 1]."
  }
}

variable "alert_sql_connections_ratio" {
  type        = number
  description = "Fraction of sql_max_connections above which the connections alert fires after 10 minutes."
  default     = 0.8

  validation {
    condition     = var.alert_sql_connections_ratio > 0 && var.alert_sql_connections_ratio <= 1
    error_message = "alert_sql_connections_ratio must be in (0, 1]."
  }
}

variable "billing_account_id" {
  type        = string
  description = "Billing account (XXXXXX-XXXXXX-XXXXXX) of the project; set to create a monthly budget with alerts at 50/90/100% of spend and 100% of forecast. null: no budget (the deployer needs Billing Account Costs Manager for one)."
  default     = null

  validation {
    condition     = var.billing_account_id == null || can(regex("^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$", var.billing_account_id))
    error_message = "billing_account_id must be null or a billing account ID like 012345-6789AB-CDEF01."
  }
}

variable "budget_monthly_units" {
  type        = number
  description = "Monthly budget in whole units of budget_currency_code (README, \"Cost notes\": about 60-100 idle in dev)."
  default     = 200

  validation {
    condition     = var.budget_monthly_units > 0
    error_message = "budget_monthly_units must be positive."
  }
}

variable "budget_currency_code" {
  type        = string
  description = "Currency of the budget: the billing account's currency (ISO 4217)."
  default     = "USD"

  validation {
    condition     = can(regex("^[A-Z]{3}$", var.budget_currency_code))
    error_message = "budget_currency_code must be an ISO 4217 code such as USD."
  }
}

# ---------------------------------------------------------------------------------------------
# The API's one origin (lb.tf) and the stream service (streams.tf)
# ---------------------------------------------------------------------------------------------

variable "api_domains" {
  type        = list(string)
  description = "DNS names of the API's one origin: an external Application Load Balancer with a Google-managed certificate for them, routing each route to the function or the stream service that serves it (url_map.json). Point an A record of each at the output api_ip_address. Empty: no load balancer (then no single base URL, and no web gallery). Clients take https://<first name> (output api_base_url)."
  default     = []

  validation {
    condition     = alltrue([for d in var.api_domains : can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", d))])
    error_message = "api_domains must be lowercase DNS names such as \"api.example.com\"."
  }
}

variable "lb_admin_routes" {
  type        = bool
  description = "Serve the /v1/admin/ routes through the load balancer too. false (default): the load balancer answers them 404, and operators call the functions' own URLs (with IAM: http_invoker_members)."
  default     = false
}

variable "lb_security_policy" {
  type        = string
  description = "Self link or name of a Cloud Armor security policy attached to every backend of the load balancer (rate limits, geo or IP rules); null: none."
  default     = null
}

variable "streams_image" {
  type        = string
  description = "Container image of the stream service (Server-Sent Events), built from the repository with terraform/streams/Dockerfile and pushed to Artifact Registry, preferably pinned by digest. null: no stream service (the event-stream routes then answer 421 from list_media)."
  default     = null
}

variable "streams_max_instance_count" {
  type        = number
  description = "Most instances of the stream service."
  default     = 5

  validation {
    condition     = var.streams_max_instance_count >= 1
    error_message = "streams_max_instance_count must be at least 1."
  }
}

variable "streams_min_instance_count" {
  type        = number
  description = "Instances of the stream service kept running (their Firestore listeners stay warm, so a reconnecting client resumes from memory; billed while idle)."
  default     = 1

  validation {
    condition     = var.streams_min_instance_count >= 0
    error_message = "streams_min_instance_count must be 0 or more."
  }
}

variable "streams_max_request_concurrency" {
  type        = number
  description = "Open streams one instance of the stream service holds (Cloud Run allows up to 1000). An open stream is a coroutine and a queue: memory, not a thread."
  default     = 1000

  validation {
    condition     = var.streams_max_request_concurrency >= 1 && var.streams_max_request_concurrency <= 1000
    error_message = "streams_max_request_concurrency must be between 1 and 1000."
  }
}

variable "streams_db_pool_size" {
  type        = number
  description = "Postgres connections of one stream service instance (its threads for a stream's start: authorization and the first event). Counts against the Cloud SQL connection budget with streams_max_instance_count."
  default     = 4

  validation {
    condition     = var.streams_db_pool_size >= 1 && var.streams_db_pool_size <= 20
    error_message = "streams_db_pool_size must be between 1 and 20."
  }
}

variable "streams_max_stream_seconds" {
  type        = number
  description = "Lifetime of one event stream (SSE_MAX_SECONDS); clients reconnect with Last-Event-ID. Below the service's 3600 s request timeout."
  default     = 900

  validation {
    condition     = var.streams_max_stream_seconds >= 30 && var.streams_max_stream_seconds <= 3540
    error_message = "streams_max_stream_seconds must be between 30 and 3540."
  }
}

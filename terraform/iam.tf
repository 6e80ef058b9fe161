# Identities and every IAM grant of the module. docs/IAM.md lists each grant (member, role,
# resource, why) and tests/terraform/test_terraform_iam.py keeps the two in step.
#
# Rules: one service account per function; grants on the resource (bucket, topic, subscription,
# secret, service account, Cloud Run service, repository) wherever the role can be granted there;
# project-level grants only for roles that exist only at project level (Cloud SQL, Firestore,
# Cloud Logging), narrowed by an IAM condition to the one instance or database where IAM supports
# it. Object access uses custom roles without storage.objects.list. No primitive roles, no
# service account keys.

# ---------------------------------------------------------------------------------------------
# Service accounts
# ---------------------------------------------------------------------------------------------

resource "google_service_account" "function" {
  for_each = local.functions

  project      = var.project_id
  account_id   = local.function_service_names[each.key]
  display_name = "media pipeline ${each.key}"
  description  = "Runtime identity of the ${each.key} Cloud Function (one per function)."

  depends_on = [google_project_service.enabled]
}

resource "google_service_account" "push_invoker" {
  project      = var.project_id
  account_id   = "${var.name_prefix}push-invoker"
  display_name = "media pipeline Pub/Sub push invoker"
  description  = "Identity in the OIDC token of the push subscriptions; may only invoke the pushed functions."

  depends_on = [google_project_service.enabled]
}

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "${var.name_prefix}fn-build"
  display_name = "media pipeline function builds"
  description  = "Cloud Build identity for building the function images."

  depends_on = [google_project_service.enabled]
}

# The web gallery's runtime identity: it serves static files from its image and calls nothing,
# so it holds no role at all (a dedicated account instead of the Compute Engine default one).
resource "google_service_account" "web" {
  count = local.web_gallery_enabled ? 1 : 0

  project      = var.project_id
  account_id   = local.web_gallery_service_name
  display_name = "media pipeline web gallery"
  description  = "Runtime identity of the web gallery's Cloud Run service; no grants."

  depends_on = [google_project_service.enabled]
}

# ---------------------------------------------------------------------------------------------
# Cloud Storage: object access per bucket and function, from local.function_access
# ---------------------------------------------------------------------------------------------

# Predefined object roles all carry storage.objects.list (objectViewer, objectUser) and more
# (objectUser: update, multipart uploads, folders), so the functions get project-level custom
# roles with exactly the permissions of their operations, bound on each bucket: a custom role
# defined in the project can be granted on a bucket, and the binding limits it to that bucket.
resource "google_project_iam_custom_role" "object_reader" {
  project     = var.project_id
  role_id     = local.storage_custom_roles.reader.role_id
  title       = local.storage_custom_roles.reader.title
  description = local.storage_custom_roles.reader.description
  permissions = local.storage_custom_role_permissions.reader
  stage       = "GA"

  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_custom_role" "object_creator" {
  project     = var.project_id
  role_id     = local.storage_custom_roles.creator.role_id
  title       = local.storage_custom_roles.creator.title
  description = local.storage_custom_roles.creator.description
  permissions = local.storage_custom_role_permissions.creator
  stage       = "GA"

  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_custom_role" "object_writer" {
  project     = var.project_id
  role_id     = local.storage_custom_roles.writer.role_id
  title       = local.storage_custom_roles.writer.title
  description = local.storage_custom_roles.writer.description
  permissions = local.storage_custom_role_permissions.writer
  stage       = "GA"

  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_custom_role" "object_deleter" {
  project     = var.project_id
  role_id     = local.storage_custom_roles.deleter.role_id
  title       = local.storage_custom_roles.deleter.title
  description = local.storage_custom_roles.deleter.description
  permissions = local.storage_custom_role_permissions.deleter
  stage       = "GA"

  depends_on = [google_project_service.enabled]
}

# Signed URLs act with the signer's permissions: create_media's signed PUTs need create (the URL
# binds x-goog-if-generation-match: 0, no overwrite), list_media's signed GETs need get.
# Verifying reads objects; quarantining a rejected one copies it under quarantine_prefix and
# deletes it; replacing a rendition needs delete. process_media reads the detector model.
resource "google_storage_bucket_iam_member" "object_reader" {
  for_each = { for key, grant in local.object_grants : key => grant if local.storage_role_of_operations[grant.operations] == "reader" }

  bucket = local.bucket_names[each.value.bucket]
  role   = google_project_iam_custom_role.object_reader.name
  member = google_service_account.function[each.value.function].member
}

resource "google_storage_bucket_iam_member" "object_creator" {
  for_each = { for key, grant in local.object_grants : key => grant if local.storage_role_of_operations[grant.operations] == "creator" }

  bucket = local.bucket_names[each.value.bucket]
  role   = google_project_iam_custom_role.object_creator.name
  member = google_service_account.function[each.value.function].member
}

resource "google_storage_bucket_iam_member" "object_writer" {
  for_each = { for key, grant in local.object_grants : key => grant if local.storage_role_of_operations[grant.operations] == "writer" }

  bucket = local.bucket_names[each.value.bucket]
  role   = google_project_iam_custom_role.object_writer.name
  member = google_service_account.function[each.value.function].member
}

# housekeeping on the derivatives bucket: its deletes (retention, finished deletes) remove
# renditions and track snapshots it never reads or writes.
resource "google_storage_bucket_iam_member" "object_deleter" {
  for_each = { for key, grant in local.object_grants : key => grant if local.storage_role_of_operations[grant.operations] == "deleter" }

  bucket = local.bucket_names[each.value.bucket]
  role   = google_project_iam_custom_role.object_deleter.name
  member = google_service_account.function[each.value.function].member
}

# Customer-managed encryption (optional): the Cloud Storage service agent encrypts and decrypts
# the uploads and derivatives buckets' objects with kms_key_name, and may use no other key.
resource "google_kms_crypto_key_iam_member" "gcs_cmek" {
  count = var.kms_key_name == null ? 0 : 1

  crypto_key_id = var.kms_key_name
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = local.gcs_agent_member
}

# ---------------------------------------------------------------------------------------------
# Signing URLs without keys: each signing function may call signBlob as itself only.
# ---------------------------------------------------------------------------------------------

resource "google_service_account_iam_member" "signer_self_token_creator" {
  for_each = local.signing_functions

  service_account_id = google_service_account.function[each.key].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = google_service_account.function[each.key].member
}

# ---------------------------------------------------------------------------------------------
# Pub/Sub
# ---------------------------------------------------------------------------------------------

# The Cloud Storage service agent publishes the uploads bucket's notifications.
resource "google_pubsub_topic_iam_member" "object_events_gcs_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.topic[local.object_events_topic].name
  role    = "roles/pubsub.publisher"
  member  = local.gcs_agent_member
}

# Publishing, per topic and function, from local.function_access: whoever verified media hands it
# over (media-verified: finalize_upload, create_media for inline snapshots, housekeeping when it
# re-drives stuck media); list_media queues jobs and housekeeping re-publishes stuck ones
# (media-jobs).
resource "google_pubsub_topic_iam_member" "function_publisher" {
  for_each = local.topic_publishers

  project = var.project_id
  topic   = google_pubsub_topic.topic[each.value.topic].name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.function[each.value.function].member
}

# Dead-lettering: the Pub/Sub service agent forwards undeliverable messages (publisher on the
# dead-letter topic) and acknowledges them on the source subscription (subscriber on it).
resource "google_pubsub_topic_iam_member" "dead_letter_pubsub_agent_publisher" {
  for_each = local.dead_letter_topics

  project = var.project_id
  topic   = google_pubsub_topic.topic[each.key].name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_agent_member
}

resource "google_pubsub_subscription_iam_member" "dead_letter_source_pubsub_agent_subscriber" {
  for_each = local.dead_letter_subscriptions

  project      = var.project_id
  subscription = google_pubsub_subscription.subscription[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent_member
}

# Cloud Scheduler's Pub/Sub targets publish as the Cloud Scheduler service agent (a job cannot
# name another identity). Granted on the schedule topics only (housekeeping), so the ticks do not
# depend on the agent's project-wide managed role.
resource "google_pubsub_topic_iam_member" "scheduler_publisher" {
  for_each = local.schedule_topics

  project = var.project_id
  topic   = google_pubsub_topic.topic[each.key].name
  role    = "roles/pubsub.publisher"
  member  = local.scheduler_agent_member
}

# Projects created before 2021-04-08 only: the Pub/Sub service agent mints the push OIDC tokens.
resource "google_service_account_iam_member" "pubsub_agent_push_token_creator" {
  count = var.pubsub_service_agent_needs_token_creator ? 1 : 0

  service_account_id = google_service_account.push_invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent_member
}

# ---------------------------------------------------------------------------------------------
# Invoking the functions (roles/run.invoker on each function's Cloud Run service)
# ---------------------------------------------------------------------------------------------

resource "google_cloud_run_service_iam_member" "push_invoker" {
  for_each = local.pushed_functions

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.function[each.key].name
  role     = "roles/run.invoker"
  member   = google_service_account.push_invoker.member
}

# Opt-in (allow_unauthenticated_http): devices call the HTTP functions with only their app JWT.
# All three are exposed, manage_media's admin routes included (the application refuses them
# without an admin token).
resource "google_cloud_run_service_iam_member" "http_public_invoker" {
  #checkov:skip=CKV_GCP_102:Created only when allow_unauthenticated_http = true (default false), on all three HTTP functions (create_media, list_media, manage_media): callers then authenticate with the application JWT alone. See README, "Calling the HTTP functions".
  for_each = var.allow_unauthenticated_http ? local.http_functions : toset([])

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.function[each.key].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_cloud_run_service_iam_member" "http_invoker_members" {
  for_each = {
    for pair in setproduct(local.http_functions, var.http_invoker_members) :
    "${pair[0]} ${pair[1]}" => { function = pair[0], member = pair[1] }
  }

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.function[each.value.function].name
  role     = "roles/run.invoker"
  member   = each.value.member
}

# The web gallery follows the HTTP functions' auth story: public only with
# allow_unauthenticated_http, otherwise invocable by http_invoker_members (e.g. IAP's agent).
resource "google_cloud_run_v2_service_iam_member" "web_public_invoker" {
  count = local.web_gallery_enabled && var.allow_unauthenticated_http ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.web[0].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_cloud_run_v2_service_iam_member" "web_invoker_members" {
  for_each = local.web_gallery_enabled ? toset(var.http_invoker_members) : toset([])

  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.web[0].name
  role     = "roles/run.invoker"
  member   = each.value
}

# ---------------------------------------------------------------------------------------------
# Secret Manager: the JWT secret, for the functions that authenticate callers
# ---------------------------------------------------------------------------------------------

resource "google_secret_manager_secret_iam_member" "jwt_accessor" {
  for_each = local.jwt_functions

  project   = var.project_id
  secret_id = google_secret_manager_secret.jwt.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function[each.key].member
}

# ---------------------------------------------------------------------------------------------
# Cloud SQL: project-level roles (there is no instance-level IAM binding), each narrowed by a
# condition to this instance, for every function and the migrate job. cloudsql.client: connect through the connector (instances.get,
# instances.connect); cloudsql.instanceUser: log in as the IAM database user.
# ---------------------------------------------------------------------------------------------

locals {
  sql_identities = merge(
    { for name in keys(local.functions) : name => google_service_account.function[name].member },
    { migrate = google_service_account.migrate.member },
  )
}

resource "google_project_iam_member" "sql_client" {
  for_each = local.sql_identities

  project = var.project_id
  role    = "roles/cloudsql.client"
  member  = each.value

  condition {
    title       = "only-${google_sql_database_instance.main.name}"
    description = "Only the media pipeline's Cloud SQL instance."
    expression  = "resource.type == \"sqladmin.googleapis.com/Instance\" && resource.name == \"${local.sql_instance_resource_name}\""
  }
}

resource "google_project_iam_member" "sql_instance_user" {
  for_each = local.sql_identities

  project = var.project_id
  role    = "roles/cloudsql.instanceUser"
  member  = each.value

  condition {
    title       = "only-${google_sql_database_instance.main.name}"
    description = "Only the media pipeline's Cloud SQL instance."
    expression  = "resource.type == \"sqladmin.googleapis.com/Instance\" && resource.name == \"${local.sql_instance_resource_name}\""
  }
}

# ---------------------------------------------------------------------------------------------
# Firestore: project-level roles (no database-level binding), narrowed to the status database (firestore.tf).
# ---------------------------------------------------------------------------------------------

resource "google_project_iam_member" "firestore_user" {
  for_each = local.firestore_writers

  project = var.project_id
  role    = "roles/datastore.user"
  member  = google_service_account.function[each.key].member

  condition {
    title       = "only-status-database"
    description = "Only the Firestore database of the status mirror."
    expression  = "resource.name == \"${local.firestore_resource_name}\""
  }
}

resource "google_project_iam_member" "firestore_viewer" {
  for_each = local.firestore_readers

  project = var.project_id
  role    = "roles/datastore.viewer"
  member  = google_service_account.function[each.key].member

  condition {
    title       = "only-status-database"
    description = "Only the Firestore database of the status mirror."
    expression  = "resource.name == \"${local.firestore_resource_name}\""
  }
}

# ---------------------------------------------------------------------------------------------
# Function builds (Cloud Build runs as google_service_account.build)
# ---------------------------------------------------------------------------------------------

# Build logs. Writing log entries is granted only at project level and IAM Conditions cannot
# narrow it.
resource "google_project_iam_member" "build_log_writer" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.build.member
}

# Cloud Functions copies each source archive into its own bucket gcf-v2-sources-NUMBER-REGION,
# created on the first deploy, and the build fetches it from there. A bucket-level binding is
# impossible before that bucket exists, so the grant is project-level, conditioned on that bucket.
resource "google_project_iam_member" "build_gcf_sources_viewer" {
  project = var.project_id
  role    = "roles/storage.objectViewer"
  member  = google_service_account.build.member

  condition {
    title       = "only-gcf-v2-sources-bucket"
    description = "Only the Cloud Functions staging bucket of this project and region."
    expression  = "resource.name.startsWith(\"projects/_/buckets/gcf-v2-sources-${data.google_project.this.number}-${var.region}\")"
  }
}

resource "google_artifact_registry_repository_iam_member" "build_writer" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.build.member
}

# The migration image's build context, staged by scripts/migrate.sh under migration-source/ of
# the functions-source bucket, is read by the build service account (no list, no write).
resource "google_storage_bucket_iam_member" "build_source_reader" {
  bucket = google_storage_bucket.functions_source.name
  role   = google_project_iam_custom_role.object_reader.name
  member = google_service_account.build.member
}

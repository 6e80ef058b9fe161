output "create_media_url" {
  description = "HTTPS URL of create_media; devices POST /v1/media here."
  value       = google_cloudfunctions2_function.function["create_media"].url
}

output "list_media_url" {
  description = "HTTPS URL of list_media (listing, signed downloads, jobs API)."
  value       = google_cloudfunctions2_function.function["list_media"].url
}

output "function_urls" {
  description = "Function name => cloudfunctions.net URL."
  value       = { for name, f in google_cloudfunctions2_function.function : name => f.url }
}

output "function_service_uris" {
  description = "Function name => run.app URI of the underlying Cloud Run service (push endpoints, and the audience of identity tokens when allow_unauthenticated_http = false)."
  value       = { for name, f in google_cloudfunctions2_function.function : name => f.service_config[0].uri }
}

output "function_service_accounts" {
  description = "Function name => email of its runtime service account."
  value       = { for name, sa in google_service_account.function : name => sa.email }
}

output "push_invoker_service_account" {
  description = "Email of the service account in the push subscriptions' OIDC tokens."
  value       = google_service_account.push_invoker.email
}

output "build_service_account" {
  description = "Email of the service account Cloud Build uses to build the function images."
  value       = google_service_account.build.email
}

output "uploads_bucket" {
  description = "Name of the uploads bucket (UPLOADS_BUCKET)."
  value       = google_storage_bucket.uploads.name
}

output "derivatives_bucket" {
  description = "Name of the derivatives bucket (DERIVATIVES_BUCKET)."
  value       = google_storage_bucket.derivatives.name
}

output "models_bucket" {
  description = "Name of the private bucket holding the detector model(s): the module uploads the default one; another may be uploaded there and named by detector_model_object."
  value       = google_storage_bucket.models.name
}

output "functions_source_bucket" {
  description = "Name of the bucket holding the functions' source archives."
  value       = google_storage_bucket.functions_source.name
}

output "topic_ids" {
  description = "topology.json topic => full topic ID (projects/P/topics/NAME)."
  value       = { for key, t in google_pubsub_topic.topic : key => t.id }
}

output "subscription_names" {
  description = "topology.json subscription => subscription name (for gcloud pubsub subscriptions ...)."
  value       = { for key, s in google_pubsub_subscription.subscription : key => s.name }
}

output "sql_instance_connection_name" {
  description = "Cloud SQL connection name PROJECT:REGION:INSTANCE (CLOUD_SQL_INSTANCE)."
  value       = google_sql_database_instance.main.connection_name
}

output "sql_database_name" {
  description = "Postgres database the functions use (DB_NAME)."
  value       = google_sql_database.media.name
}

output "db_iam_users" {
  description = "Function name => Cloud SQL IAM database user (DB_IAM_USER), the role names for GRANT statements."
  value       = { for name, u in google_sql_user.function : name => u.name }
}

output "sql_connection_budget" {
  description = "Postgres connections all function instances may hold at once: sum of max_instance_count * (db_pool_size + db_max_overflow)."
  value       = local.sql_connection_budget
}

output "jwt_secret_id" {
  description = "Secret Manager secret holding JWT_SECRET (add versions here to rotate)."
  value       = google_secret_manager_secret.jwt.id
}

output "firestore_database" {
  description = "Firestore database of the status mirror (FIRESTORE_DATABASE)."
  value       = google_firestore_database.status.name
}

output "artifact_registry_repository" {
  description = "Artifact Registry repository holding the function images (and the web gallery image pushed by an operator)."
  value       = google_artifact_registry_repository.functions.id
}

output "storage_custom_roles" {
  description = "Custom role (projects/P/roles/ID) => its permissions, as bound on the buckets: reader, creator, writer and deleter."
  value = {
    for role in [
      google_project_iam_custom_role.object_reader,
      google_project_iam_custom_role.object_creator,
      google_project_iam_custom_role.object_writer,
      google_project_iam_custom_role.object_deleter,
    ] : role.name => role.permissions
  }
}

output "scheduler_jobs" {
  description = "topology.json schedule => Cloud Scheduler job ID (gcloud scheduler jobs run NAME --location REGION triggers a tick now)."
  value       = { for key, job in google_cloud_scheduler_job.schedule : key => job.id }
}

output "log_metric_types" {
  description = "Log-based metric => its Cloud Monitoring metric type (logging.googleapis.com/user/NAME)."
  value       = local.log_metric_types
}

output "monitoring_dashboard_id" {
  description = "ID of the Cloud Monitoring dashboard of the pipeline's metrics and alerts."
  value       = google_monitoring_dashboard.pipeline.id
}

output "alert_policy_names" {
  description = "Alert policies (projects/P/alertPolicies/ID): upload rejection spike, dead-lettered messages."
  value = {
    upload_rejection_spike = google_monitoring_alert_policy.upload_rejection_spike.name
    dead_letter            = google_monitoring_alert_policy.dead_letter.name
  }
}

output "web_gallery_url" {
  description = "HTTPS URL of the web gallery (its origin is in CORS_ALLOWED_ORIGINS and the uploads bucket's CORS); null unless web_gallery_image is set."
  value       = local.web_gallery_enabled ? google_cloud_run_v2_service.web[0].uri : null
}

output "cors_allowed_origins" {
  description = "Browser origins the HTTP functions allow (CORS_ALLOWED_ORIGINS): the gallery's and cors_allowed_origins."
  value       = local.cors_allowed_origins
}

output "region" {
  description = "Region of the deployment (scripts/migrate.sh and gcloud commands read it)."
  value       = var.region
}

output "project_id" {
  description = "Project of the deployment."
  value       = var.project_id
}

output "migrate_job" {
  description = "Name of the Cloud Run job that bootstraps the database roles and migrates the schema (gcloud run jobs execute NAME --region REGION --wait; scripts/migrate.sh)."
  value       = google_cloud_run_v2_job.migrate.name
}

output "migrate_service_account" {
  description = "Email of the migration identity (the migrate job's service account)."
  value       = google_service_account.migrate.email
}

output "migrate_db_user" {
  description = "Cloud SQL IAM database user of the migration identity (the member of cloudsqlsuperuser)."
  value       = google_sql_user.migrate.name
}

output "sql_instance_name" {
  description = "Cloud SQL instance name (gcloud sql ... --instance NAME)."
  value       = google_sql_database_instance.main.name
}

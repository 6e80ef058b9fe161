# Firestore (native mode) (default) database: the realtime status mirror `media/{id}`.
# Postgres is the source of truth and every transition rewrites the mirror, so the mirror needs
# no point-in-time recovery of its own.

resource "google_firestore_database" "default" {
  project                           = var.project_id
  name                              = "(default)"
  location_id                       = coalesce(var.firestore_location_id, var.region)
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "OPTIMISTIC"
  app_engine_integration_mode       = "DISABLED"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_DISABLED"
  delete_protection_state           = var.firestore_delete_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  # `terraform destroy` forgets the (default) database instead of deleting it.
  deletion_policy = "ABANDON"

  depends_on = [google_project_service.enabled]
}

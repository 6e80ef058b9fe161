# Firestore (native mode) database of the realtime status mirror `media/{id}`, named after the
# deployment (`<name_prefix>status`) so that several deployments can share a project; the
# functions find it through FIRESTORE_DATABASE. Postgres is the source of truth and every
# transition rewrites the mirror, so the mirror needs no point-in-time recovery of its own.

resource "google_firestore_database" "status" {
  project                           = var.project_id
  name                              = "${var.name_prefix}status"
  location_id                       = coalesce(var.firestore_location_id, var.region)
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "OPTIMISTIC"
  app_engine_integration_mode       = "DISABLED"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_DISABLED"
  delete_protection_state           = var.firestore_delete_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  # A named database is the deployment's own: `terraform destroy` deletes it once
  # firestore_delete_protection is false (README, "Destroy").
  deletion_policy = "DELETE"

  depends_on = [google_project_service.enabled]
}

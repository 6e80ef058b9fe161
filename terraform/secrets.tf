# JWT_SECRET: the HMAC key device and UI tokens are signed with. Only the functions that
# authenticate callers (local.jwt_functions: create_media, list_media, manage_media) can read it
# (iam.tf). The first version is written from an ephemeral random value through the write-only
# argument secret_data_wo: it is never in the plan or the state (Terraform >= 1.11, provider >=
# 6.23), so a readable state bucket does not leak it. Rotation adds versions outside Terraform
# (docs/RUNBOOKS/DEPLOY.md, "Rotate the JWT secret").

resource "google_secret_manager_secret" "jwt" {
  project   = var.project_id
  secret_id = "${var.name_prefix}jwt-secret"
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

# A new value on every plan, used only when the version below is (re)written, i.e. when
# secret_data_wo_version changes: never by a plain apply.
ephemeral "random_password" "jwt_initial" {
  length  = 64
  special = false
}

resource "google_secret_manager_secret_version" "jwt_initial" {
  secret                 = google_secret_manager_secret.jwt.id
  secret_data_wo         = ephemeral.random_password.jwt_initial.result
  secret_data_wo_version = 1

  lifecycle {
    # Rotation disables this version outside Terraform; do not re-enable it.
    ignore_changes = [enabled]
  }
}

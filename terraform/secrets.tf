# JWT_SECRET: the HMAC key device and UI tokens are signed with. Only create_media and list_media
# can read it (iam.tf). Terraform creates the first version from a random value so the first
# apply deploys working functions; rotation adds versions outside Terraform
# (docs/RUNBOOKS/DEPLOY.md). The first value is in the Terraform state: rotate once after the
# first apply if the state is readable by more people than the secret should be.

resource "google_secret_manager_secret" "jwt" {
  project   = var.project_id
  secret_id = "${var.name_prefix}jwt-secret"
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "random_password" "jwt_initial" {
  length  = 64
  special = false
}

resource "google_secret_manager_secret_version" "jwt_initial" {
  secret      = google_secret_manager_secret.jwt.id
  secret_data = random_password.jwt_initial.result

  lifecycle {
    # Rotation disables this version outside Terraform; do not re-enable it.
    ignore_changes = [enabled]
  }
}

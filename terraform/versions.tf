# Bounds are what the code uses, checked offline against the providers' schemas at the lower
# bound (tests/terraform/test_terraform_provider_schema.py):
# - Terraform 1.11: write-only arguments (secret_data_wo of the JWT secret; secrets.tf), and the
#   ephemeral resource that generates its first value (1.10).
# - google / google-beta 6.23: secret_data_wo (6.23.0); self.urls of google_cloud_run_v2_service
#   (6.12.0). google-beta for google_project_service_identity (service agents created before
#   they are granted roles). Below 7.0: the schema check covers the 6.x schema only; 7.0 is a
#   major release with removals, to be adopted with its own check.
# - random 3.7: the ephemeral random_password. time: time_sleep where Google documents
#   propagation delays (ordering.tf).
terraform {
  required_version = ">= 1.11"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.23, < 7.0"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = ">= 6.23, < 7.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.7, < 4.0"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.11, < 1.0"
    }
  }
}

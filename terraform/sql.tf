# Cloud SQL for PostgreSQL 15. The functions connect with the Cloud SQL Python Connector and IAM
# database authentication: no passwords, no keys. Network: private IP when sql_private_network
# names a VPC with private services access (the functions then need vpc_connector); otherwise a
# public IP with no authorized networks, which only the connectors can use (they authorize every
# connection through the Cloud SQL Admin API with IAM and speak mutual TLS). See README, "Network".

resource "google_sql_database_instance" "main" {
  #checkov:skip=CKV_GCP_79:PostgreSQL 15 is the version the migrations and the local stack target; a major upgrade is a deliberate, tested change.
  #checkov:skip=CKV_GCP_60:A public IP is used only when sql_public_ip_enabled asks for it (no VPC available); it has no authorized networks and ssl_mode requires the connectors' client certificates.
  #checkov:skip=CKV2_GCP_13:log_duration=on logs a line for every statement (cost, noise); slow statements are found with Query Insights instead.
  project             = var.project_id
  name                = "${var.name_prefix}postgres"
  region              = var.region
  database_version    = "POSTGRES_15"
  deletion_protection = var.sql_deletion_protection

  settings {
    tier                        = var.sql_tier
    edition                     = "ENTERPRISE"
    availability_type           = var.sql_availability_type
    disk_type                   = "PD_SSD"
    disk_size                   = var.sql_disk_size_gb
    disk_autoresize             = true
    deletion_protection_enabled = var.sql_deletion_protection
    user_labels                 = local.labels
    # REQUIRED: only the Cloud SQL connectors (IAM-authorized, the functions' and the migrate
    # job's) may connect, never a direct TCP client even on the private IP.
    connector_enforcement = var.sql_connector_enforcement

    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
      start_time                     = var.sql_backup_start_time
      transaction_log_retention_days = var.sql_transaction_log_retention_days

      backup_retention_settings {
        retained_backups = var.sql_retained_backups_count
        retention_unit   = "COUNT"
      }
    }

    ip_configuration {
      ipv4_enabled    = var.sql_public_ip_enabled
      private_network = var.sql_private_network
      # The connectors always present a client certificate; nothing else may connect.
      ssl_mode = "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    }

    maintenance_window {
      day          = 7
      hour         = 3
      update_track = "stable"
    }

    insights_config {
      query_insights_enabled  = true
      query_string_length     = 1024
      record_application_tags = false
      record_client_address   = false
    }

    database_flags {
      name  = "cloudsql.iam_authentication"
      value = "on"
    }
    database_flags {
      name  = "max_connections"
      value = tostring(var.sql_max_connections)
    }
    database_flags {
      name  = "cloudsql.enable_pgaudit"
      value = "on"
    }
    database_flags {
      name  = "pgaudit.log"
      value = "ddl,role"
    }
    database_flags {
      name  = "log_statement"
      value = "ddl"
    }
    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }
    database_flags {
      name  = "log_connections"
      value = "on"
    }
    database_flags {
      name  = "log_disconnections"
      value = "on"
    }
    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }
    database_flags {
      name  = "log_hostname"
      value = "on"
    }
    database_flags {
      name  = "log_min_messages"
      value = "warning"
    }
    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }
    database_flags {
      name  = "log_temp_files"
      value = "0"
    }
    database_flags {
      name  = "log_min_duration_statement"
      value = "-1"
    }
  }

  lifecycle {
    precondition {
      condition     = var.sql_public_ip_enabled || var.sql_private_network != null
      error_message = "The instance needs an address: set sql_private_network (private IP, with vpc_connector) or sql_public_ip_enabled = true (connector-only public IP)."
    }
    precondition {
      condition     = local.sql_connection_budget + var.sql_reserved_connections <= var.sql_max_connections
      error_message = "Connection budget exceeded: sum(max_instance_count * (db_pool_size + db_max_overflow)) + sql_reserved_connections must be <= sql_max_connections. Lower function_overrides or raise sql_max_connections (and sql_tier)."
    }
  }

  depends_on = [google_project_service.enabled]
}

resource "google_sql_database" "media" {
  project  = var.project_id
  instance = google_sql_database_instance.main.name
  name     = var.db_name
}

# One IAM database user per function service account. Cloud SQL names them by the email without
# ".gserviceaccount.com"; they log in with an OAuth token, never a password. Their table
# privileges come from the migrate job (migrate.tf): membership in media_app. Postgres cannot drop
# a role that holds grants, so `terraform destroy` forgets these users (ABANDON) instead of
# failing; deleting the instance removes them.
resource "google_sql_user" "function" {
  for_each = local.functions

  project  = var.project_id
  instance = google_sql_database_instance.main.name
  name     = trimsuffix(google_service_account.function[each.key].email, ".gserviceaccount.com")
  type     = "CLOUD_IAM_SERVICE_ACCOUNT"

  deletion_policy = "ABANDON"
}

# People who may log in through the connector as themselves (psql for inspection). They own
# nothing and get no privileges from the module; migrations run as the migrate job's identity.
resource "google_sql_user" "operator" {
  for_each = toset(var.sql_operator_iam_users)

  project  = var.project_id
  instance = google_sql_database_instance.main.name
  name     = each.value
  type     = "CLOUD_IAM_USER"

  deletion_policy = "ABANDON"
}

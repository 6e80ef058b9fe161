# Example values: copy, then set your own project.
project_id = "my-media-dev-project"
region     = "europe-west1"

# Devices send only their app JWT in development. In production prefer false plus
# http_invoker_members (an API Gateway or UI backend service account).
allow_unauthenticated_http = true
http_invoker_members       = []

# No VPC: a public IP without authorized networks, reachable only through the Cloud SQL connectors.
sql_public_ip_enabled = true

upload_cors_origins    = ["http://localhost:5173"]
sql_operator_iam_users = ["operator@example.com"]

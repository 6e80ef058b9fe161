# Example values: copy, then set your own project.
project_id = "my-media-dev-project"
region     = "europe-west1"

# Devices send only their app JWT in development. In production prefer false plus
# http_invoker_members (an API Gateway or UI backend service account).
allow_unauthenticated_http = true
http_invoker_members       = []

# No VPC: a public IP without authorized networks, reachable only through the Cloud SQL connectors.
sql_public_ip_enabled = true

# A local UI dev server may call the functions and PUT uploads; the gallery's own origin is added
# by the module once web_gallery_image is set.
upload_cors_origins    = ["http://localhost:5173"]
cors_allowed_origins   = ["http://localhost:5173"]
sql_operator_iam_users = ["operator@example.com"]

# After building and pushing the gallery image (module README, "Web gallery"):
# web_gallery_image = "europe-west1-docker.pkg.dev/my-media-dev-project/media-dev-functions/web-gallery@sha256:..."

# After uploading a detector model (docs/RUNBOOKS/DEPLOY.md, "Detector model"):
# detector_model_object = "yolov8n/2026-01-15.onnx"
# detector_model_sha256 = "<sha256sum of the file>"

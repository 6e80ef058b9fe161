"""The local stack's models bucket: the model files `make models` built, uploaded as a deployment
uploads them, so process_media fetches and checks them exactly as in the cloud
(`DETECTOR_MODEL_URI`, `DETECTOR_MODEL_SHA256`; `common.media.detection_config.fetch_model`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from emulators._proc import StackError

MODELS_BUCKET = "media-models"
OBJECT_DETECTOR = "ssd_mobilenetv2_oidv4"
"""The entry of `models/models.json` that is the object detector."""


def publish_models(repo_root: Path, env: Mapping[str, str]) -> dict[str, str]:
    """Create the models bucket on the stack's store and upload the object detector's model.

    Args:
        repo_root: the checkout (its `models/` holds the built files and their pins).
        env: the stack's environment (its storage backend and endpoint).

    Returns:
        The variables that point process_media at the uploaded model.

    Raises:
        StackError: the model was not built (`make models`) or is not the pinned file.
    """
    spec = json.loads((repo_root / "models" / "models.json").read_text())[OBJECT_DETECTOR]
    path = repo_root / "models" / spec["output"]
    if not path.is_file():
        raise StackError(f"{path} is missing: run `make models` (part of `make install`)")
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    if sha256 != spec["output_sha256"]:
        raise StackError(f"{path} is not the pinned model (SHA-256 {sha256}): run `make models`")
    name = f"{OBJECT_DETECTOR}/{sha256[:12]}.onnx"
    if env.get("STORAGE_BACKEND") == "s3":
        scheme = "s3"
        _put_s3(env, name, data)
    else:
        scheme = "gs"
        _put_gcs(env, name, data)
    return {
        "MODELS_BUCKET": MODELS_BUCKET,
        "DETECTOR_MODEL_URI": f"{scheme}://{MODELS_BUCKET}/{name}",
        "DETECTOR_MODEL_SHA256": sha256,
    }


def _put_gcs(env: Mapping[str, str], name: str, data: bytes) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(
        project=env.get("GOOGLE_CLOUD_PROJECT", "local"),
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options={"api_endpoint": env["STORAGE_EMULATOR_HOST"]},
    )
    bucket = client.bucket(MODELS_BUCKET)
    if not bucket.exists():
        client.create_bucket(MODELS_BUCKET)
    bucket.blob(name).upload_from_string(data, content_type="application/octet-stream")


def _put_s3(env: Mapping[str, str], name: str, data: bytes) -> None:
    import boto3  # type: ignore[import-untyped]

    s3 = boto3.client(
        "s3",
        endpoint_url=env["S3_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if MODELS_BUCKET not in existing:
        s3.create_bucket(Bucket=MODELS_BUCKET)
    s3.put_object(Bucket=MODELS_BUCKET, Key=name, Body=data)

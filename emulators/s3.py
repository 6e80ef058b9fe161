"""S3 for the local stack: moto's server (PyPI `moto[server]`) on 127.0.0.1, with the uploads and
derivatives buckets (versioned, with CORS) and ObjectCreated events of the uploads bucket sent to
an SQS queue that the router forwards to finalize_upload (`emulators.sqs_source`)."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulators._proc import ManagedProcess, StackError, spawn, tcp_open, wait_until

REGION = "us-east-1"
# moto accepts any credentials; these dummies keep boto3's default chain from looking elsewhere.
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"  # noqa: S105 - dummy credential for the local moto server
EVENTS_QUEUE = "s3-object-events"
NOTIFICATION_ID = "finalize-upload"
READY_TIMEOUT_SECONDS = 30.0
DEFAULT_CORS_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*")
UPLOAD_CORS_HEADERS = (
    "Content-Type",
    "Content-MD5",
    "Content-Length",
    "If-None-Match",
    "x-amz-checksum-sha256",
    "x-amz-sdk-checksum-algorithm",
)
MAX_AGE_SECONDS = 3600


@dataclass(frozen=True)
class MotoS3:
    """A started moto server with the stack's buckets and event queue.

    Attributes:
        proc: The server process.
        url: Endpoint `http://127.0.0.1:PORT` (S3_ENDPOINT_URL; SQS is served on the same port).
        queue_url: URL of the SQS queue receiving the uploads bucket's ObjectCreated events.
        region: AWS region of the buckets and the queue.
    """

    proc: ManagedProcess
    url: str
    queue_url: str
    region: str = REGION


def client(service: str, endpoint_url: str, region: str = REGION) -> Any:
    """A boto3 client for moto at `endpoint_url` (path-style S3 addressing, dummy credentials)."""
    import boto3  # type: ignore[import-untyped]  # lazy: only the S3 backend needs boto3
    from botocore.config import Config  # type: ignore[import-untyped]

    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
    )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/", timeout=2):  # noqa: S310
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer: the server is up


def cors_origins(env: Mapping[str, str]) -> list[str]:
    """Browser origins allowed by the buckets' CORS rules: `S3_CORS_ORIGINS` (comma-separated),
    else any port of 127.0.0.1 and localhost."""
    raw = env.get("S3_CORS_ORIGINS", "")
    origins = [o.strip() for o in raw.split(",") if o.strip()]
    return origins or list(DEFAULT_CORS_ORIGINS)


def start_moto(
    workdir: Path,
    env: Mapping[str, str],
    *,
    uploads_bucket: str,
    derivatives_bucket: str,
    visibility_timeout_seconds: int,
    port: int,
    fresh: bool = True,
) -> MotoS3:
    """Start `python -m moto.server` on 127.0.0.1:`port` and create the buckets and the event
    queue (moto keeps everything in memory: a restart starts empty and is set up again).

    Both buckets get versioning and a CORS rule (uploads: PUT with the signed upload headers;
    derivatives: GET and HEAD), from the origins of `cors_origins(env)`. The uploads bucket sends
    `s3:ObjectCreated:*` events to queue `s3-object-events`, whose visibility timeout plays the
    part of the ack deadline.

    Args:
        workdir: Stack work directory (`logs/s3.log`).
        env: Environment of the child (MOTO_DISABLE_GLOBAL_CORS=true is added).
        uploads_bucket: Bucket whose ObjectCreated events are delivered.
        derivatives_bucket: The other bucket.
        visibility_timeout_seconds: The queue's visibility timeout (the push ack deadline).
        port: The work dir's storage port (a restart keeps it).
        fresh: A first start (the log starts over); False for a restart (appended).

    Returns:
        The server.

    Raises:
        StackError: moto is not installed, did not become ready, or setup failed.
    """
    url = f"http://127.0.0.1:{port}"
    log_path = workdir / "logs" / "s3.log"
    if fresh:
        log_path.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    child_env = {**env, "MOTO_DISABLE_GLOBAL_CORS": "true", "MOTO_PORT": str(port)}
    proc = spawn("s3", argv, log_path=log_path, env=child_env, cwd=workdir)
    try:
        wait_until(
            proc,
            lambda: tcp_open("127.0.0.1", port) and _answers(url),
            timeout_seconds=READY_TIMEOUT_SECONDS,
            what="moto answered HTTP",
        )
    except StackError:
        proc.stop()
        raise
    try:
        queue_url = _configure(
            url,
            uploads_bucket=uploads_bucket,
            derivatives_bucket=derivatives_bucket,
            visibility_timeout_seconds=visibility_timeout_seconds,
            origins=cors_origins(env),
        )
    except Exception as exc:
        proc.stop()
        raise StackError(f"configuring moto failed: {exc}; log {log_path}") from exc
    return MotoS3(proc, url, queue_url)


def _cors_rule(methods: Iterable[str], origins: list[str], headers: Iterable[str]) -> Any:
    return {
        "AllowedMethods": list(methods),
        "AllowedOrigins": origins,
        "AllowedHeaders": list(headers),
        "ExposeHeaders": ["ETag", "x-amz-version-id"],
        "MaxAgeSeconds": MAX_AGE_SECONDS,
    }


def _configure(
    url: str,
    *,
    uploads_bucket: str,
    derivatives_bucket: str,
    visibility_timeout_seconds: int,
    origins: list[str],
) -> str:
    sqs, s3 = client("sqs", url), client("s3", url)
    queue_url: str = sqs.create_queue(
        QueueName=EVENTS_QUEUE,
        Attributes={"VisibilityTimeout": str(visibility_timeout_seconds)},
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    rules = {
        uploads_bucket: _cors_rule(["PUT"], origins, UPLOAD_CORS_HEADERS),
        derivatives_bucket: _cors_rule(["GET", "HEAD"], origins, ["Range"]),
    }
    for bucket, rule in rules.items():
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
    s3.put_bucket_notification_configuration(
        Bucket=uploads_bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {"Id": NOTIFICATION_ID, "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    return queue_url


def s3_env(moto: MotoS3) -> dict[str, str]:
    """Environment pointing boto3 and the application's S3 backend at moto."""
    return {
        "STORAGE_BACKEND": "s3",
        "S3_ENDPOINT_URL": moto.url,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": moto.region,
    }


def s3_env_at(port: int) -> dict[str, str]:
    """`s3_env` of the moto server on 127.0.0.1:`port`."""
    url = f"http://127.0.0.1:{port}"
    return s3_env(MotoS3(proc=None, url=url, queue_url=""))  # type: ignore[arg-type]


def events_route(subscription: str, endpoint: str, port: int) -> dict[str, str]:
    """The router's S3 events route (`emulators.router_process` CONFIG `s3_events`): the queue
    of the moto server on `port`, found by name (a restarted moto creates it again)."""
    return {
        "subscription": subscription,
        "endpoint": endpoint,
        "moto_url": f"http://127.0.0.1:{port}",
        "queue_name": EVENTS_QUEUE,
        "region": REGION,
    }

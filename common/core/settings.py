"""Runtime configuration, read once per process from environment variables.

Every function reads the same `Settings`; each variable is documented on its field. Locally the
stack (`emulators/stack.py`) exports them; in the cloud Terraform sets them on each function.
Environment variable names are the field names in upper case (pydantic-settings).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

RESUMABLE_CHUNK_GRANULE_BYTES = 256 * 1024
"""Cloud Storage resumable chunks are multiples of this (the last may be shorter)."""

DEFAULT_MIME_ALLOWLIST: tuple[str, ...] = (
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "image/bmp",
    "image/tiff",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "video/x-msvideo",
    "video/x-matroska",
    "video/mp2t",
)


class Settings(BaseSettings):
    """Process-wide settings.

    Database: either `database_url` (a `postgresql+pg8000://` URL, used locally) or
    `cloud_sql_instance` + `db_name` + `db_iam_user` (Cloud SQL Python Connector with IAM auth).
    Storage: `STORAGE_EMULATOR_HOST` (read by google-cloud-storage itself) points clients at a local
    emulator; `signing_credentials_file` signs V4 URLs with a local key, otherwise URLs are signed
    through IAM signBlob as `signing_service_account_email`.
    """

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    gcp_project: str = Field(default="local-project", alias="GOOGLE_CLOUD_PROJECT")

    # --- Postgres
    database_url: str | None = None
    cloud_sql_instance: str | None = None
    db_name: str = "media"
    db_iam_user: str | None = None
    db_pool_size: int = Field(default=2, ge=1, le=20)
    db_max_overflow: int = Field(default=2, ge=0, le=20)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)

    # --- Object storage (Cloud Storage; an S3-compatible store with STORAGE_BACKEND=s3)
    storage_backend: Literal["gcs", "s3"] = "gcs"
    uploads_bucket: str = "media-uploads"
    derivatives_bucket: str = "media-derivatives"
    quarantine_prefix: str = "quarantine/"
    rejected_object_action: Literal["quarantine", "delete"] = "quarantine"
    signing_credentials_file: str | None = None
    signing_service_account_email: str | None = None
    # Public base URL signed URLs point at; None means https://storage.googleapis.com.
    storage_public_url: str | None = None
    upload_url_ttl_seconds: int = Field(default=900, ge=60, le=604800)
    download_url_ttl_seconds: int = Field(default=300, ge=60, le=604800)

    # --- S3-compatible store (STORAGE_BACKEND=s3; common.storage.s3). Credentials come from
    # boto3's default chain (environment, shared config, instance or task role), never from here.
    # Endpoint of the S3 API (None: AWS's endpoint for the region; MinIO: its URL).
    s3_endpoint_url: str | None = None
    # Endpoint presigned URLs name, when devices reach the store by another address (None: the
    # same as s3_endpoint_url).
    s3_public_url: str | None = None
    # Region of the buckets (None: boto3's chain, AWS_REGION / AWS_DEFAULT_REGION).
    s3_region: str | None = None
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"

    # --- upload protocols (common.media.uploads)
    # Declarations without `upload_protocol` of at least this size get a resumable upload.
    resumable_threshold_bytes: int = Field(default=64 * 1024**2, gt=0)
    # Chunk (GCS) and part (S3) size of resumable uploads: a multiple of 256 KiB (GCS) and at
    # least 5 MiB (S3's minimum part); raised for objects that would need over 10,000 parts.
    resumable_chunk_size_bytes: int = Field(default=16 * 1024**2, ge=5 * 1024**2)
    # A resumable upload may take this long before the reconciler expires its row (the GCS
    # session URI lives a week; S3 keeps multipart uploads until they are aborted).
    resumable_upload_ttl_seconds: int = Field(default=24 * 3600, ge=900, le=7 * 24 * 3600)
    # `POST /v1/media/{id}/complete` waits up to this long for a verification running elsewhere.
    complete_wait_seconds: float = Field(default=20.0, ge=0, le=50)

    # --- Pub/Sub
    media_verified_topic: str = "media-verified"
    media_jobs_topic: str = "media-jobs"

    # --- Firestore
    firestore_database: str = "(default)"
    status_mirror_enabled: bool = True

    # --- Device / user auth (JWT)
    jwt_algorithms: list[str] = Field(default_factory=lambda: ["HS256"])
    jwt_secret: str | None = None
    # Still accepted for verification (never for minting) while devices move to the new secret.
    jwt_previous_secret: str | None = None
    jwt_jwks_url: str | None = None
    jwt_audience: str = "media-api"
    jwt_issuer: str | None = None
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)

    # --- create_media contract
    max_upload_size_bytes: int = Field(default=2 * 1024**3, gt=0)
    mime_allowlist: list[str] = Field(default_factory=lambda: list(DEFAULT_MIME_ALLOWLIST))
    max_capture_clock_skew_seconds: int = Field(default=300, ge=0)
    # Earliest accepted `captured_at` (a camera whose clock was never set reports 1970).
    min_captured_at: datetime = datetime(1970, 1, 1, tzinfo=UTC)

    # MD5 is taken from Cloud Storage's own md5Hash of the object (computed at write); set this to
    # recompute it while streaming (about 3x slower than the SHA-256 pass alone).
    verify_md5_locally: bool = False

    # --- event handling
    max_event_age_seconds: int = Field(default=7 * 24 * 3600, gt=0)
    # At-most-once work per object version / media / job: a claim expires after this long, so a
    # crashed worker's work is picked up again (by a redelivery or the reconciler).
    verify_claim_ttl_seconds: int = Field(default=120, ge=5)
    process_claim_ttl_seconds: int = Field(default=600, ge=5)
    job_claim_ttl_seconds: int = Field(default=600, ge=5)

    # --- housekeeping (reconciler)
    # A `pending_upload` row is expired this long after its upload URL's lifetime ended.
    pending_upload_grace_seconds: int = Field(default=300, ge=0)
    # Rows in an intermediate state (uploaded, verified, processing, queued/running jobs) untouched
    # for this long, with no live claim, are driven again.
    stuck_after_seconds: int = Field(default=900, ge=1)
    reconcile_batch_size: int = Field(default=100, ge=1, le=10_000)

    # Show buckets, object names and URIs to non-admins (admins always see them).
    expose_storage_locations: bool = False

    # --- quotas (per UTC day; an admin may override a device's)
    quota_device_bytes_per_day: int = Field(default=50 * 1024**3, ge=0)
    quota_device_media_per_day: int = Field(default=20_000, ge=0)
    quota_user_bytes_per_day: int = Field(default=200 * 1024**3, ge=0)
    quota_user_media_per_day: int = Field(default=100_000, ge=0)

    # --- management
    # Days a device's media are kept (an owner may set another per device; 0 keeps forever).
    default_retention_days: int = Field(default=30, ge=0)
    retention_batch_size: int = Field(default=200, ge=1, le=10_000)
    # Share links: the longest lifetime (7 days is also the limit of a V4 signed URL).
    max_share_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60, le=7 * 24 * 3600)
    # The public base URL of list_media, for share links (default: the request's own host).
    public_base_url: str | None = None
    # The web gallery's public URL: share links open its viewer page, `<web_base_url>/s/<token>`
    # (None: they open list_media's `/v1/s/<token>`, a redirect to the bytes).
    web_base_url: str | None = None
    # Stream tickets: how long a ticket for one event stream is valid.
    stream_ticket_ttl_seconds: int = Field(default=60, ge=5, le=600)

    # --- HTTP
    # Origins a browser may call the HTTP functions from (CORS); none by default.
    cors_allowed_origins: list[str] = Field(default_factory=list)
    cors_max_age_seconds: int = Field(default=600, ge=0, le=86400)
    max_json_depth: int = Field(default=32, ge=2, le=512)
    max_request_body_bytes: int = Field(default=4 * 1024**2, gt=0)

    # --- processing (common.processing.AnalysisConfig; per-camera overrides in the database)
    thumbnail_max_px: int = Field(default=320, gt=16)
    # Floor of the score of labels without a filter of their own (DETECTION_FILTERS_JSON).
    detection_min_score: float = Field(default=0.35, ge=0.0, le=1.0)
    # Which detectors run, by kind (checked by common.processing.config.DetectorKind): faces
    # (MTCNN), objects (the SSD object detector: people, pets, vehicles), people (OpenCV HOG),
    # onnx (a YOLO / DetectionOutput ONNX export, ONNX_MODEL_* below).
    detectors: list[str] = Field(default_factory=lambda: ["faces", "objects"], min_length=1)
    detector_face_model: Literal["auto", "mtcnn", "haar"] = "auto"
    # The object detector's model file: a local path, or gs://bucket/object (s3://bucket/key with
    # S3), fetched once per instance and checked against DETECTOR_MODEL_SHA256 before it is
    # loaded. Unset: the file `make models` builds in a checkout (models/).
    detector_model_uri: str | None = None
    detector_model_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    # Labels the object detector reports (of its classes; default person, dog, cat, car,
    # vehicle, bicycle) and the class score below which a box is not a candidate.
    detector_model_labels: list[str] | None = None
    detector_model_score_threshold: float = Field(default=0.2, ge=0.0, le=1.0)
    # A YOLO or DetectionOutput-layout ONNX model for the "onnx" detector kind.
    onnx_model_uri: str | None = None
    onnx_model_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    onnx_model_format: Literal["auto", "yolo", "ssd"] = "auto"
    onnx_model_labels: list[str] | None = None
    onnx_model_score_threshold: float = Field(default=0.25, ge=0.0, le=1.0)
    onnx_model_nms_iou: float = Field(default=0.45, gt=0.0, le=1.0)
    # Per-label filters, JSON: {"person": {"min_score": 0.5, "threshold": 0.9, ...}, ...}; merged
    # into the library's defaults.
    detection_filters_json: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # Video: detector samples per second while something moves, the most samples per video, how
    # often still tracked objects and the whole frame are looked at, motion gating.
    video_detect_fps: float = Field(default=2.0, gt=0.0, le=30.0)
    video_max_samples: int = Field(default=2400, ge=1)
    video_stationary_interval_ms: int = Field(default=3000, ge=1)
    video_full_frame_every_ms: int = Field(default=5000, ge=1)
    motion_gating: bool = True
    motion_min_area_fraction: float = Field(default=0.001, ge=0.0, le=1.0)
    track_iou: float = Field(default=0.2, gt=0.0, le=1.0)
    track_max_gap_ms: int = Field(default=2000, ge=0)
    mtcnn_max_candidates: int = Field(default=600, ge=1)
    mtcnn_refine_batch: int = Field(default=64, ge=1)

    # --- jobs (clips, snapshots) and realtime (Server-Sent Events)
    max_clip_duration_ms: int = Field(default=60_000, gt=0)
    # A stream copy is used when a keyframe and a clean cut lie this close to the requested ends.
    clip_copy_tolerance_ms: int = Field(default=50, ge=0, le=1000)
    max_inline_snapshot_bytes: int = Field(default=2 * 1024**2, gt=0)
    # `POST /v1/media/resolve`: references per document; inlined bytes per media and per answer.
    resolve_max_references: int = Field(default=5000, ge=1)
    resolve_inline_max_bytes: int = Field(default=256 * 1024, ge=0)
    resolve_inline_total_bytes: int = Field(default=4 * 1024**2, ge=0)
    # Decoded bytes of a data URL sent to `POST /v1/media` for the server to ingest.
    max_ingest_data_url_bytes: int = Field(default=8 * 1024**2, gt=0)
    max_snapshot_labels: int = Field(default=32, ge=0)
    job_progress_interval_seconds: float = Field(default=0.5, gt=0)
    sse_heartbeat_seconds: float = Field(default=15.0, gt=0)
    sse_max_seconds: float = Field(default=300.0, gt=0)
    sse_retry_ms: int = Field(default=3000, ge=0)
    # The stream service (common/streams): how far back its listeners reach (so how old a
    # resumable `Last-Event-ID` of `GET /v1/events/stream` may be), how often they are renewed,
    # and how many events one slow client may have waiting before its stream is ended.
    stream_resume_window_seconds: float = Field(default=900.0, ge=60)
    stream_recycle_seconds: float = Field(default=900.0, ge=60)
    stream_queue_size: int = Field(default=1000, ge=10)

    # --- server-side ingest: fetching a client's URL (common.fetch, SSRF rules in its docstring)
    # Plain http:// URLs (and https -> http redirects) are refused unless this is set.
    ingest_allow_http: bool = False
    # Hosts the server may fetch from: exact names or `*.suffix` (any name below suffix, not suffix
    # itself), as a JSON list; empty means any host whose addresses are all publicly routable.
    ingest_allowed_hosts: list[str] = Field(default_factory=list)
    # Hard cap on a fetched body: a larger Content-Length is refused before reading, a body that
    # runs past it is cut off (`too_large`).
    ingest_max_bytes: int = Field(default=100 * 1024**2, gt=0)
    ingest_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # Wall-clock bound on one whole fetch: DNS, connects, redirects, headers and body.
    ingest_total_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    ingest_max_redirects: int = Field(default=3, ge=0, le=10)
    # TESTS ONLY: let the fetcher reach 127.0.0.0/8 and ::1 (servers a test starts). Never set in a
    # deployed function; every other address class stays refused.
    ingest_allow_loopback_for_tests: bool = False

    # --- events and webhooks (docs/CONTRACTS.md, "Events", "Webhooks")
    webhook_deliveries_topic: str = "webhook-deliveries"
    # A webhook endpoint may be http:// (only for tests and the local stack; https in the cloud).
    webhook_allow_http: bool = False
    # TESTS ONLY: endpoints on 127.0.0.0/8 and ::1 (receivers a test starts). Never in the cloud.
    webhook_allow_loopback_for_tests: bool = False
    webhook_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # Wall-clock bound on one delivery POST, connect to the end of the answer's headers.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_max_endpoints_per_owner: int = Field(default=20, ge=1)
    # Consecutive recordings of one camera continue an event (common/media/events/continuity.py)
    # when the next starts at most this long after the previous one ends...
    event_continuation_gap_ms: int = Field(default=2000, ge=0, le=60_000)
    # ...and the object was seen this close to the end of one and the start of the other.
    event_continuation_edge_ms: int = Field(default=3000, ge=0, le=60_000)

    @field_validator("resumable_chunk_size_bytes")
    @classmethod
    def _chunk_multiple(cls, value: int) -> int:
        if value % RESUMABLE_CHUNK_GRANULE_BYTES:
            raise ValueError("must be a multiple of 256 KiB (Cloud Storage resumable chunks)")
        return value


@cache
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first use."""
    return Settings()

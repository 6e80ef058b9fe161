"""What every S3 call of the S3 backend shares (`s3.py`, `s3_multipart.py`): the bucket / key /
version parameters, the version id of an answer, and the translation of botocore errors into
ours. No boto3 import: the errors are read from their `response` dict."""

from __future__ import annotations

from typing import Any

from common.core.errors import MediaError
from common.storage.base import ObjectExists, ObjectNotFound, StorageUnavailable

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "NoSuchUpload", "NotFound", "404"})


def error_of(exc: Exception) -> tuple[str, int, str]:
    """(error code, HTTP status, message) of a botocore ClientError; ("", 0, "") otherwise."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return "", 0, ""
    error = response.get("Error") or {}
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0
    return str(error.get("Code", "")), int(status), str(error.get("Message", ""))


def translate(exc: Exception, what: str) -> Exception:
    """Our error for a boto3 exception: not found, precondition failed, anything else transient."""
    if isinstance(exc, MediaError):
        return exc
    code, status, message = error_of(exc)
    if code in _NOT_FOUND_CODES or status == 404:
        return ObjectNotFound(f"{what} not found")
    if code == "InvalidArgument" and "version" in message.lower():
        return ObjectNotFound(f"{what}: no such version")
    if status == 412 or code == "PreconditionFailed":
        return ObjectExists(f"{what} exists")
    return StorageUnavailable(f"storage error on {what}: {code or exc.__class__.__name__}")


def version_of(response: dict[str, Any]) -> str:
    """The version id an S3 answer names (`"null"` in an unversioned bucket)."""
    return str(response.get("VersionId") or "null")


def object_params(bucket: str, name: str, version: str | None = None) -> dict[str, str]:
    """`Bucket`, `Key` and, for one version, `VersionId`."""
    params = {"Bucket": bucket, "Key": name}
    if version is not None:
        params["VersionId"] = version
    return params

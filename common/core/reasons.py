"""Why a media object or a job ended where it did: a stable code plus a sentence for people.

Reasons are stored on the row (`status_reason_code`, `status_reason`), written to the status
history and the realtime mirror, and returned by the API. They never carry internals (file paths,
exception reprs, decoder output): those go to the log. The codes are listed in
docs/CONTRACTS.md, "Reasons".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    """A reason code and its sentence.

    Attributes:
        code: snake_case, stable across releases (programs branch on it).
        message: one sentence for people.
    """

    code: str
    message: str


# Verification (rejected)
SIZE_MISMATCH = "size_mismatch"
SHA256_MISMATCH = "sha256_mismatch"
MD5_MISMATCH = "md5_mismatch"
CONTENT_TYPE_MISMATCH = "content_type_mismatch"
OVERWRITE_REJECTED = "overwrite_rejected"
# Processing and jobs (failed)
UNDECODABLE = "undecodable"
TOO_LARGE = "too_large"
OBJECT_GONE = "object_gone"
SOURCE_GONE = "source_gone"
SOURCE_DELETED = "source_deleted"
DELETED = "deleted"
RETENTION = "retention"
PURGED = "purged"
RESULT_FAILED = "result_failed"
# Declaration (a first status that is not `pending_upload`)
SHARES_BYTES = "shares_bytes"
# Housekeeping (failed)
UPLOAD_EXPIRED = "upload_expired"
DEAD_LETTERED = "dead_lettered"

_SENTENCES = {
    SIZE_MISMATCH: "The uploaded size differs from the declared size_bytes.",
    SHA256_MISMATCH: "The uploaded bytes do not have the declared SHA-256.",
    MD5_MISMATCH: "The uploaded bytes do not have the declared MD5.",
    CONTENT_TYPE_MISMATCH: "The uploaded bytes are not of the declared type.",
    OVERWRITE_REJECTED: "A new version was written over verified content; it was set aside.",
    UNDECODABLE: "The bytes could not be decoded as the media type they claim to be.",
    OBJECT_GONE: "The stored bytes disappeared before they could be processed.",
    SOURCE_GONE: "The source video's bytes are no longer stored.",
    SOURCE_DELETED: "The source video was deleted while the job ran.",
    DELETED: "Deleted on request.",
    RETENTION: "Deleted by the device's retention policy.",
    PURGED: "Deleted by an administrator's purge.",
    RESULT_FAILED: "The job's result could not be processed.",
    SHARES_BYTES: "The device had these bytes stored and verified already; this capture shares them.",
    UPLOAD_EXPIRED: "No upload arrived before the upload URL expired.",
    DEAD_LETTERED: "Processing kept failing and was given up after the last delivery attempt.",
}


def reason(code: str, message: str | None = None) -> Reason:
    """The reason for `code`, with its standard sentence unless `message` is given.

    Raises:
        KeyError: an unknown code without a message.
    """
    return Reason(code, message if message is not None else _SENTENCES[code])

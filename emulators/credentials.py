"""Throwaway credentials for the local stack: a service-account key file for signing V4 URLs and
a JWT secret."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

SIGNER_ACCOUNT_ID = "media-signer"
TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret


def write_signing_credentials(workdir: Path, project: str) -> Path:
    """Generate an RSA-2048 key and write it as a service-account JSON file (mode 0600).

    The file has the fields google-auth's `service_account.Credentials.from_service_account_file`
    reads; the key signs V4 URLs offline, and fake-gcs-server does not check the signature.

    Args:
        workdir: Stack work directory; the file is `workdir/secrets/signing-sa.json`.
        project: Project id (also in the account's e-mail).

    Returns:
        Path of the file (SIGNING_CREDENTIALS_FILE).
    """
    from cryptography.hazmat.primitives import serialization  # lazy: lazy
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")
    email = f"{SIGNER_ACCOUNT_ID}@{project}.iam.gserviceaccount.com"
    info = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": email,
        "client_id": str(secrets.randbelow(10**20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": TOKEN_URI,
    }
    directory = workdir / "secrets"
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    path = directory / "signing-sa.json"
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(info, fh, indent=2)
    return path


def jwt_secret(existing: str | None) -> str:
    """Keep a given JWT secret, else generate a random 256-bit one (URL-safe text)."""
    return existing or secrets.token_urlsafe(32)

"""The OpenAPI document is the served routes and models; every error code is documented."""

from __future__ import annotations

import re
from pathlib import Path

from common.api import routes
from common.api.openapi import openapi_path, pipeline_document
from scripts.openapi import TARGET, render

ROOT = Path(__file__).resolve().parents[3]


def test_committed_document_is_the_generated_one() -> None:
    assert TARGET.read_text() == render(), "run: .venv/bin/python -m scripts.openapi"


def test_every_served_route_is_an_operation_and_back() -> None:
    document = pipeline_document()
    documented = {(m, p) for p, item in document["paths"].items() for m in item}
    served = {
        (r.method.lower(), openapi_path(r.path))
        for r in (*routes.CREATE_MEDIA, *routes.LIST_MEDIA, *routes.MANAGE_MEDIA)
    }
    assert served == documented


def test_every_error_code_the_code_raises_is_in_the_contracts() -> None:
    contracts = (ROOT / "docs" / "CONTRACTS.md").read_text()
    raised: set[str] = set()
    for path in (ROOT / "common").rglob("*.py"):
        raised |= set(re.findall(r'code="([a-z_]+)"', path.read_text()))
        raised |= set(re.findall(r'^\s+code = "([a-z_]+)"', path.read_text(), re.M))
    missing = sorted(code for code in raised if f"`{code}`" not in contracts)
    assert missing == []


def test_the_list_view_is_the_summary_columns_and_what_is_derived_from_them() -> None:
    """The media summary body (gallery pages, `GET /v1/devices/{id}/media`) is made from the one
    list of its columns; its schema names exactly those and the derived fields."""
    from common.api.schemas import MediaSummary
    from common.media.gallery import SUMMARY_COLUMNS

    assert list(MediaSummary.model_fields) == [
        *SUMMARY_COLUMNS[:15],
        "thumbnail_url",
        *SUMMARY_COLUMNS[15:19],
        "counts",
        *SUMMARY_COLUMNS[19:],
    ]


def test_the_committed_document_is_valid_openapi() -> None:
    """Client generators read it: every `$ref` resolves, every schema is OpenAPI 3.1."""
    import yaml
    from openapi_spec_validator import validate

    validate(yaml.safe_load(TARGET.read_text()))

"""The OpenAPI document and the HTTP functions' routes cannot drift apart."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
HTTP_FUNCTIONS = ("create_media", "list_media")


def _routes(function: str) -> set[tuple[str, str]]:
    spec = importlib.util.spec_from_file_location(
        f"{function}_main", ROOT / "functions" / function / "main.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module: Any = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {(route.method.lower(), route.pattern) for route in module.ROUTES}


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    document = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
    documented = {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    }
    served = set().union(*(_routes(f) for f in HTTP_FUNCTIONS))
    assert served == documented


def test_documented_error_codes_include_every_error_class_code() -> None:
    import common.errors as errors

    document = (ROOT / "docs" / "openapi.yaml").read_text()
    codes = {
        cls.code
        for cls in vars(errors).values()
        if isinstance(cls, type)
        and issubclass(cls, errors.MediaError)
        and cls is not errors.MediaError
    }
    pipeline_only = {"integrity_mismatch", "media_unprocessable"}  # statuses, not HTTP answers
    missing = {code for code in codes - pipeline_only if code not in document}
    assert missing == set()

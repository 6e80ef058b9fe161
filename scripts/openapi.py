"""Write docs/openapi.yaml from the HTTP functions' routes (`python -m scripts.openapi`).

`--check` exits 1 when the committed document differs from the generated one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from common.api.openapi import pipeline_document
from scripts.generated import write_or_check

TARGET = Path(__file__).resolve().parents[1] / "docs" / "openapi.yaml"
HEADER = "# Generated from common/api/routes by `python -m scripts.openapi`; do not edit.\n"


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so descriptions read as written."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def render() -> str:
    """The document as YAML text, with its header."""
    body = yaml.dump(
        pipeline_document(), Dumper=_Dumper, sort_keys=False, width=100, allow_unicode=True
    )
    return HEADER + body


def main() -> int:
    """Write (or check) docs/openapi.yaml."""
    return write_or_check(TARGET, render, __doc__)


if __name__ == "__main__":
    sys.exit(main())

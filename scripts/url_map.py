"""Write terraform/url_map.json from the route binding (`python -m scripts.url_map`).

`--check` exits 1 when the committed map differs from the generated one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from common.api.routes import BINDING
from common.api.urlmap import url_map
from scripts.generated import write_or_check

TARGET = Path(__file__).resolve().parents[1] / "terraform" / "url_map.json"


def render() -> str:
    """The map as JSON text."""
    return json.dumps(url_map(BINDING), indent=2) + "\n"


def main() -> int:
    """Write (or check) terraform/url_map.json."""
    return write_or_check(TARGET, render, __doc__)


if __name__ == "__main__":
    sys.exit(main())

"""Write terraform/url_map.json from the route binding (`python -m scripts.url_map`).

`--check` exits 1 when the committed map differs from the generated one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from common.api.routes import BINDING
from common.api.urlmap import url_map

TARGET = Path(__file__).resolve().parents[1] / "terraform" / "url_map.json"


def render() -> str:
    """The map as JSON text."""
    return json.dumps(url_map(BINDING), indent=2) + "\n"


def main() -> int:
    """Write (or check) terraform/url_map.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    text = render()
    if args.check:
        same = TARGET.read_text() == text
        print("terraform/url_map.json is up to date" if same else "terraform/url_map.json is stale")
        return 0 if same else 1
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

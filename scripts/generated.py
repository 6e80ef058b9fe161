"""The command line of a generated, committed file: write it, or with `--check` exit 1 when the
committed copy differs from what would be generated (`scripts.openapi`, `scripts.url_map`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def write_or_check(target: Path, render: Callable[[], str], description: str | None) -> int:
    """Parse `--check`, then write `target` from `render()` or compare it; the exit status."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    text = render()
    name = target.relative_to(Path(__file__).resolve().parents[1]).as_posix()
    if args.check:
        same = target.read_text() == text
        print(f"{name} is up to date" if same else f"{name} is stale")
        return 0 if same else 1
    target.write_text(text)
    print(f"wrote {target}")
    return 0

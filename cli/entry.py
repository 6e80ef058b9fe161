"""The `mediactl` console script: Ctrl-C ends it with exit status 130 and one line, never a
traceback, wherever it lands (even while the CLI's modules are still being imported, which is
why this module imports nothing at its top)."""

from __future__ import annotations


def main() -> None:
    """Run `mediactl` (`cli.mediactl.app`)."""
    import sys

    try:
        from cli.mediactl import app

        app()
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        raise SystemExit(130) from None

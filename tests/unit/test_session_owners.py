"""One owner of a database session per request or message: the adapter opens it, domain functions
take it (`common.db.engine`). So `session_scope()` / `read_scope()` are opened only by an HTTP
route handler (`common/api/routes/`) or by the push handler of a message (`handle_*`), and "load
a media in a fresh session" is written nowhere: every read of a media row is `get_media`."""

from __future__ import annotations

import ast
from pathlib import Path

COMMON = Path(__file__).resolve().parents[2] / "common"
SCOPES = {"session_scope", "read_scope"}
ADAPTER_DIRS = ("api/routes/", "streams/service.py")  # the stream service is an adapter too
# Own units of work on purpose: claims are committed apart from the work they guard; an audit event
# without a session records what a rolled-back transaction refused (a quota); a declaration
# (common/media/declare.py) takes its content lock and quota charge in one transaction of its own;
# authentication reads a device's revocations (cached) before the route's unit of work begins; a
# webhook delivery reads its row, sends with no transaction open, then records the answer.
OWN_UNITS = {
    "db/claims.py",
    "db/engine.py",
    "observe/audit.py",
    "media/declare.py",
    "api/revocations.py",
    "webhooks/deliver.py",
}


def _openers(path: Path) -> list[str]:
    """`module:function` of each function that opens a session scope."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        for inner in ast.walk(node):
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Name)
                and inner.func.id in SCOPES
            ):
                found.append(node.name)
                break
    return found


def test_sessions_are_opened_only_by_adapters() -> None:
    wrong = []
    for path in sorted(COMMON.rglob("*.py")):
        relative = path.relative_to(COMMON).as_posix()
        if relative in OWN_UNITS or relative.startswith(ADAPTER_DIRS):
            continue
        for function in _openers(path):
            if not function.startswith("handle_"):
                wrong.append(f"{relative}:{function}")
    assert wrong == [], f"domain functions opening their own session: {wrong}"


def test_media_rows_are_read_by_get_media_only() -> None:
    wrong = []
    for path in sorted(COMMON.rglob("*.py")):
        source = path.read_text()
        if "get(MediaObject" in source.replace(" ", "") and path.name != "repo.py":
            wrong.append(path.relative_to(COMMON).as_posix())
    assert wrong == [], f"media rows read outside common.db.repo.get_media: {wrong}"


JOB_LIFECYCLE = "media/job_lifecycle.py"


def test_job_status_and_its_mirror_have_one_writer() -> None:
    """Only `common.media.job_lifecycle` changes `jobs.status` (after the insert that queues a
    job) or writes `jobs/{id}`; anything else reads."""
    wrong = []
    for path in sorted(COMMON.rglob("*.py")):
        relative = path.relative_to(COMMON).as_posix()
        if relative == JOB_LIFECYCLE:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                args = [a for a in node.args if isinstance(a, ast.Name)]
                if node.func.id == "update" and any(a.id == "Job" for a in args):
                    wrong.append(f"{relative}: update(Job)")
                if node.func.id == "write_document" and any(
                    a.id == "JOBS_COLLECTION" for a in args
                ):
                    wrong.append(f"{relative}: write_document(JOBS_COLLECTION)")
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if (
                        isinstance(target, ast.Attribute)
                        and target.attr == "status"
                        and isinstance(target.value, ast.Name)
                        and target.value.id == "job"
                    ):
                        wrong.append(f"{relative}: job.status =")
    assert wrong == [], wrong

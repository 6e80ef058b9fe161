"""The "Object access per function" table of docs/IAM.md, rendered from `local.function_access`.

`render(access)` is the one format; test_terraform_iam_doc.py checks that the table in IAM.md is
exactly what `local.function_access` (evaluated by Terraform) renders to, and
`python -m tests.terraform.iam_doc` prints it for pasting after a change of locals.tf.
"""

from __future__ import annotations

from typing import Any

FUNCTION_ORDER = [
    "create_media",
    "list_media",
    "manage_media",
    "finalize_upload",
    "process_media",
    "housekeeping",
]
HEADER = (
    "| Function | uploads bucket | derivatives bucket | models bucket | publishes to | Firestore "
    "| signs URLs |\n|---|---|---|---|---|---|---|"
)


def _operations(operations: list[str] | None) -> str:
    return (
        ", ".join(sorted(operations, key=["get", "create", "delete"].index)) if operations else "—"
    )


def render(access: dict[str, Any]) -> str:
    """The table (header and one row per function) for `access` = local.function_access."""
    rows = [HEADER]
    for name in [n for n in FUNCTION_ORDER if n in access] + sorted(
        set(access) - set(FUNCTION_ORDER)
    ):
        a = access[name]
        objects = a["objects"]
        publishes = ", ".join(f"`{t}`" for t in a["publishes"]) or "—"
        rows.append(
            f"| {name} | {_operations(objects.get('uploads'))} | "
            f"{_operations(objects.get('derivatives'))} | {_operations(objects.get('models'))} | "
            f"{publishes} | {a['firestore']} | {'yes' if a['signs_urls'] else 'no'} |"
        )
    return "\n".join(rows)


def table_in(markdown: str) -> str:
    """The table under the "Object access per function" heading of IAM.md."""
    section = markdown.split("## Object access per function", 1)[1]
    lines = section.split("\n|", 1)[1].split("\n\n", 1)[0]
    return "|" + lines


if __name__ == "__main__":
    import json
    import sys

    print(render(json.load(sys.stdin)))

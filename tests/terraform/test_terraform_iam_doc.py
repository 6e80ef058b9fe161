"""docs/IAM.md's table of object access per function is what terraform/locals.tf grants."""

from __future__ import annotations

from tests.terraform.iam_doc import render, table_in
from tests.terraform.support import IAM_DOC, Evaluate


def test_iam_md_access_table_equals_function_access(evaluate: Evaluate) -> None:
    code, out, error = evaluate({})
    assert code == 0, error
    expected = render(out["function_access"])
    assert table_in(IAM_DOC.read_text(encoding="utf-8")) == expected, (
        "docs/IAM.md differs from local.function_access; paste this table:\n" + expected
    )

"""Real Terraform on function sizing: overrides, threads and pools, the connection budget."""

from __future__ import annotations

import hcl2
import pytest
from hcl2.utils import SerializationOptions

from tests.terraform.support import TERRAFORM_DIR, Evaluate


def test_terraform_applies_function_overrides_to_one_function_only(evaluate: Evaluate) -> None:
    code, out, error = evaluate(
        {
            "function_overrides": {
                "process_media": {"max_instance_count": 2, "available_memory": "4Gi"}
            }
        }
    )
    assert code == 0, error
    assert out["function_sizing"]["process_media"]["max_instance_count"] == 2
    assert out["function_sizing"]["process_media"]["available_memory"] == "4Gi"
    assert out["function_sizing"]["process_media"]["timeout_seconds"] == 540
    assert out["function_sizing"]["create_media"]["max_instance_count"] == 10
    assert out["sql_connection_budget"] == 149 - 5 + 2


def test_terraform_flags_a_timeout_beyond_the_ack_deadline(evaluate: Evaluate) -> None:
    code, out, error = evaluate(
        {"function_overrides": {"finalize_upload": {"timeout_seconds": 300}}}
    )
    assert code == 0, error
    assert out["timeouts_fit_ack_deadlines"]["finalize-upload"] is False


# ---------------------------------------------------------------------------------------------
# Threads and pools: THREADS = max_request_concurrency, one pooled connection each
# ---------------------------------------------------------------------------------------------


def test_terraform_sizes_threads_and_pools_to_the_request_concurrency(evaluate: Evaluate) -> None:
    code, out, error = evaluate({})
    assert code == 0, error
    for name, sizing in out["function_sizing"].items():
        assert sizing["threads"] == sizing["max_request_concurrency"], name
        assert sizing["db_pool_size"] == sizing["threads"], name
        assert sizing["db_max_overflow"] == 0, name
    assert out["function_sizing"]["list_media"]["threads"] == 8
    assert out["function_sizing"]["create_media"]["threads"] == 4


def test_terraform_moves_the_pool_with_an_overridden_concurrency(evaluate: Evaluate) -> None:
    code, out, error = evaluate(
        {"function_overrides": {"list_media": {"max_request_concurrency": 16}}}
    )
    assert code == 0, error
    assert out["function_sizing"]["list_media"]["threads"] == 16
    assert out["function_sizing"]["list_media"]["db_pool_size"] == 16
    assert out["sql_connection_budget"] == 149 - 80 + 160
    assert out["function_sizing_problems"] == []


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"max_request_concurrency": 32}, "db_pool_size 32 exceeds 20"),
        ({"db_pool_size": 2}, "is below its 8 threads"),
        ({"min_instance_count": 3, "max_instance_count": 2}, "min_instance_count exceeds"),
    ],
)
def test_terraform_reports_sizings_the_functions_cannot_run_with(
    evaluate: Evaluate, override: dict[str, int], message: str
) -> None:
    code, out, error = evaluate({"function_overrides": {"list_media": override}})
    assert code == 0, error
    (problem,) = out["function_sizing_problems"]
    assert problem.startswith("list_media: ")
    assert message in problem


def test_terraform_accepts_an_explicit_pool_with_overflow(evaluate: Evaluate) -> None:
    # A smaller pool is allowed when overflow covers every thread (connections above the pool
    # churn, which the README explains).
    code, out, error = evaluate(
        {"function_overrides": {"list_media": {"db_pool_size": 4, "db_max_overflow": 4}}}
    )
    assert code == 0, error
    assert out["function_sizing_problems"] == []
    assert out["function_sizing"]["list_media"]["db_pool_size"] == 4


def test_housekeeping_can_be_overridden(evaluate: Evaluate) -> None:
    code, out, error = evaluate({"function_overrides": {"housekeeping": {"max_instance_count": 1}}})
    assert code == 0, error
    assert out["function_sizing"]["housekeeping"]["max_instance_count"] == 1


def test_example_dev_sizing_fits_its_connection_budget(evaluate: Evaluate) -> None:
    # GIVEN the sizing the dev example passes to the module (examples/dev/main.tf)
    options = SerializationOptions(
        strip_string_quotes=True, explicit_blocks=False, with_comments=False
    )
    with (TERRAFORM_DIR / "examples" / "dev" / "main.tf").open(encoding="utf-8") as handle:
        parsed = hcl2.load(handle, serialization_options=options)
    (call,) = [m["media_pipeline"] for m in parsed["module"] if "media_pipeline" in m]
    overrides, max_connections = call["function_overrides"], call["sql_max_connections"]

    # THEN Terraform accepts it and the budget fits with the reserved connections
    code, out, error = evaluate(
        {"function_overrides": overrides, "sql_max_connections": max_connections}
    )
    assert code == 0, error
    assert out["function_sizing_problems"] == []
    assert out["sql_connection_budget"] + out["sql_reserved_connections"] <= max_connections

"""The functions: defaults, environment (Settings fields, the JWT secret), threads."""

from __future__ import annotations

import json
import re

from tests.terraform.support import (
    TERRAFORM_DIR,
    literal_number,
    module_grants,
    module_locals,
    module_resources,
    parsed,
    topology_json,
)

# Set on every function for the platform, not read by Settings: LOG_EXECUTION_ID (Cloud Functions
# adds it itself; declaring it avoids a permanent plan diff) and THREADS (functions-framework's
# gunicorn reads it: threads per instance, = max_instance_request_concurrency).
PLATFORM_ENVIRONMENT = {"LOG_EXECUTION_ID", "THREADS"}


# ---------------------------------------------------------------------------------------------
# Defaults: timeouts, connection budget, sizes
# ---------------------------------------------------------------------------------------------


def test_pushed_function_timeouts_fit_their_ack_deadlines() -> None:
    defaults = module_locals()["function_defaults"]
    for sub_id, sub in topology_json()["subscriptions"].items():
        if "push_function" in sub:
            timeout = literal_number(defaults[sub["push_function"]]["timeout_seconds"])
            assert timeout <= sub["ack_deadline_seconds"], sub_id


def test_default_connection_budget_fits_default_max_connections() -> None:
    # db_pool_size defaults to max_request_concurrency (one connection per thread).
    defaults = module_locals()["function_defaults"]
    budget = sum(
        literal_number(d["max_instance_count"])
        * (
            literal_number(d.get("db_pool_size", d["max_request_concurrency"]))
            + literal_number(d["db_max_overflow"])
        )
        for d in defaults.values()
    )
    variables = {
        k: v for e in parsed(TERRAFORM_DIR / "variables.tf")["variable"] for k, v in e.items()
    }
    assert (
        budget + variables["sql_reserved_connections"]["default"]
        <= variables["sql_max_connections"]["default"]
    )


def test_process_media_is_the_biggest_function() -> None:
    defaults = module_locals()["function_defaults"]
    process = defaults["process_media"]
    assert process["available_memory"] == "2Gi"
    assert literal_number(process["timeout_seconds"]) == max(
        literal_number(d["timeout_seconds"]) for d in defaults.values()
    )


# ---------------------------------------------------------------------------------------------
# Function environment matches common.core.settings.Settings
# ---------------------------------------------------------------------------------------------


def _settings_env_names() -> set[str]:
    from common.core.settings import Settings

    names = set()
    for field_name, field in Settings.model_fields.items():
        names.add((field.alias or field_name).upper())
    return names


def test_function_environment_names_are_settings_fields() -> None:
    local = module_locals()
    environment = local["common_environment"] + local["function_environment"]
    set_by_module = set(re.findall(r"\b([A-Z][A-Z0-9_]+)\s*=", environment)) | {"JWT_SECRET"}
    settings = _settings_env_names() | PLATFORM_ENVIRONMENT
    assert not set_by_module - settings, f"not Settings fields: {sorted(set_by_module - settings)}"
    required = {
        "GOOGLE_CLOUD_PROJECT",
        "CLOUD_SQL_INSTANCE",
        "DB_NAME",
        "DB_IAM_USER",
        "UPLOADS_BUCKET",
        "DERIVATIVES_BUCKET",
        "SIGNING_SERVICE_ACCOUNT_EMAIL",
        "MEDIA_VERIFIED_TOPIC",
        "MEDIA_JOBS_TOPIC",
        "JWT_AUDIENCE",
        "MAX_UPLOAD_SIZE_BYTES",
        "CORS_ALLOWED_ORIGINS",
        "THREADS",
        "DB_POOL_SIZE",
        "DB_MAX_OVERFLOW",
        "DETECTOR_MODEL_URI",
        "DETECTOR_MODEL_SHA256",
    }
    assert required <= set_by_module


def test_jwt_secret_comes_from_secret_manager_only() -> None:
    functions = module_resources()["google_cloudfunctions2_function.function"]
    (service_config,) = functions["service_config"]
    secrets = [d["secret_environment_variables"] for d in service_config["dynamic"]]
    keys = set()
    for secret in secrets:
        assert secret["for_each"].startswith("${contains(local.jwt_functions, each.key)")
        (content,) = secret["content"]
        assert "google_secret_manager_secret.jwt.secret_id" in secret["for_each"]
        keys.add(content["key"])
    assert keys == {"JWT_SECRET", "JWT_PREVIOUS_SECRET"}
    assert "JWT_SECRET" not in json.dumps(module_locals())
    assert "JWT_PREVIOUS_SECRET" not in json.dumps(module_locals())
    accessor = module_grants()["google_secret_manager_secret_iam_member.jwt_accessor"]
    assert accessor["for_each"] == "${local.jwt_functions}"
    assert set(re.findall(r'"([a-z_]+)"', module_locals()["jwt_functions"])) == {
        "create_media",
        "list_media",
        "manage_media",
    }


# ---------------------------------------------------------------------------------------------
# Performance settings
# ---------------------------------------------------------------------------------------------


def test_threads_follow_request_concurrency() -> None:
    local = module_locals()
    assert (
        "THREADS = tostring(local.function_sizing[name].threads)" in local["function_environment"]
    )
    assert "threads      = s.max_request_concurrency" in (
        (TERRAFORM_DIR / "locals.tf").read_text(encoding="utf-8")
    )
    functions = module_resources()["google_cloudfunctions2_function.function"]
    (service_config,) = functions["service_config"]
    assert service_config["max_instance_request_concurrency"] == (
        "${local.function_sizing[each.key].max_request_concurrency}"
    )
    (lifecycle,) = functions["lifecycle"]
    assert any(
        "local.function_sizing_problems" in p["condition"] for p in lifecycle["precondition"]
    )

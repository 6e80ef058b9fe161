"""Offline checks of terraform/: least-privilege IAM, private buckets, references, topology.

Parses every module `.tf` file (not examples/) with python-hcl2; no provider, no network. What
needs the Terraform registry (init/validate/plan) is listed in terraform/README.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2.utils import SerializationOptions

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO_ROOT / "terraform"
IAM_DOC = REPO_ROOT / "docs" / "IAM.md"
TOPOLOGY = REPO_ROOT / "topology.json"

PRIMITIVE_ROLES = {"roles/owner", "roles/editor", "roles/viewer"}
PUBLIC_MEMBERS = {"allUsers", "allAuthenticatedUsers"}
# The only grants to allUsers: the HTTP functions' and the web gallery's invoker, both created only
# with allow_unauthenticated_http = true.
GATED_PUBLIC_GRANTS = {
    "google_cloud_run_service_iam_member.http_public_invoker": "local.http_functions",
    "google_cloud_run_v2_service_iam_member.web_public_invoker": "local.web_gallery_enabled",
}
# Predefined storage roles that carry storage.objects.list (or more): no function gets one.
LISTING_STORAGE_ROLES = {
    "roles/storage.objectViewer",
    "roles/storage.objectUser",
    "roles/storage.objectAdmin",
    "roles/storage.admin",
    "roles/storage.legacyBucketReader",
    "roles/storage.legacyBucketWriter",
    "roles/storage.legacyBucketOwner",
}

# Roles that can be granted only on the project (no resource-level IAM binding exists), with the
# text their IAM condition must name. None: IAM Conditions cannot narrow the role.
PROJECT_ONLY_ROLES: dict[str, str | None] = {
    "roles/cloudsql.client": "local.sql_instance_resource_name",
    "roles/cloudsql.instanceUser": "local.sql_instance_resource_name",
    "roles/datastore.user": "local.firestore_resource_name",
    "roles/datastore.viewer": "local.firestore_resource_name",
    "roles/logging.logWriter": None,
}
# Project-level grants of resource-bindable roles, allowed only for a resource the module does not
# own and that does not exist at apply time; each must be conditioned on that resource.
PROJECT_LEVEL_EXCEPTIONS: dict[str, str] = {
    "google_project_iam_member.build_gcf_sources_viewer": "gcf-v2-sources-",
}

# Set on every function for the platform, not read by Settings: LOG_EXECUTION_ID (Cloud Functions
# adds it itself; declaring it avoids a permanent plan diff) and THREADS (functions-framework's
# gunicorn reads it: threads per instance, = max_instance_request_concurrency).
PLATFORM_ENVIRONMENT = {"LOG_EXECUTION_ID", "THREADS"}

_OPTIONS = SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, with_comments=False
)
_ADDRESS = re.compile(r"`((?:google|random)_[a-z0-9_]+\.[a-z0-9_]+)`")
# A predefined role, or the address of a custom role of the module.
_ROLE = re.compile(r"`(roles/[A-Za-z0-9_.]+|google_project_iam_custom_role\.[a-z0-9_]+)`")
_CUSTOM_ROLE_ROW = re.compile(r"`(google_project_iam_custom_role\.[a-z0-9_]+)`")
_VAR_REF = re.compile(r"(?<![\w.])var\.([A-Za-z_][\w-]*)")
_LOCAL_REF = re.compile(r"(?<![\w.])local\.([A-Za-z_][\w-]*)")
_RESOURCE_REF = re.compile(r"(?<![\w.])(data\.)?((?:google|random)_[a-z0-9_]+)\.([A-Za-z_][\w-]*)")


# ---------------------------------------------------------------------------------------------
# Parsing helpers
# ---------------------------------------------------------------------------------------------


def _module_files() -> list[Path]:
    return sorted(TERRAFORM_DIR.glob("*.tf"))


@cache
def _parsed(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        result: dict[str, Any] = hcl2.load(handle, serialization_options=_OPTIONS)
    return result


def _blocks(kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yield (type, name, body) of every `resource` or `data` block of the module."""
    for path in _module_files():
        for entry in _parsed(path).get(kind, []):
            for block_type, named in entry.items():
                for name, body in named.items():
                    yield block_type, name, body


def _resources() -> dict[str, dict[str, Any]]:
    return {f"{t}.{n}": body for t, n, body in _blocks("resource")}


def _declared(kind: str) -> set[str]:
    names: set[str] = set()
    for path in _module_files():
        for entry in _parsed(path).get(kind, []):
            names.update(entry)
    return names


def _locals() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in _module_files():
        for entry in _parsed(path).get("locals", []):
            merged.update(entry)
    return merged


def _code_text() -> str:
    """All module source without full-line comments (references in prose are not references)."""
    lines: list[str] = []
    for path in _module_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.lstrip().startswith(("#", "//")):
                lines.append(line)
    return "\n".join(lines)


def _is_grant(address: str) -> bool:
    resource_type = address.split(".", 1)[0]
    if resource_type == "google_project_iam_custom_role":  # a role definition, not a grant
        return False
    return resource_type.startswith("google_project_iam_") or bool(
        re.search(r"_iam_(member|binding|policy)$", resource_type)
    )


def _terraform_role(role: str) -> str:
    """The `role` value Terraform has for a role as IAM.md writes it."""
    if role.startswith("google_project_iam_custom_role."):
        return "${" + role + ".name}"
    return role


def _custom_role_table() -> dict[str, list[str]]:
    """Custom role address -> permissions, from the custom roles table of docs/IAM.md."""
    rows: dict[str, list[str]] = {}
    for line in IAM_DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and _CUSTOM_ROLE_ROW.fullmatch(cells[0]):
            rows[cells[0].strip("`")] = sorted(re.findall(r"`(storage\.[a-z.]+)`", cells[2]))
    return rows


def _grants() -> dict[str, dict[str, Any]]:
    return {a: body for a, body in _resources().items() if _is_grant(a)}


def _iam_table() -> dict[str, str]:
    """Terraform address -> role, from the grants table of docs/IAM.md."""
    rows: dict[str, str] = {}
    for line in IAM_DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 5:
            continue
        address, role = _ADDRESS.fullmatch(cells[0]), _ROLE.fullmatch(cells[2])
        if address and role:
            assert address.group(1) not in rows, f"{address.group(1)} listed twice in IAM.md"
            rows[address.group(1)] = role.group(1)
    return rows


def _topology() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(TOPOLOGY.read_text(encoding="utf-8"))
    return result


def _number(value: Any) -> int:
    assert isinstance(value, int), f"expected a literal number, got {value!r}"
    return value


# ---------------------------------------------------------------------------------------------
# Parsing and layout
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", _module_files(), ids=lambda p: p.name)
def test_module_file_parses(path: Path) -> None:
    assert isinstance(_parsed(path), dict)


def test_module_has_the_standard_files() -> None:
    names = {p.name for p in _module_files()}
    assert {"versions.tf", "variables.tf", "outputs.tf"} <= names
    assert (TERRAFORM_DIR / "README.md").is_file()
    assert (TERRAFORM_DIR / "examples" / "dev" / "main.tf").is_file()
    assert (TERRAFORM_DIR / "examples" / "dev" / "terraform.tfvars").is_file()


def test_versions_are_bounded() -> None:
    (terraform,) = _parsed(TERRAFORM_DIR / "versions.tf")["terraform"]
    assert terraform["required_version"] == ">= 1.5"
    (providers,) = terraform["required_providers"]
    assert providers["google"]["version"] == ">= 6.0, < 8.0"


def test_every_variable_is_typed_and_described() -> None:
    for path in _module_files():
        for entry in _parsed(path).get("variable", []):
            for name, body in entry.items():
                assert body.get("type"), f"variable {name} has no type"
                assert body.get("description"), f"variable {name} has no description"


# ---------------------------------------------------------------------------------------------
# References resolve
# ---------------------------------------------------------------------------------------------


def test_every_var_reference_is_declared() -> None:
    referenced = set(_VAR_REF.findall(_code_text()))
    missing = referenced - _declared("variable")
    assert not missing, f"undeclared variables: {sorted(missing)}"


def test_every_local_reference_is_declared() -> None:
    referenced = set(_LOCAL_REF.findall(_code_text()))
    missing = referenced - set(_locals())
    assert not missing, f"undeclared locals: {sorted(missing)}"


def test_every_resource_and_data_reference_resolves() -> None:
    resources = {(t, n) for t, n, _ in _blocks("resource")}
    data = {(t, n) for t, n, _ in _blocks("data")}
    unresolved = set()
    for is_data, block_type, name in _RESOURCE_REF.findall(_code_text()):
        if (block_type, name) not in (data if is_data else resources):
            unresolved.add(f"{is_data}{block_type}.{name}")
    assert not unresolved, f"references to undeclared blocks: {sorted(unresolved)}"


# ---------------------------------------------------------------------------------------------
# IAM: documented, least privilege
# ---------------------------------------------------------------------------------------------


def test_every_grant_is_in_iam_md_and_every_row_exists() -> None:
    grants = _grants()
    table = _iam_table()
    assert grants, "no IAM grants found: is the parser reading terraform/?"
    assert not set(grants) - set(table), (
        f"grants missing from docs/IAM.md: {sorted(set(grants) - set(table))}"
    )
    assert not set(table) - set(grants), (
        f"docs/IAM.md lists grants that do not exist: {sorted(set(table) - set(grants))}"
    )


def test_iam_md_roles_match_terraform() -> None:
    grants = _grants()
    for address, role in _iam_table().items():
        if address in grants:
            assert grants[address].get("role") == _terraform_role(role), (
                f"{address}: IAM.md says {role}"
            )


def test_no_primitive_roles() -> None:
    for address, body in _grants().items():
        assert body.get("role") not in PRIMITIVE_ROLES, address
    for role in PRIMITIVE_ROLES:
        assert f'"{role}"' not in _code_text(), f"{role} appears in terraform/"


def test_no_authoritative_project_policies() -> None:
    kinds = {a.split(".", 1)[0] for a in _grants()}
    assert not kinds & {"google_project_iam_binding", "google_project_iam_policy"}


def test_project_level_grants_only_where_no_resource_binding_exists() -> None:
    for address, body in _grants().items():
        if not address.startswith("google_project_iam_"):
            continue
        role = body["role"]
        if address in PROJECT_LEVEL_EXCEPTIONS:
            (condition,) = body["condition"]
            assert PROJECT_LEVEL_EXCEPTIONS[address] in condition["expression"], address
            continue
        assert role in PROJECT_ONLY_ROLES, f"{address}: {role} has a resource-level binding, use it"
        required = PROJECT_ONLY_ROLES[role]
        if required is not None:
            conditions = body.get("condition", [])
            assert len(conditions) == 1, f"{address}: {role} must carry an IAM condition"
            assert required in conditions[0]["expression"], (
                f"{address}: condition must name {required}"
            )


def test_no_public_members_except_the_gated_http_invokers() -> None:
    for address, body in _grants().items():
        members = [body.get("member", ""), *body.get("members", [])]
        if set(members) & PUBLIC_MEMBERS:
            assert address in GATED_PUBLIC_GRANTS, f"{address} grants to {members}"
    for address, scope in GATED_PUBLIC_GRANTS.items():
        gated = _grants()[address]
        assert gated["role"] == "roles/run.invoker"
        gate = gated.get("for_each") or gated.get("count")
        assert "var.allow_unauthenticated_http" in gate, address
        assert scope in gate, address
    (variable,) = [
        entry["allow_unauthenticated_http"]
        for entry in _parsed(TERRAFORM_DIR / "variables.tf")["variable"]
        if "allow_unauthenticated_http" in entry
    ]
    assert variable["default"] is False


def test_push_invoker_can_invoke_only_pushed_functions() -> None:
    grant = _grants()["google_cloud_run_service_iam_member.push_invoker"]
    assert grant["for_each"] == "${local.pushed_functions}"
    assert grant["member"] == "${google_service_account.push_invoker.member}"
    assert grant["service"] == "${google_cloudfunctions2_function.function[each.key].name}"


def test_signers_may_sign_only_as_themselves() -> None:
    grant = _grants()["google_service_account_iam_member.signer_self_token_creator"]
    assert grant["service_account_id"] == "${google_service_account.function[each.key].name}"
    assert grant["member"] == "${google_service_account.function[each.key].member}"
    for address, body in _grants().items():
        if body.get("role") == "roles/iam.serviceAccountTokenCreator":
            assert address.startswith("google_service_account_iam_member."), address


def test_dead_lettering_grants_are_scoped_to_topology() -> None:
    grants = _grants()
    publisher = grants["google_pubsub_topic_iam_member.dead_letter_pubsub_agent_publisher"]
    subscriber = grants[
        "google_pubsub_subscription_iam_member.dead_letter_source_pubsub_agent_subscriber"
    ]
    assert publisher["for_each"] == "${local.dead_letter_topics}"
    assert subscriber["for_each"] == "${local.dead_letter_subscriptions}"
    assert "gcp-sa-pubsub" in publisher["member"]
    assert "gcp-sa-pubsub" in subscriber["member"]


def test_no_service_account_keys() -> None:
    assert not [a for a in _resources() if a.startswith("google_service_account_key.")]


# ---------------------------------------------------------------------------------------------
# Identities: one service account per function
# ---------------------------------------------------------------------------------------------


def test_each_function_runs_as_its_own_service_account() -> None:
    resources = _resources()
    functions = resources["google_cloudfunctions2_function.function"]
    accounts = resources["google_service_account.function"]
    # One service account instance per function instance, selected by the function's own key.
    assert functions["for_each"] == accounts["for_each"] == "${local.functions}"
    (service_config,) = functions["service_config"]
    assert (
        service_config["service_account_email"]
        == "${google_service_account.function[each.key].email}"
    )
    assert "each.key" in accounts["account_id"]
    # No other function resource exists that could share an account.
    assert [a for a in resources if a.startswith("google_cloudfunctions2_function.")] == [
        "google_cloudfunctions2_function.function"
    ]
    # Build and push identities are separate accounts.
    (build_config,) = functions["build_config"]
    assert build_config["service_account"] == "${google_service_account.build.id}"


def test_function_service_account_ids_are_distinct() -> None:
    names = _locals()["function_service_names"]
    assert "replace(name" in names
    assert "var.name_prefix" in names
    ids = {name.replace("_", "-") for name in _topology()["functions"]}
    assert len(ids) == len(_topology()["functions"])


# ---------------------------------------------------------------------------------------------
# Buckets
# ---------------------------------------------------------------------------------------------


def test_buckets_are_private_with_uniform_access() -> None:
    buckets = {a: b for a, b in _resources().items() if a.startswith("google_storage_bucket.")}
    assert set(buckets) == {
        "google_storage_bucket.uploads",
        "google_storage_bucket.derivatives",
        "google_storage_bucket.models",
        "google_storage_bucket.functions_source",
    }
    for address, body in buckets.items():
        assert body.get("public_access_prevention") == "enforced", address
        assert body.get("uniform_bucket_level_access") is True, address
        assert body.get("soft_delete_policy"), f"{address} states no soft delete retention"


def test_uploads_lifecycle_expires_quarantine_and_aborts_multipart() -> None:
    uploads = _resources()["google_storage_bucket.uploads"]
    rules = [(r["action"][0]["type"], r["condition"][0]) for r in uploads["lifecycle_rule"]]
    assert (
        "Delete",
        {"age": "${var.quarantine_retention_days}", "matches_prefix": ["${var.quarantine_prefix}"]},
    ) in rules
    assert any(action == "AbortIncompleteMultipartUpload" for action, _ in rules)


def test_uploads_cors_allows_exactly_the_signed_headers() -> None:
    uploads = _resources()["google_storage_bucket.uploads"]
    (cors,) = [d["cors"] for d in uploads["dynamic"] if "cors" in d]
    (content,) = cors["content"]
    assert content["method"] == ["PUT"]
    assert sorted(content["response_header"]) == sorted(
        ["Content-Type", "Content-MD5", "x-goog-content-length-range", "x-goog-if-generation-match"]
    )


def test_finalize_notifications_go_to_object_events() -> None:
    notification = _resources()["google_storage_notification.uploads_finalize"]
    assert notification["payload_format"] == "JSON_API_V1"
    assert notification["event_types"] == ["OBJECT_FINALIZE"]
    assert notification["topic"] == "${google_pubsub_topic.topic[local.object_events_topic].id}"
    assert _locals()["object_events_topic"] == "object-events"


# ---------------------------------------------------------------------------------------------
# Topology: Terraform provisions exactly what topology.json declares
# ---------------------------------------------------------------------------------------------


def test_pubsub_and_functions_iterate_over_topology_json() -> None:
    local = _locals()
    assert local["topology"] == '${jsondecode(file("${path.module}/../topology.json"))}'
    assert local["topics"] == "${local.topology.topics}"
    assert local["subscriptions"] == "${local.topology.subscriptions}"
    assert local["functions"] == "${local.topology.functions}"
    resources = _resources()
    assert resources["google_pubsub_topic.topic"]["for_each"] == "${local.topics}"
    assert (
        resources["google_pubsub_subscription.subscription"]["for_each"] == "${local.subscriptions}"
    )
    assert resources["google_cloudfunctions2_function.function"]["for_each"] == "${local.functions}"
    assert (
        resources["google_storage_bucket_object.function_source"]["for_each"]
        == "${local.functions}"
    )
    # No topic or subscription is declared outside the topology-driven resources.
    pubsub = [
        a
        for a in resources
        if a.startswith(("google_pubsub_topic.", "google_pubsub_subscription."))
    ]
    assert sorted(pubsub) == [
        "google_pubsub_subscription.subscription",
        "google_pubsub_topic.topic",
    ]


def test_topology_is_consistent() -> None:
    topology = _topology()
    topics, functions = topology["topics"], topology["functions"]
    for sub_id, sub in topology["subscriptions"].items():
        assert sub["topic"] in topics, sub_id
        if "push_function" in sub:
            assert sub["push_function"] in functions, sub_id
            keys = ["minimum_backoff_seconds", "maximum_backoff_seconds"]
            if sub["topic"] != "dead-letter":  # dead letters are not dead-lettered again
                keys += ["max_delivery_attempts", "dead_letter_topic"]
            for key in keys:
                assert key in sub, f"push subscription {sub_id} lacks {key}"
        if "dead_letter_topic" in sub:
            assert sub["dead_letter_topic"] in topics, sub_id
    for name, function in functions.items():
        assert function["trigger"] in {"http", "pubsub"}, name


def test_topics_wired_by_name_exist_in_topology() -> None:
    local = _locals()
    for key in ("object_events_topic", "media_verified_topic", "media_jobs_topic"):
        assert local[key] in _topology()["topics"], key


def test_function_groups_name_topology_functions() -> None:
    local = _locals()
    functions = set(_topology()["functions"])
    http = {n for n, f in _topology()["functions"].items() if f["trigger"] == "http"}
    pushed = {
        s["push_function"] for s in _topology()["subscriptions"].values() if "push_function" in s
    }
    assert set(local["function_defaults"]) == functions
    assert set(local["function_access"]) == functions
    named = set(re.findall(r'"([a-z_]+)"', local["jwt_functions"]))
    assert named
    assert named <= functions
    signers = {n for n, access in local["function_access"].items() if access["signs_urls"]}
    assert signers == http - {"manage_media"}  # manage_media signs nothing
    assert pushed == {n for n, f in _topology()["functions"].items() if f["trigger"] == "pubsub"}


def test_pushed_function_timeouts_fit_their_ack_deadlines() -> None:
    defaults = _locals()["function_defaults"]
    for sub_id, sub in _topology()["subscriptions"].items():
        if "push_function" in sub:
            timeout = _number(defaults[sub["push_function"]]["timeout_seconds"])
            assert timeout <= sub["ack_deadline_seconds"], sub_id


def test_default_connection_budget_fits_default_max_connections() -> None:
    # db_pool_size defaults to max_request_concurrency (one connection per thread).
    defaults = _locals()["function_defaults"]
    budget = sum(
        _number(d["max_instance_count"])
        * (
            _number(d.get("db_pool_size", d["max_request_concurrency"]))
            + _number(d["db_max_overflow"])
        )
        for d in defaults.values()
    )
    variables = {
        k: v for e in _parsed(TERRAFORM_DIR / "variables.tf")["variable"] for k, v in e.items()
    }
    assert (
        budget + variables["sql_reserved_connections"]["default"]
        <= variables["sql_max_connections"]["default"]
    )


def test_process_media_is_the_biggest_function() -> None:
    defaults = _locals()["function_defaults"]
    process = defaults["process_media"]
    assert process["available_memory"] == "2Gi"
    assert _number(process["timeout_seconds"]) == max(
        _number(d["timeout_seconds"]) for d in defaults.values()
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
    local = _locals()
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
    functions = _resources()["google_cloudfunctions2_function.function"]
    (service_config,) = functions["service_config"]
    secrets = [d["secret_environment_variables"] for d in service_config["dynamic"]]
    keys = set()
    for secret in secrets:
        assert secret["for_each"].startswith("${contains(local.jwt_functions, each.key)")
        (content,) = secret["content"]
        assert "google_secret_manager_secret.jwt.secret_id" in secret["for_each"]
        keys.add(content["key"])
    assert keys == {"JWT_SECRET", "JWT_PREVIOUS_SECRET"}
    assert "JWT_SECRET" not in json.dumps(_locals())
    assert "JWT_PREVIOUS_SECRET" not in json.dumps(_locals())
    accessor = _grants()["google_secret_manager_secret_iam_member.jwt_accessor"]
    assert accessor["for_each"] == "${local.jwt_functions}"
    assert set(re.findall(r'"([a-z_]+)"', _locals()["jwt_functions"])) == {
        "create_media",
        "list_media",
        "manage_media",
    }


# ---------------------------------------------------------------------------------------------
# Cloud Storage: custom roles without list, CMEK, the models bucket
# ---------------------------------------------------------------------------------------------


def test_no_function_holds_a_predefined_storage_role() -> None:
    for address, body in _grants().items():
        role = body.get("role", "")
        if address.startswith("google_storage_bucket_iam_member."):
            assert role.startswith("${google_project_iam_custom_role."), f"{address}: {role}"
        if role in LISTING_STORAGE_ROLES:
            # Only the build's conditioned read of the Cloud Functions staging bucket.
            assert address in PROJECT_LEVEL_EXCEPTIONS, f"{address} grants {role}"
            assert "google_service_account.build" in body["member"], address


def test_object_grants_are_made_from_function_access_with_the_custom_roles() -> None:
    grants = _grants()
    for name in ("object_reader", "object_creator", "object_writer"):
        grant = grants[f"google_storage_bucket_iam_member.{name}"]
        assert "local.object_grants" in grant["for_each"]
        assert "local.storage_role_of_operations" in grant["for_each"]
        assert grant["role"] == f"${{google_project_iam_custom_role.{name}.name}}"
        assert grant["bucket"] == "${local.bucket_names[each.value.bucket]}"
        assert grant["member"] == "${google_service_account.function[each.value.function].member}"


def test_custom_roles_hold_only_object_permissions_and_match_iam_md() -> None:
    local = _locals()
    resources = _resources()
    roles = local["storage_custom_roles"]
    permissions = local["storage_operation_permissions"]
    assert set(permissions) == {"get", "create", "delete"}
    assert all(p.startswith("storage.objects.") for p in permissions.values())
    assert not [p for p in permissions.values() if p.endswith(".list")]
    expected = {
        "google_project_iam_custom_role.object_reader": sorted(
            permissions[op] for op in roles["reader"]["operations"]
        ),
        "google_project_iam_custom_role.object_creator": sorted(
            permissions[op] for op in roles["creator"]["operations"]
        ),
        "google_project_iam_custom_role.object_writer": sorted(
            permissions[op] for op in roles["writer"]["operations"]
        ),
    }
    assert expected["google_project_iam_custom_role.object_reader"] == ["storage.objects.get"]
    assert expected["google_project_iam_custom_role.object_creator"] == [
        "storage.objects.create",
        "storage.objects.get",
    ]
    assert expected["google_project_iam_custom_role.object_writer"] == [
        "storage.objects.create",
        "storage.objects.delete",
        "storage.objects.get",
    ]
    assert _custom_role_table() == expected
    for address, key in (
        ("google_project_iam_custom_role.object_reader", "reader"),
        ("google_project_iam_custom_role.object_creator", "creator"),
        ("google_project_iam_custom_role.object_writer", "writer"),
    ):
        body = resources[address]
        assert body["permissions"] == f"${{local.storage_custom_role_permissions.{key}}}"
        assert body["role_id"] == f"${{local.storage_custom_roles.{key}.role_id}}"
        assert body["project"] == "${var.project_id}"


def test_models_bucket_is_readable_by_process_media_alone() -> None:
    access = _locals()["function_access"]
    readers = {
        name: a["objects"]["models"] for name, a in access.items() if "models" in a["objects"]
    }
    assert readers == {"process_media": ["get"]}
    main = _locals()
    assert main["bucket_names"]["models"] == "${google_storage_bucket.models.name}"
    models = _resources()["google_storage_bucket.models"]
    assert models["versioning"] == [{"enabled": True}]


def test_customer_managed_key_is_optional_and_granted_on_that_key_only() -> None:
    grant = _grants()["google_kms_crypto_key_iam_member.gcs_cmek"]
    assert grant["count"] == "${var.kms_key_name == null ? 0 : 1}"
    assert grant["crypto_key_id"] == "${var.kms_key_name}"
    assert grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert "data.google_storage_project_service_account.gcs.email_address" in grant["member"]
    resources = _resources()
    for name in ("uploads", "derivatives"):
        bucket = resources[f"google_storage_bucket.{name}"]
        (encryption,) = [d["encryption"] for d in bucket["dynamic"] if "encryption" in d]
        assert "var.kms_key_name" in encryption["for_each"]
        assert "${google_kms_crypto_key_iam_member.gcs_cmek}" in bucket["depends_on"]
        (lifecycle,) = bucket["lifecycle"]
        assert any("local.kms_key_location" in p["condition"] for p in lifecycle["precondition"])
    variables = {
        k: v for e in _parsed(TERRAFORM_DIR / "variables.tf")["variable"] for k, v in e.items()
    }
    assert variables["kms_key_name"]["default"] is None


# ---------------------------------------------------------------------------------------------
# Cloud Scheduler: housekeeping ticks from topology.json
# ---------------------------------------------------------------------------------------------

EXPECTED_SCHEDULES = {
    "reconcile": {
        "topic": "housekeeping",
        "cron": "*/5 * * * *",
        "every_seconds": 300,
        "attributes": {"task": "reconcile"},
    },
    "retention": {
        "topic": "housekeeping",
        "cron": "17 * * * *",
        "every_seconds": 3600,
        "attributes": {"task": "retention"},
    },
}


def _cron_period_seconds(cron: str) -> int:
    """Period of the simple crons topology.json uses: `*/N * * * *` or `M * * * *`."""
    minute, *rest = cron.split()
    assert rest == ["*", "*", "*", "*"], f"unsupported cron {cron!r}"
    if minute.startswith("*/"):
        step = int(minute[2:])
        assert 60 % step == 0, f"{cron!r} does not divide the hour evenly"
        return step * 60
    assert 0 <= int(minute) <= 59
    return 3600


def test_topology_schedules_are_the_housekeeping_ticks() -> None:
    schedules = _topology()["schedules"]
    without_prose = {
        key: {f: v for f, v in schedule.items() if f != "description"}
        for key, schedule in schedules.items()
    }
    assert without_prose == EXPECTED_SCHEDULES
    pushed = {
        s["topic"]: s["push_function"]
        for s in _topology()["subscriptions"].values()
        if "push_function" in s
    }
    for key, schedule in schedules.items():
        assert _cron_period_seconds(schedule["cron"]) == schedule["every_seconds"], key
        assert pushed.get(schedule["topic"]) == "housekeeping", key
        assert schedule["attributes"]["task"] == key


def test_scheduler_jobs_publish_the_topology_schedules() -> None:
    job = _resources()["google_cloud_scheduler_job.schedule"]
    assert job["for_each"] == "${local.schedules}"
    assert job["schedule"] == "${each.value.cron}"
    assert job["time_zone"] == "Etc/UTC"
    (target,) = job["pubsub_target"]
    assert target["topic_name"] == "${google_pubsub_topic.topic[each.value.topic].id}"
    assert target["attributes"] == "${each.value.attributes}"
    assert "google_pubsub_topic_iam_member.scheduler_publisher" in " ".join(job["depends_on"])
    assert _locals()["schedules"] == "${try(local.topology.schedules, {})}"


def test_scheduler_may_publish_to_the_schedule_topics_only() -> None:
    grant = _grants()["google_pubsub_topic_iam_member.scheduler_publisher"]
    assert grant["for_each"] == "${local.schedule_topics}"
    assert grant["topic"] == "${google_pubsub_topic.topic[each.key].name}"
    assert grant["role"] == "roles/pubsub.publisher"
    assert "@gcp-sa-cloudscheduler.iam.gserviceaccount.com" in grant["member"]
    for address, body in _grants().items():
        if "gcp-sa-cloudscheduler" in body.get("member", ""):
            assert address == "google_pubsub_topic_iam_member.scheduler_publisher", address


def test_apis_for_scheduler_and_monitoring_are_enabled() -> None:
    services = _locals()["required_services"]
    for api in (
        "cloudscheduler.googleapis.com",
        "monitoring.googleapis.com",
        "logging.googleapis.com",
    ):
        assert api in services, api


# ---------------------------------------------------------------------------------------------
# Metrics, alerts, dashboard
# ---------------------------------------------------------------------------------------------


def test_log_metrics_cover_the_event_names() -> None:
    definitions = _locals()["log_metric_definitions"]
    assert {d["event"] for d in definitions.values()} == {
        "upload.verified",
        "upload.rejected",
        "dedupe.hit",
        "quota.refused",
        "ingest.fetch_failed",
        "delivery.dead_lettered",
        "share.opened",
    }
    assert definitions["upload_bytes"]["kind"] == "distribution"
    assert definitions["upload_bytes"]["value_field"] == "size_bytes"
    assert set(definitions["upload_rejections"]["labels"]) == {"reason_code"}
    assert set(definitions["quota_refusals"]["labels"]) == {"reason_code"}
    assert set(definitions["ingest_fetch_failures"]["labels"]) == {"reason_code"}
    assert set(definitions["dead_letters"]["labels"]) == {"subscription"}
    metric = _resources()["google_logging_metric.event"]
    assert metric["for_each"] == "${local.log_metrics}"
    assert metric["filter"] == "${each.value.filter}"


def test_alert_policies_watch_rejections_and_dead_letters() -> None:
    resources = _resources()
    spike = resources["google_monitoring_alert_policy.upload_rejection_spike"]
    dead = resources["google_monitoring_alert_policy.dead_letter"]
    for policy in (spike, dead):
        assert policy["notification_channels"] == "${var.alert_notification_channels}"
    (condition,) = spike["conditions"]
    (threshold,) = condition["condition_threshold"]
    assert "local.log_metric_types.upload_rejections" in threshold["filter"]
    assert threshold["threshold_value"] == "${var.alert_rejection_threshold_count}"
    filters = [c["condition_threshold"][0]["filter"] for c in dead["conditions"]]
    assert any("local.log_metric_types.dead_letters" in f for f in filters)
    assert any("dead_letter_message_count" in f for f in filters)
    assert all(c["condition_threshold"][0]["threshold_value"] == 0 for c in dead["conditions"])
    dashboard = resources["google_monitoring_dashboard.pipeline"]
    assert "local.dashboard_charts" in dashboard["dashboard_json"]
    assert "google_monitoring_alert_policy.dead_letter" in dashboard["dashboard_json"]


# ---------------------------------------------------------------------------------------------
# Web gallery
# ---------------------------------------------------------------------------------------------


def test_web_gallery_is_optional_private_by_default_and_holds_no_role() -> None:
    resources = _resources()
    service = resources["google_cloud_run_v2_service.web"]
    account = resources["google_service_account.web"]
    assert service["count"] == account["count"] == "${local.web_gallery_enabled ? 1 : 0}"
    assert service["ingress"] == "${local.cloud_run_ingress}"
    (template,) = service["template"]
    assert template["service_account"] == "${google_service_account.web[0].email}"
    (container,) = template["containers"]
    assert container["image"] == "${var.web_gallery_image}"
    assert {e["name"] for e in container["env"]} == {
        "WEB_CONFIG_JSON",
        "WEB_CONTENT_SECURITY_POLICY",
    }
    # The gallery's identity is granted nothing.
    for address, body in _grants().items():
        assert "google_service_account.web" not in json.dumps(body), address
    invokers = _grants()["google_cloud_run_v2_service_iam_member.web_invoker_members"]
    assert "var.http_invoker_members" in invokers["for_each"]
    variables = {
        k: v for e in _parsed(TERRAFORM_DIR / "variables.tf")["variable"] for k, v in e.items()
    }
    assert variables["web_gallery_image"]["default"] is None


def test_web_gallery_origin_reaches_both_cors_lists() -> None:
    local = _locals()
    assert "local.web_gallery_origin" in local["cors_allowed_origins"]
    assert "var.cors_allowed_origins" in local["cors_allowed_origins"]
    assert "local.web_gallery_origin" in local["upload_cors_origins"]
    assert "var.upload_cors_origins" in local["upload_cors_origins"]
    assert "local.cors_allowed_origins" in local["function_environment"]
    uploads = _resources()["google_storage_bucket.uploads"]
    (cors,) = [d["cors"] for d in uploads["dynamic"] if "cors" in d]
    assert "local.upload_cors_origins" in cors["for_each"]
    web = TERRAFORM_DIR / "web"
    for name in ("Dockerfile", "server.py", "cloudbuild.yaml", "Dockerfile.dockerignore"):
        assert (web / name).is_file(), name


# ---------------------------------------------------------------------------------------------
# Performance settings
# ---------------------------------------------------------------------------------------------


def test_threads_follow_request_concurrency() -> None:
    local = _locals()
    assert (
        "THREADS = tostring(local.function_sizing[name].threads)" in local["function_environment"]
    )
    assert "threads      = s.max_request_concurrency" in (
        (TERRAFORM_DIR / "locals.tf").read_text(encoding="utf-8")
    )
    functions = _resources()["google_cloudfunctions2_function.function"]
    (service_config,) = functions["service_config"]
    assert service_config["max_instance_request_concurrency"] == (
        "${local.function_sizing[each.key].max_request_concurrency}"
    )
    (lifecycle,) = functions["lifecycle"]
    assert any(
        "local.function_sizing_problems" in p["condition"] for p in lifecycle["precondition"]
    )


def test_readme_tables_list_every_variable_and_output() -> None:
    readme = (TERRAFORM_DIR / "README.md").read_text(encoding="utf-8")
    inputs = readme.split("## Inputs", 1)[1].split("\n## ", 1)[0]
    outputs = readme.split("## Outputs", 1)[1].split("\n## ", 1)[0]
    listed_inputs = set(re.findall(r"^\| `([a-z0-9_]+)` \|", inputs, re.MULTILINE))
    listed_outputs = set(re.findall(r"^\| `([a-z0-9_]+)` \|", outputs, re.MULTILINE))
    assert listed_inputs == _declared("variable")
    assert listed_outputs == _declared("output")

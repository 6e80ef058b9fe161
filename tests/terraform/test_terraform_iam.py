"""IAM: every grant in docs/IAM.md, least privilege, one service account per function."""

from __future__ import annotations

from tests.terraform.support import (
    PROJECT_LEVEL_EXCEPTIONS,
    TERRAFORM_DIR,
    code_text,
    iam_table,
    module_grants,
    module_locals,
    module_resources,
    parsed,
    topology_json,
)

PRIMITIVE_ROLES = {"roles/owner", "roles/editor", "roles/viewer"}
PUBLIC_MEMBERS = {"allUsers", "allAuthenticatedUsers"}
# The only grants to allUsers: the HTTP functions' and the web gallery's invoker, both created only
# with allow_unauthenticated_http = true.
GATED_PUBLIC_GRANTS = {
    "google_cloud_run_service_iam_member.http_public_invoker": "local.http_functions",
    "google_cloud_run_v2_service_iam_member.web_public_invoker": "local.web_gallery_enabled",
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


def _terraform_role(role: str) -> str:
    """The `role` value Terraform has for a role as IAM.md writes it."""
    if role.startswith("google_project_iam_custom_role."):
        return "${" + role + ".name}"
    return role


# ---------------------------------------------------------------------------------------------
# IAM: documented, least privilege
# ---------------------------------------------------------------------------------------------


def test_every_grant_is_in_iam_md_and_every_row_exists() -> None:
    grants = module_grants()
    table = iam_table()
    assert grants, "no IAM grants found: is the parser reading terraform/?"
    assert not set(grants) - set(table), (
        f"grants missing from docs/IAM.md: {sorted(set(grants) - set(table))}"
    )
    assert not set(table) - set(grants), (
        f"docs/IAM.md lists grants that do not exist: {sorted(set(table) - set(grants))}"
    )


def test_iam_md_roles_match_terraform() -> None:
    grants = module_grants()
    for address, role in iam_table().items():
        if address in grants:
            assert grants[address].get("role") == _terraform_role(role), (
                f"{address}: IAM.md says {role}"
            )


def test_no_primitive_roles() -> None:
    for address, body in module_grants().items():
        assert body.get("role") not in PRIMITIVE_ROLES, address
    for role in PRIMITIVE_ROLES:
        assert f'"{role}"' not in code_text(), f"{role} appears in terraform/"


def test_no_authoritative_project_policies() -> None:
    kinds = {a.split(".", 1)[0] for a in module_grants()}
    assert not kinds & {"google_project_iam_binding", "google_project_iam_policy"}


def test_project_level_grants_only_where_no_resource_binding_exists() -> None:
    for address, body in module_grants().items():
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
    for address, body in module_grants().items():
        members = [body.get("member", ""), *body.get("members", [])]
        if set(members) & PUBLIC_MEMBERS:
            assert address in GATED_PUBLIC_GRANTS, f"{address} grants to {members}"
    for address, scope in GATED_PUBLIC_GRANTS.items():
        gated = module_grants()[address]
        assert gated["role"] == "roles/run.invoker"
        gate = gated.get("for_each") or gated.get("count")
        assert "var.allow_unauthenticated_http" in gate, address
        assert scope in gate, address
    (variable,) = [
        entry["allow_unauthenticated_http"]
        for entry in parsed(TERRAFORM_DIR / "variables.tf")["variable"]
        if "allow_unauthenticated_http" in entry
    ]
    assert variable["default"] is False


def test_push_invoker_can_invoke_only_pushed_functions() -> None:
    grant = module_grants()["google_cloud_run_service_iam_member.push_invoker"]
    assert grant["for_each"] == "${local.pushed_functions}"
    assert grant["member"] == "${google_service_account.push_invoker.member}"
    assert grant["service"] == "${google_cloudfunctions2_function.function[each.key].name}"


def test_signers_may_sign_only_as_themselves() -> None:
    grant = module_grants()["google_service_account_iam_member.signer_self_token_creator"]
    assert grant["service_account_id"] == "${google_service_account.function[each.key].name}"
    assert grant["member"] == "${google_service_account.function[each.key].member}"
    for address, body in module_grants().items():
        if body.get("role") == "roles/iam.serviceAccountTokenCreator":
            assert address.startswith("google_service_account_iam_member."), address


def test_dead_lettering_grants_are_scoped_to_topology() -> None:
    grants = module_grants()
    publisher = grants["google_pubsub_topic_iam_member.dead_letter_pubsub_agent_publisher"]
    subscriber = grants[
        "google_pubsub_subscription_iam_member.dead_letter_source_pubsub_agent_subscriber"
    ]
    assert publisher["for_each"] == "${local.dead_letter_topics}"
    assert subscriber["for_each"] == "${local.dead_letter_subscriptions}"
    assert publisher["member"] == subscriber["member"] == "${local.pubsub_agent_member}"


def test_no_service_account_keys() -> None:
    assert not [a for a in module_resources() if a.startswith("google_service_account_key.")]


# ---------------------------------------------------------------------------------------------
# Identities: one service account per function
# ---------------------------------------------------------------------------------------------


def test_each_function_runs_as_its_own_service_account() -> None:
    resources = module_resources()
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
    names = module_locals()["function_service_names"]
    assert "replace(name" in names
    assert "var.name_prefix" in names
    ids = {name.replace("_", "-") for name in topology_json()["functions"]}
    assert len(ids) == len(topology_json()["functions"])

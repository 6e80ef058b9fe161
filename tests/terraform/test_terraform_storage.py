"""Cloud Storage: private buckets, lifecycle, CORS, notifications, custom roles, CMEK."""

from __future__ import annotations

from tests.terraform.support import (
    PROJECT_LEVEL_EXCEPTIONS,
    TERRAFORM_DIR,
    custom_role_table,
    module_grants,
    module_locals,
    module_resources,
    parsed,
)

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


# ---------------------------------------------------------------------------------------------
# Buckets
# ---------------------------------------------------------------------------------------------


def test_buckets_are_private_with_uniform_access() -> None:
    buckets = {
        a: b for a, b in module_resources().items() if a.startswith("google_storage_bucket.")
    }
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
    uploads = module_resources()["google_storage_bucket.uploads"]
    rules = [(r["action"][0]["type"], r["condition"][0]) for r in uploads["lifecycle_rule"]]
    assert (
        "Delete",
        {"age": "${var.quarantine_retention_days}", "matches_prefix": ["${var.quarantine_prefix}"]},
    ) in rules
    assert any(action == "AbortIncompleteMultipartUpload" for action, _ in rules)


def test_uploads_cors_allows_exactly_the_signed_headers() -> None:
    uploads = module_resources()["google_storage_bucket.uploads"]
    (cors,) = [d["cors"] for d in uploads["dynamic"] if "cors" in d]
    (content,) = cors["content"]
    assert content["method"] == ["PUT"]
    assert sorted(content["response_header"]) == sorted(
        ["Content-Type", "Content-MD5", "x-goog-content-length-range", "x-goog-if-generation-match"]
    )


def test_finalize_notifications_go_to_object_events() -> None:
    notification = module_resources()["google_storage_notification.uploads_finalize"]
    assert notification["payload_format"] == "JSON_API_V1"
    assert notification["event_types"] == ["OBJECT_FINALIZE"]
    assert notification["topic"] == "${google_pubsub_topic.topic[local.object_events_topic].id}"
    assert module_locals()["object_events_topic"] == "object-events"


# ---------------------------------------------------------------------------------------------
# Cloud Storage: custom roles without list, CMEK, the models bucket
# ---------------------------------------------------------------------------------------------


def test_no_function_holds_a_predefined_storage_role() -> None:
    for address, body in module_grants().items():
        role = body.get("role", "")
        if address.startswith("google_storage_bucket_iam_member."):
            assert role.startswith("${google_project_iam_custom_role."), f"{address}: {role}"
        if role in LISTING_STORAGE_ROLES:
            # Only the build's conditioned read of the Cloud Functions staging bucket.
            assert address in PROJECT_LEVEL_EXCEPTIONS, f"{address} grants {role}"
            assert "google_service_account.build" in body["member"], address


def test_object_grants_are_made_from_function_access_with_the_custom_roles() -> None:
    grants = module_grants()
    for name in ("object_reader", "object_creator", "object_writer"):
        grant = grants[f"google_storage_bucket_iam_member.{name}"]
        assert "local.object_grants" in grant["for_each"]
        assert "local.storage_role_of_operations" in grant["for_each"]
        assert grant["role"] == f"${{google_project_iam_custom_role.{name}.name}}"
        assert grant["bucket"] == "${local.bucket_names[each.value.bucket]}"
        assert grant["member"] == "${google_service_account.function[each.value.function].member}"


def test_custom_roles_hold_only_object_permissions_and_match_iam_md() -> None:
    local = module_locals()
    resources = module_resources()
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
        "google_project_iam_custom_role.object_deleter": sorted(
            permissions[op] for op in roles["deleter"]["operations"]
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
    assert custom_role_table() == expected
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
    access = module_locals()["function_access"]
    readers = {
        name: a["objects"]["models"] for name, a in access.items() if "models" in a["objects"]
    }
    assert readers == {"process_media": ["get"]}
    main = module_locals()
    assert main["bucket_names"]["models"] == "${google_storage_bucket.models.name}"
    models = module_resources()["google_storage_bucket.models"]
    assert models["versioning"] == [{"enabled": True}]


def test_customer_managed_key_is_optional_and_granted_on_that_key_only() -> None:
    grant = module_grants()["google_kms_crypto_key_iam_member.gcs_cmek"]
    assert grant["count"] == "${var.kms_key_name == null ? 0 : 1}"
    assert grant["crypto_key_id"] == "${var.kms_key_name}"
    assert grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert grant["member"] == "${local.gcs_agent_member}"
    resources = module_resources()
    for name in ("uploads", "derivatives"):
        bucket = resources[f"google_storage_bucket.{name}"]
        (encryption,) = [d["encryption"] for d in bucket["dynamic"] if "encryption" in d]
        assert "var.kms_key_name" in encryption["for_each"]
        assert "${google_kms_crypto_key_iam_member.gcs_cmek}" in bucket["depends_on"]
        (lifecycle,) = bucket["lifecycle"]
        assert any("local.kms_key_location" in p["condition"] for p in lifecycle["precondition"])
    variables = {
        k: v for e in parsed(TERRAFORM_DIR / "variables.tf")["variable"] for k, v in e.items()
    }
    assert variables["kms_key_name"]["default"] is None

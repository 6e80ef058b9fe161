"""Real Terraform on derived locals: object grants, schedules, CMEK, metrics, dashboard, gallery."""

from __future__ import annotations

import json
import re

import pytest

from tests.terraform.support import REPO_ROOT, Evaluate

# ---------------------------------------------------------------------------------------------
# Object access: custom roles from function_access (the least-privilege test reads the same local)
# ---------------------------------------------------------------------------------------------


def test_terraform_evaluates_function_access_in_its_documented_shape(evaluate: Evaluate) -> None:
    code, out, error = evaluate({})
    assert code == 0, error
    access = out["function_access"]
    for name, entry in access.items():
        assert set(entry) == {"objects", "publishes", "firestore", "signs_urls"}, name
        assert all(isinstance(ops, list) for ops in entry["objects"].values()), name
        assert set(entry["objects"]) <= {"uploads", "derivatives", "models"}, name
        assert entry["firestore"] in {"none", "read", "write"}, name
        assert isinstance(entry["signs_urls"], bool), name
    assert access["process_media"]["objects"]["models"] == ["get"]
    assert [n for n, a in access.items() if "models" in a["objects"]] == ["process_media"]


def test_terraform_maps_every_object_grant_to_a_custom_role(evaluate: Evaluate) -> None:
    code, out, error = evaluate({"name_prefix": "media-dev-"})
    assert code == 0, error
    roles = out["storage_custom_roles"]
    assert roles["reader"]["role_id"] == "media_dev_objectReader"
    assert roles["writer"]["role_id"] == "media_dev_objectWriter"
    assert roles["creator"]["role_id"] == "media_dev_objectCreator"
    assert all(re.fullmatch(r"[a-zA-Z0-9_.]{3,64}", r["role_id"]) for r in roles.values())
    assert out["storage_custom_role_permissions"] == {
        "reader": ["storage.objects.get"],
        "creator": ["storage.objects.create", "storage.objects.get"],
        "writer": ["storage.objects.create", "storage.objects.delete", "storage.objects.get"],
        "deleter": ["storage.objects.delete"],
    }
    of_operations = out["storage_role_of_operations"]
    assert of_operations == {
        "get": "reader",
        "create,get": "creator",
        "create,delete,get": "writer",
        "delete": "deleter",
    }
    grants = out["object_grants"]
    # housekeeping deletes a media's renditions (retention, finished deletes), nothing more.
    assert grants["derivatives housekeeping"]["operations"] == "delete"
    assert grants["models process_media"] == {
        "bucket": "models",
        "function": "process_media",
        "operations": "get",
    }
    assert {g["operations"] for g in grants.values()} <= set(of_operations)
    readers = sorted(k for k, g in grants.items() if of_operations[g["operations"]] == "reader")
    assert readers == [
        "derivatives list_media",
        "models process_media",
        "uploads list_media",
    ]
    creators = sorted(k for k, g in grants.items() if of_operations[g["operations"]] == "creator")
    assert creators == ["uploads process_media"]  # ingest stores originals, never deletes them


# ---------------------------------------------------------------------------------------------
# Schedules, CMEK, metrics, gallery
# ---------------------------------------------------------------------------------------------


def test_terraform_reads_the_schedules_of_topology_json(evaluate: Evaluate) -> None:
    code, out, error = evaluate({})
    assert code == 0, error
    assert sorted(out["schedules"]) == ["reconcile", "retention"]
    assert out["schedules"]["reconcile"]["cron"] == "*/5 * * * *"
    assert out["schedules"]["retention"]["attributes"] == {"task": "retention"}
    assert out["schedule_topics"] == ["housekeeping"]


def test_terraform_finds_the_location_of_the_customer_managed_key(evaluate: Evaluate) -> None:
    code, out, error = evaluate({})
    assert code == 0, error
    assert out.get("kms_key_location") is None  # null outputs are not listed
    key = "projects/keys-project-1/locations/europe-west1/keyRings/media/cryptoKeys/buckets"
    code, out, error = evaluate({"kms_key_name": key, "region": "europe-west1"})
    assert code == 0, error
    assert out["kms_key_location"] == "europe-west1"


def test_terraform_builds_log_metrics_for_this_deployments_functions(evaluate: Evaluate) -> None:
    code, out, error = evaluate({"name_prefix": "media-dev-"})
    assert code == 0, error
    metrics = out["log_metrics"]
    assert metrics["upload_bytes"]["name"] == "media_dev_upload_bytes"
    assert (
        out["log_metric_types"]["dead_letters"]
        == "logging.googleapis.com/user/media_dev_dead_letters"
    )
    for key, metric in metrics.items():
        assert re.fullmatch(r"[A-Za-z0-9_]{1,100}", metric["name"]), key
        assert metric["filter"].startswith('resource.type="cloud_run_revision" AND (')
        assert metric["filter"].endswith(f' AND jsonPayload.event="{metric["event"]}"')
        for service in (
            "create-media",
            "list-media",
            "finalize-upload",
            "process-media",
            "housekeeping",
        ):
            assert f'resource.labels.service_name="media-dev-{service}"' in metric["filter"], key
        assert "media-create-media" not in metric["filter"]  # another prefix's functions


def test_terraform_charts_every_log_metric_on_the_dashboard(evaluate: Evaluate) -> None:
    code, out, error = evaluate({})
    assert code == 0, error
    charts = json.dumps(out["dashboard_charts"])
    for key, metric_type in out["log_metric_types"].items():
        assert metric_type in charts, key
    assert "logging_googleapis_com:user_media_upload_bytes_sum" in charts
    rejections = next(c for c in out["dashboard_charts"] if "rejected" in c["title"])
    aggregation = rejections["dataSets"][0]["timeSeriesQuery"]["timeSeriesFilter"]["aggregation"]
    assert aggregation["groupByFields"] == ["metric.label.reason_code"]


@pytest.mark.parametrize(
    ("ingress", "cloud_run"),
    [
        ("ALLOW_ALL", "INGRESS_TRAFFIC_ALL"),
        ("ALLOW_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_ONLY"),
        ("ALLOW_INTERNAL_AND_GCLB", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"),
    ],
)
def test_terraform_gives_the_gallery_the_functions_ingress(
    evaluate: Evaluate, ingress: str, cloud_run: str
) -> None:
    code, out, error = evaluate({"http_ingress_settings": ingress})
    assert code == 0, error
    assert out["cloud_run_ingress"] == cloud_run


def test_terraform_uploads_the_pinned_model_and_enables_the_gallery_when_asked(
    evaluate: Evaluate,
) -> None:
    pins = json.loads((REPO_ROOT / "models" / "models.json").read_text())["ssd_mobilenetv2_oidv4"]
    code, out, error = evaluate({})
    assert code == 0, error
    assert out["web_gallery_enabled"] is False
    # by default the module uploads the model `make models` builds, named by its pinned hash
    assert out["detector_model_upload"] is True
    assert out["detector_model_sha256"] == pins["output_sha256"]
    assert out["detector_model_object"] == (
        f"ssd_mobilenetv2_oidv4/{pins['output_sha256'][:12]}.onnx"
    )
    image = (
        "europe-west1-docker.pkg.dev/media-test-1/media-functions/web-gallery@sha256:" + "a" * 64
    )
    code, out, error = evaluate(
        {
            "web_gallery_image": image,
            "detector_model_object": "yolov8n/model.onnx",
            "detector_model_sha256": "0" * 64,
        }
    )
    assert code == 0, error
    assert out["web_gallery_enabled"] is True
    assert out["web_gallery_service_name"] == "media-web"
    assert out["detector_model_upload"] is False  # an operator's own upload
    assert out["detector_model_object"] == "yolov8n/model.onnx"

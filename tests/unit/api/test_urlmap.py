"""The URL map the load balancer and the gateway route by is the route binding, nothing more,
nothing less; and a service reached with another service's route says so instead of a 405."""

from __future__ import annotations

import json
import re

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from common.api import routes
from common.api.app import Api
from common.api.urlmap import UrlMap, path_template, url_map
from scripts.url_map import TARGET, render

SAMPLE = re.compile(r"<(?:\w+:)?(\w+)>")
BOUND = [(service, route) for service, served in routes.BINDING.items() for route in served]


def sample_path(rule: str) -> str:
    return SAMPLE.sub(lambda m: f"x-{m.group(1)}", rule)


def test_the_committed_map_is_the_generated_one() -> None:
    assert TARGET.read_text() == render(), "run: .venv/bin/python -m scripts.url_map"


def test_the_map_holds_exactly_the_binding() -> None:
    document = json.loads(TARGET.read_text())
    in_map = {
        (method, rule["path_template"], rule["service"])
        for rule in document["rules"]
        for method in rule["methods"]
    }
    bound = {(route.method, path_template(route.path), service) for service, route in BOUND}
    assert in_map == bound
    assert len({rule["priority"] for rule in document["rules"]}) == len(document["rules"])
    assert {rule["service"] for rule in document["rules"]} == set(document["services"])


@pytest.mark.parametrize(
    ("service", "route"), BOUND, ids=[f"{r.method} {r.path}" for _, r in BOUND]
)
def test_every_route_reaches_its_service(service: str, route: routes.Route) -> None:
    urls = UrlMap(json.loads(TARGET.read_text()))
    path = sample_path(route.path)
    assert urls.service_for(route.method, path) == service
    assert urls.service_for("OPTIONS", path, preflight_method=route.method) == service
    if route.method == "GET":
        assert urls.service_for("HEAD", path) == service


def test_what_no_rule_takes_goes_to_the_default_service() -> None:
    urls = UrlMap(url_map(routes.BINDING))
    assert urls.service_for("PUT", "/v1/media/med_1") == "list_media"
    assert urls.service_for("GET", "/nowhere") == "list_media"
    assert urls.service_for("OPTIONS", "/v1/media/med_1") == "list_media"
    # literal segments win over variables: resolve is not a media id
    assert urls.service_for("POST", "/v1/media/resolve") == "list_media"
    assert urls.service_for("POST", "/v1/media") == "create_media"
    assert urls.service_for("DELETE", "/v1/devices/d/owners/a/b") == "manage_media"


def test_two_services_cannot_claim_one_route() -> None:
    twice = {"a": routes.CREATE_MEDIA[:1], "b": routes.CREATE_MEDIA[:1]}
    with pytest.raises(ValueError, match="served by a and b"):
        url_map(twice)


def call(api: Api, method: str, path: str) -> tuple[int, dict[str, str], str]:
    response = api(Request(EnvironBuilder(path=path, method=method).get_environ()))
    return response.status_code, dict(response.headers), response.get_data(as_text=True)


def test_a_function_sent_another_services_route_names_it_instead_of_a_405() -> None:
    api = Api(routes.LIST_MEDIA, routes.BINDING)
    status, _, body = call(api, "POST", "/v1/media")
    assert status == 421
    assert json.loads(body)["details"] == {"service": "create_media"}
    status, _, body = call(api, "GET", "/v1/events/stream")
    assert (status, json.loads(body)["details"]["service"]) == (421, "streams")


def test_a_method_no_service_serves_lists_every_method_of_the_api() -> None:
    api = Api(routes.LIST_MEDIA, routes.BINDING)
    status, headers, _ = call(api, "PUT", "/v1/media/med_01JD0000000000000000000000")
    assert status == 405
    assert set(headers["Allow"].split(", ")) == {"GET", "HEAD", "PATCH", "DELETE", "OPTIONS"}
    status, headers, _ = call(api, "OPTIONS", "/v1/media")
    assert status == 204
    assert set(headers["Allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}

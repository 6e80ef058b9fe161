"""The local stack's gallery server over plain HTTP: what the page is given (config, CSP), the dev
login, and the CORS the browser relies on (functions and storage)."""

from __future__ import annotations

import json

import jwt
import pytest
import requests

from emulators._proc import StackError
from emulators.stack import LocalStack
from emulators.web import merge_cors_origins

from .idp import LocalIdentityProvider
from .support import DEMO_DEVICE, DEMO_USER


def test_the_page_is_told_where_the_api_is_and_nothing_secret(
    gallery_stack: LocalStack, idp: LocalIdentityProvider
) -> None:
    config = requests.get(f"{gallery_stack.web_url}/config.json", timeout=30).json()

    assert config == {
        "apiBaseUrl": gallery_stack.api_url,
        "devLoginUrl": "/dev/login",
        "environment": "local stack",
        "galleryPageSize": "3",
        "liveArrivals": True,
        "oidcIssuer": idp.issuer,
        "oidcClientId": "media-api",
        "oidcName": "Test SSO",
    }
    assert gallery_stack.env["JWT_SECRET"] not in json.dumps(config)


def test_every_answer_carries_a_csp_naming_only_this_stack(
    gallery_stack: LocalStack, idp: LocalIdentityProvider
) -> None:
    index = requests.get(f"{gallery_stack.web_url}/media/med_anything", timeout=30)

    assert index.status_code == 200  # a client-side route gets the page
    assert "<title>Media gallery</title>" in index.text
    policy = dict(
        part.strip().split(" ", 1) for part in index.headers["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    origins = {gallery_stack.api_url, gallery_stack.env["STORAGE_PUBLIC_URL"], idp.issuer}
    assert set(policy["connect-src"].split()) == {"'self'", *origins}
    assert index.headers["X-Frame-Options"] == "DENY"


def test_the_dev_login_mints_a_user_token_for_the_owner_of_the_demo_device(
    gallery_stack: LocalStack,
) -> None:
    assert requests.get(f"{gallery_stack.web_url}/dev/login", timeout=30).status_code == 405
    elsewhere = requests.post(
        f"{gallery_stack.web_url}/dev/login", headers={"Origin": "http://evil.test"}, timeout=30
    )
    assert elsewhere.status_code == 403

    login = requests.post(f"{gallery_stack.web_url}/dev/login", timeout=30).json()

    claims = jwt.decode(
        login["token"], gallery_stack.env["JWT_SECRET"], algorithms=["HS256"], audience="media-api"
    )
    assert (claims["sub"], claims["kind"]) == (DEMO_USER, "user")
    devices = requests.get(
        f"{gallery_stack.api_url}/v1/devices",
        headers={"Authorization": f"Bearer {login['token']}"},
        timeout=30,
    ).json()
    assert DEMO_DEVICE in [d["device_id"] for d in devices["items"]]


def test_the_gallery_origin_may_call_the_functions_and_put_to_storage(
    gallery_stack: LocalStack,
) -> None:
    origin = gallery_stack.web_url
    for name, method, path in (
        ("create_media", "POST", "/v1/media"),
        ("list_media", "GET", "/v1/media/med_x"),
        ("manage_media", "PATCH", "/v1/media/med_x"),
        ("streams", "GET", "/v1/events/stream"),
    ):
        preflight = requests.options(
            f"{gallery_stack.api_url}{path}",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization,content-type,if-match",
            },
            timeout=30,
        )
        assert preflight.status_code == 204, (name, preflight.text)
        assert preflight.headers["Access-Control-Allow-Origin"] == origin
    storage = requests.options(
        f"{gallery_stack.env['STORAGE_PUBLIC_URL']}/media-uploads/x.jpg",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": (
                "content-type,content-md5,x-goog-content-length-range,x-goog-if-generation-match"
            ),
        },
        timeout=30,
    )
    assert storage.status_code == 200
    assert storage.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_origins_are_added_to_the_list_given() -> None:
    assert json.loads(merge_cors_origins('["http://a.test"]', ["http://b.test"])) == [
        "http://a.test",
        "http://b.test",
    ]
    assert json.loads(merge_cors_origins(None, ["http://b.test", "http://b.test"])) == [
        "http://b.test"
    ]
    with pytest.raises(StackError, match="JSON list"):
        merge_cors_origins("http://a.test", ["http://b.test"])

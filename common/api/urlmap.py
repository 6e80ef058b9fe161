"""The API's URL map: which service answers a method and path, generated from the route binding
(`common.api.routes.BINDING`) so that the load balancer (terraform/lb.tf) and the local stack's
gateway (emulators/gateway.py) route exactly as the services serve.

The document (`terraform/url_map.json`, written by `python -m scripts.url_map`; a test keeps it
equal to the binding) is a list of rules in priority order, each `{priority, service,
path_template, methods, admin}`, and a `default_service` for everything else. Its matching is
that of a Google Cloud URL map's route rules
(https://cloud.google.com/load-balancing/docs/url-map-concepts#wildcards-regx-dynamic):
`path_template` uses `{name=*}` for one path segment and `{name=**}` for the rest of the path;
a rule matches when its template does and the method is one of `methods` (`GET` also answers
`HEAD`), or when the request is a CORS preflight (`OPTIONS` with
`Access-Control-Request-Method`) for one of them. The first matching rule wins; rules with more
literal segments come first, so `/v1/media/resolve` is never taken for `/v1/media/{media_id}`.
The default service (list_media) answers what no rule takes: its router knows the whole
binding, so a path served for other methods gets a 405 listing every method of the API, and an
unknown path a 404 (`common.api.app.Api`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from common.api.app import Route

DEFAULT_SERVICE = "list_media"
ADMIN_PREFIX = "/v1/admin/"
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
COMMENT = (
    "Generated from common/api/routes (BINDING) by `python -m scripts.url_map`; do not edit. "
    "terraform/lb.tf and the local stack's gateway route by it (common/api/urlmap.py)."
)


def path_template(rule: str) -> str:
    """A Werkzeug rule as a URL map path template: `/v1/media/<media_id>` ->
    `/v1/media/{media_id=*}`, `<path:user_id>` -> `{user_id=**}`."""

    def replace(match: re.Match[str]) -> str:
        converter, name = match.group(1), match.group(2)
        return "{" + name + ("=**}" if converter == "path" else "=*}")

    return _PARAM.sub(replace, rule)


def _specificity(template: str) -> tuple[int, int, int, str]:
    segments = template.strip("/").split("/")
    variables = sum(1 for s in segments if s.startswith("{"))
    rest = sum(1 for s in segments if s.endswith("=**}"))
    return (rest, variables, -len(segments), template)


def url_map(binding: Mapping[str, Sequence[Route]]) -> dict[str, Any]:
    """The URL map document of a route binding (service -> its routes).

    Returns:
        `{"$comment", "default_service", "services", "rules": [...]}`, one rule per service and
        path template, with that service's methods there, in priority order (1, 2, ...).

    Raises:
        ValueError: two services serve the same method and path.
    """
    owners: dict[tuple[str, str], str] = {}
    methods: dict[tuple[str, str], set[str]] = {}
    for service, routes in binding.items():
        for route in routes:
            template = path_template(route.path)
            claimed = owners.setdefault((route.method, template), service)
            if claimed != service:
                raise ValueError(f"{route.method} {route.path}: served by {claimed} and {service}")
            methods.setdefault((service, template), set()).add(route.method)
    ordered = sorted(methods, key=lambda key: (_specificity(key[1]), key[0]))
    rules = [
        {
            "priority": index,
            "service": service,
            "path_template": template,
            "methods": sorted(methods[(service, template)]),
            "admin": template.startswith(ADMIN_PREFIX),
        }
        for index, (service, template) in enumerate(ordered, start=1)
    ]
    return {
        "$comment": COMMENT,
        "default_service": DEFAULT_SERVICE,
        "services": sorted(binding),
        "rules": rules,
    }


def _template_regex(template: str) -> re.Pattern[str]:
    parts = []
    for segment in template.strip("/").split("/"):
        if segment.endswith("=**}"):
            parts.append("(?:/[^/]+)*")
        elif segment.startswith("{"):
            parts.append("/[^/]+")
        else:
            parts.append("/" + re.escape(segment))
    return re.compile("".join(parts))


class UrlMap:
    """Matches requests against a URL map document (see the module docstring).

    Args:
        document: the `url_map()` document (or terraform/url_map.json, parsed).
    """

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.default_service: str = document["default_service"]
        self.services: list[str] = list(document["services"])
        self._rules = [
            (_template_regex(rule["path_template"]), frozenset(rule["methods"]), rule["service"])
            for rule in sorted(document["rules"], key=lambda r: int(r["priority"]))
        ]

    def service_for(self, method: str, path: str, preflight_method: str | None = None) -> str:
        """The service a request goes to.

        Args:
            method: the request's method.
            path: the request's path (percent-encoded, as sent).
            preflight_method: `Access-Control-Request-Method` of an OPTIONS request.
        """
        wanted = {method}
        if method == "HEAD":
            wanted.add("GET")
        if method == "OPTIONS" and preflight_method:
            wanted = {preflight_method.strip().upper()}
        for pattern, methods, service in self._rules:
            if methods & wanted and pattern.fullmatch(path):
                return str(service)
        return self.default_service

"""Hosting the API in functions-framework: `LazyApi`, the object a function's `main.py` serves,
and JSON answers for the HTTP errors the framework's own Flask routing raises."""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.exceptions import HTTPException

from common.api.app import Api, error_response, json_response
from common.core.errors import MethodNotAllowed, NotFound

if TYPE_CHECKING:
    from collections.abc import Callable

    from werkzeug.wrappers import Request, Response


class LazyApi:
    """An `Api` whose route table is imported off the import path of the function's main.py.

    `main.py` stays cheap to import (functions-framework imports it before the server starts);
    the routes, their models and what they import are loaded by a warm-up (`WarmUp`) started in
    each server process after gunicorn forks its worker, followed by the function's `prime`
    steps (`common.api.warm`: the database pool's first connection, clients). A request that
    arrives before the warm-up is done waits for it.

    Args:
        target: `"package.module:ATTRIBUTE"` naming a sequence of `Route`s.
        prime: warm-up steps run after the routes are loaded.
    """

    def __init__(self, target: str, *prime: Callable[[], object]) -> None:
        import threading

        from common.core.warmup import WarmUp

        self._target = target
        self._lock = threading.Lock()
        self._api: Api | None = None
        self.warm_up = WarmUp(self._load, *prime, name=f"warm-up of {target}")
        _json_errors_for_the_framework()

    def _load(self) -> Api:
        with self._lock:
            if self._api is None:
                import importlib

                module, _, attribute = self._target.partition(":")
                table = importlib.import_module(module)
                self._api = Api(getattr(table, attribute), getattr(table, "BINDING", None))
            return self._api

    def __call__(self, request: Request) -> Response:
        """Serve one request (after the warm-up, or loading the routes itself without one)."""
        api = self._api
        if api is None:
            self.warm_up.wait()
            api = self._load()
        return api(request)


def _framework_error(error: HTTPException) -> Response:
    """A JSON answer for what functions-framework's own Flask routing refuses before the
    function runs (a path its `/<path:path>` rule cannot match, such as one with a newline)."""
    status = error.code or 500
    if status == 405:
        return error_response(MethodNotAllowed("method not allowed"))
    if status == 404:
        return error_response(NotFound("nothing is served at this path", code="route_not_found"))
    return json_response(
        {"code": "bad_request", "message": error.description or "bad request"}, status
    )


def _json_errors_for_the_framework() -> None:
    """Make the hosting functions-framework app answer its own HTTP errors in JSON too.

    functions-framework imports `main.py` inside its Flask app's context, so the app is
    `flask.current_app` at that moment; elsewhere (tests importing main.py) there is none.
    """
    try:
        import flask
    except ImportError:  # pragma: no cover - functions-framework always brings Flask
        return
    if flask.has_app_context():
        flask.current_app.register_error_handler(HTTPException, _framework_error)

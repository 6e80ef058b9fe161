"""The route tables of the API's services (each module: one resource's routes), and `BINDING`,
the one place that says which service serves which route: the functions serve their tables,
the load balancer's URL map and the local gateway are generated from it (`common.api.urlmap`),
and the OpenAPI document lists it."""

from __future__ import annotations

from common.api.app import Route
from common.api.routes import (
    admin,
    alerts,
    audit,
    content,
    device_tokens,
    devices,
    event_settings,
    events,
    jobs,
    manage,
    media,
    shares,
    uploads,
    webhooks,
)

CREATE_MEDIA = (*uploads.ROUTES, *admin.CREATE_ROUTES)
LIST_MEDIA = (
    *media.ROUTES,
    *content.ROUTES,
    *jobs.ROUTES,
    *events.TICKET_ROUTES,
    *devices.READ_ROUTES,
    *shares.LIST_ROUTES,
    *admin.LIST_ROUTES,
    *audit.LIST_ROUTES,
    *alerts.LIST_ROUTES,
    *event_settings.LIST_ROUTES,
    *webhooks.LIST_ROUTES,
)
MANAGE_MEDIA = (
    *manage.ROUTES,
    *shares.MANAGE_ROUTES,
    *devices.MANAGE_ROUTES,
    *device_tokens.MANAGE_ROUTES,
    *admin.MANAGE_ROUTES,
    *audit.MANAGE_ROUTES,
    *alerts.MANAGE_ROUTES,
    *event_settings.MANAGE_ROUTES,
    *webhooks.MANAGE_ROUTES,
)
STREAMS = tuple(events.STREAM_ROUTES)
"""Served by the stream service (`common.streams`), not by a function."""

BINDING: dict[str, tuple[Route, ...]] = {
    "create_media": CREATE_MEDIA,
    "list_media": LIST_MEDIA,
    "manage_media": MANAGE_MEDIA,
    "streams": STREAMS,
}
"""Service name (a function of topology.json, or `streams`) -> the routes it serves."""

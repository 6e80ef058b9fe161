"""The route tables of the HTTP functions (each module: one resource's routes)."""

from __future__ import annotations

from common.api.routes import (
    admin,
    alerts,
    audit,
    content,
    device_tokens,
    devices,
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
    *events.ROUTES,
    *devices.READ_ROUTES,
    *shares.LIST_ROUTES,
    *admin.LIST_ROUTES,
    *audit.LIST_ROUTES,
    *alerts.LIST_ROUTES,
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
    *webhooks.MANAGE_ROUTES,
)

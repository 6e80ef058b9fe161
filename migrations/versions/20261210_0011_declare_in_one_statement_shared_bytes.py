"""Declarations in one statement (`declare_media`), and captures that share stored bytes.

`media_objects.shares_bytes_of` names the media whose stored object holds a capture's bytes when
the device had those bytes stored and verified already; such media name the same object, so the
object's uniqueness holds among owners only. `declare_media(p jsonb)` does a declaration's whole
database work in one round trip (see `common.media.declare`).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 09:00:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# One declaration, with the outcomes `common.media.declare.declare` documents. For an original,
# the oldest live media of the device whose verified bytes are the declared ones (locked FOR
# SHARE, so that a delete of it waits for this commit and then sees the new media) lends its
# stored object. The insert comes next, its key checked by the unique index itself (ON CONFLICT
# DO NOTHING: no plan to choose, whatever the statistics): a row with the key is the answer
# (outcome `existing`), else the row is new (`shared` or `created`). Then each quota scope is
# charged (the row's size, 0 for shared bytes, and one media) by a conditional upsert, or the
# whole statement fails with SQLSTATE MD429 (message `bytes` or `media`, detail the scope); then
# the first history row and the `declared` audit row. An insert that meets another
# declaration's object name fails with MD409. Run as a statement of its own (autocommit), a
# failure leaves nothing behind.
DECLARE_MEDIA = r"""
CREATE FUNCTION declare_media(p jsonb) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v_row media_objects;
    v_twin media_objects;
    v_size bigint;
    v_quota jsonb;
    v_max_bytes bigint;
    v_max_media bigint;
    v_override device_settings;
    v_used quota_usage;
    v_refused text;
BEGIN
    IF jsonb_typeof(p->'share_statuses') = 'array' THEN
        SELECT * INTO v_twin FROM media_objects
         WHERE device_id = p->>'device_id' AND sha256 = p->>'sha256' AND parent_id IS NULL
           AND size_bytes = (p->>'size_bytes')::bigint AND md5 = p->>'md5'
           AND mime_type = p->>'mime_type'
           AND status IN (SELECT jsonb_array_elements_text(p->'share_statuses'))
         ORDER BY created_at, id
         LIMIT 1
         FOR SHARE;
    END IF;
    INSERT INTO media_objects (
        id, device_id, camera_id, message_id, captured_at, reason, media_type, mime_type, kind,
        parent_id, size_bytes, sha256, md5, request_hash, bucket, object_name, object_version,
        storage_uri, status, labels, note, original_filename, created_by, trace_id,
        verified_sha256, verified_md5, actual_size_bytes, sampling_id, shares_bytes_of)
    VALUES (
        p->>'id', p->>'device_id', p->>'camera_id', p->>'message_id',
        (p->>'captured_at')::timestamptz, p->>'reason', p->>'media_type', p->>'mime_type',
        p->>'kind', p->>'parent_id', (p->>'size_bytes')::bigint, p->>'sha256', p->>'md5',
        p->>'request_hash', COALESCE(v_twin.bucket, p->>'bucket'),
        COALESCE(v_twin.object_name, p->>'object_name'), v_twin.object_version,
        COALESCE(v_twin.storage_uri, p->>'storage_uri'),
        CASE WHEN v_twin.id IS NULL THEN p->>'status' ELSE p->>'shared_status' END,
        p->'labels', p->>'note', p->>'original_filename', p->>'created_by', p->>'trace_id',
        v_twin.verified_sha256, v_twin.verified_md5, v_twin.actual_size_bytes,
        v_twin.sampling_id, COALESCE(v_twin.shares_bytes_of, v_twin.id))
    ON CONFLICT DO NOTHING
    RETURNING * INTO v_row;
    IF NOT FOUND THEN
        SELECT * INTO v_row FROM media_objects
         WHERE device_id = p->>'device_id' AND camera_id = p->>'camera_id'
           AND message_id = p->>'message_id';
        IF FOUND THEN
            RETURN jsonb_build_object('outcome', 'existing', 'media', to_jsonb(v_row));
        END IF;
        RAISE EXCEPTION 'another declaration holds this object name' USING ERRCODE = 'MD409';
    END IF;
    v_size := CASE WHEN v_twin.id IS NULL THEN v_row.size_bytes ELSE 0 END;
    FOR v_quota IN SELECT jsonb_array_elements(p->'quotas') LOOP
        v_max_bytes := (v_quota->>'bytes_per_day')::bigint;
        v_max_media := (v_quota->>'media_per_day')::bigint;
        IF (v_quota->>'device_override')::boolean THEN
            SELECT * INTO v_override FROM device_settings WHERE device_id = v_row.device_id;
            v_max_bytes := COALESCE(v_override.quota_bytes_per_day, v_max_bytes);
            v_max_media := COALESCE(v_override.quota_media_per_day, v_max_media);
        END IF;
        v_refused := NULL;
        IF v_size > v_max_bytes THEN
            v_refused := 'bytes';
        ELSIF v_max_media < 1 THEN
            v_refused := 'media';
        ELSE
            INSERT INTO quota_usage AS q (scope, day, bytes, media)
            VALUES (v_quota->>'scope', (p->>'day')::date, v_size, 1)
            ON CONFLICT (scope, day) DO UPDATE SET bytes = q.bytes + v_size, media = q.media + 1
             WHERE q.bytes + v_size <= v_max_bytes AND q.media + 1 <= v_max_media;
            IF NOT FOUND THEN
                SELECT * INTO v_used FROM quota_usage
                 WHERE scope = v_quota->>'scope' AND day = (p->>'day')::date;
                v_refused := CASE WHEN v_used.media + 1 > v_max_media THEN 'media' ELSE 'bytes' END;
            END IF;
        END IF;
        IF v_refused IS NOT NULL THEN
            RAISE EXCEPTION '%', v_refused USING ERRCODE = 'MD429', DETAIL = v_quota->>'scope';
        END IF;
    END LOOP;
    INSERT INTO status_history (media_id, from_status, to_status, reason_code, reason, event_id,
                                object_version)
    VALUES (v_row.id, NULL, v_row.status,
            CASE WHEN v_twin.id IS NULL THEN NULL ELSE p->>'shared_reason_code' END,
            CASE WHEN v_twin.id IS NULL THEN NULL ELSE p->>'shared_reason' END,
            p->>'event_id', v_row.object_version);
    INSERT INTO audit_events (actor, action, media_id, device_id, details)
    VALUES (v_row.created_by, 'declared', v_row.id, v_row.device_id,
            p->'audit_details' || CASE WHEN v_twin.id IS NULL THEN '{}'::jsonb
                ELSE jsonb_build_object('shares_bytes_of', v_row.shares_bytes_of) END);
    RETURN jsonb_build_object(
        'outcome', CASE WHEN v_twin.id IS NULL THEN 'created' ELSE 'shared' END,
        'media', to_jsonb(v_row));
END
$fn$
"""


def upgrade() -> None:
    op.add_column(
        "media_objects", sa.Column("shares_bytes_of", sa.String(length=40), nullable=True)
    )
    op.create_foreign_key(
        op.f("fk_media_objects_shares_bytes_of_media_objects"),
        "media_objects",
        "media_objects",
        ["shares_bytes_of"],
        ["id"],
    )
    op.drop_constraint("uq_media_objects_bucket_object", "media_objects", type_="unique")
    op.create_index(
        "uq_media_objects_bucket_object",
        "media_objects",
        ["bucket", "object_name"],
        unique=True,
        postgresql_where=sa.text("shares_bytes_of IS NULL"),
    )
    op.create_index(
        "ix_media_objects_shares_bytes_of",
        "media_objects",
        ["shares_bytes_of"],
        postgresql_where=sa.text("shares_bytes_of IS NOT NULL"),
    )
    op.execute(DECLARE_MEDIA)


def downgrade() -> None:
    op.execute("DROP FUNCTION declare_media(jsonb)")
    # Captures that shared bytes go with the column that says so.
    op.execute("DELETE FROM media_objects WHERE shares_bytes_of IS NOT NULL")
    op.drop_index("ix_media_objects_shares_bytes_of", table_name="media_objects")
    op.drop_index("uq_media_objects_bucket_object", table_name="media_objects")
    op.create_unique_constraint(
        "uq_media_objects_bucket_object", "media_objects", ["bucket", "object_name"]
    )
    op.drop_constraint(
        op.f("fk_media_objects_shares_bytes_of_media_objects"), "media_objects", type_="foreignkey"
    )
    op.drop_column("media_objects", "shares_bytes_of")

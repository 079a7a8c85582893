"""WeChat / WeCom conversation ids: an HMAC under SENDER_KEY instead of a plain hash

Until now a WeChat user's conversation id was sha256(app id : openid), computable by anyone who
knows the (public) app id and an openid; the REST channel then let anyone act as that worker.
The new id is ``bot.storage.channels.channel_sender_id`` (HMAC under the server's key). Every row
that names an old id is re-keyed: the channel profile, complaints, handoffs, untaught messages
and Rasa's tracker events (in this database, and in the SQLite tracker file of a single machine),
so existing conversations, complaints and handoffs keep working.

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Our tables that carry a conversation id at this revision.
SENDER_TABLES = ("channel_users", "complaints", "handoffs", "unrecognised_messages")


def upgrade() -> None:
    connection = op.get_bind()
    users = connection.execute(sa.text("SELECT channel, external_id, sender_id FROM channel_users")).all()
    if not users:
        return
    from bot.config import load_settings
    from bot.storage.channels import channel_sender_id

    # The key and the tracker store are the servers' settings, unless the caller names them.
    attributes = op.get_context().config.attributes
    key = attributes.get("sender_key") or load_settings().sender_key
    renames = {old: channel_sender_id(channel, external, key) for channel, external, old in users}
    renames = {old: new for old, new in renames.items() if old != new}
    tables = [t for t in SENDER_TABLES if sa.inspect(connection).has_table(t)]
    if sa.inspect(connection).has_table("events"):  # Rasa's tracker store in this database
        tables.append("events")
    _rename(connection, tables, renames)

    tracker_url = attributes["tracker_url"] if "tracker_url" in attributes else load_settings().tracker_url
    if tracker_url and tracker_url.startswith("sqlite:///") and tracker_url != str(connection.engine.url):
        path = Path(tracker_url.removeprefix("sqlite:///"))
        if path.exists():
            engine = sa.create_engine(tracker_url)
            try:
                with engine.begin() as tracker:
                    if sa.inspect(tracker).has_table("events"):
                        _rename(tracker, ["events"], renames)
            finally:
                engine.dispose()


def _rename(connection: sa.engine.Connection, tables: list[str], renames: dict[str, str]) -> None:
    for table in tables:
        statement = sa.text(f"UPDATE {table} SET sender_id = :new WHERE sender_id = :old")
        for old, new in renames.items():
            connection.execute(statement, {"old": old, "new": new})


def downgrade() -> None:
    # The old ids were plain hashes of the app id, which this revision does not keep: the rows stay
    # re-keyed, and code of an older revision would start these workers' conversations anew.
    pass

"""Use cases for the WeChat and WeCom channels: retry guard, users, menus, API tokens.

Everything here is shared by all Rasa server processes through the database, so a
message retried by WeChat is processed once even when the retry reaches another process.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.storage.db import Database
from bot.storage.errors import ChannelUserNotFound
from bot.storage.models import ChannelInbox, ChannelToken, ChannelUser, InboxState, utcnow

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def channel_sender_id(channel: str, external_id: str, key: str) -> str:
    """The conversation id of a WeChat openid / WeCom userid: an HMAC under the server's key.

    Nobody without the key can compute a worker's id from public values (a plain hash of the
    app id and the openid could be), so no other channel can name this conversation.
    """
    digest = hmac.new(key.encode("utf-8"), f"{channel}:{external_id}".encode("utf-8"), hashlib.sha256)
    return f"{channel}_{digest.hexdigest()[:40]}"


@dataclass(frozen=True)
class InboxClaim:
    """The outcome of announcing an incoming message."""

    first: bool  # True: this request processes the message; False: a retry of one seen before
    state: str
    reply: str | None = None


@dataclass(frozen=True)
class ChannelRecipient:
    channel: str
    external_id: str
    last_inbound_at: datetime | None
    subscribed: bool


class ChannelService:
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock

    # -- the retry guard -------------------------------------------------------------------
    def claim_message(self, channel: str, message_key: str) -> InboxClaim:
        """Record an incoming message; only the first request for a key gets ``first=True``.

        The unique constraint decides, so two processes racing on the same retry cannot
        both win.
        """
        now = self.clock()
        try:
            with self.db.transaction() as session:
                session.add(ChannelInbox(channel=channel, message_key=message_key, created_at=now,
                                         updated_at=now, state=InboxState.PROCESSING.value))
            return InboxClaim(first=True, state=InboxState.PROCESSING.value)
        except IntegrityError:
            return self.message_state(channel, message_key)

    def message_state(self, channel: str, message_key: str) -> InboxClaim:
        with self.db.transaction() as session:
            row = _inbox(session, channel, message_key)
            return InboxClaim(first=False, state=row.state, reply=row.reply)

    def finish_message(self, channel: str, message_key: str, state: InboxState,
                       reply: str | None = None) -> None:
        with self.db.transaction() as session:
            row = _inbox(session, channel, message_key)
            row.state = state.value
            row.reply = reply
            row.updated_at = self.clock()

    def purge_inbox(self, older_than: timedelta) -> int:
        """Forget messages WeChat can no longer retry (it gives up after three retries)."""
        with self.db.transaction() as session:
            result = session.execute(delete(ChannelInbox).where(
                ChannelInbox.created_at < self.clock() - older_than))
            return result.rowcount or 0

    # -- users -------------------------------------------------------------------------------
    def seen(self, channel: str, external_id: str, sender_id: str,
             subscribed: bool | None = None) -> None:
        """The user just wrote (or followed / unfollowed): remember when, for the 48-hour rule."""
        now = self.clock()
        for _attempt in range(2):  # a concurrent first message from the same user may insert first
            try:
                with self.db.transaction() as session:
                    user = _user(session, sender_id)
                    if user is None:
                        user = ChannelUser(channel=channel, external_id=external_id,
                                           sender_id=sender_id, subscribed=True)
                        session.add(user)
                    user.last_inbound_at = now
                    user.updated_at = now
                    if subscribed is not None:
                        user.subscribed = subscribed
                return
            except IntegrityError:
                continue

    def recipient(self, sender_id: str) -> ChannelRecipient:
        with self.db.transaction() as session:
            user = _user(session, sender_id)
            if user is None:
                raise ChannelUserNotFound(sender_id)
            return ChannelRecipient(user.channel, user.external_id, user.last_inbound_at,
                                    user.subscribed)

    def set_menu(self, sender_id: str, payloads: list[str] | None, details: str | None = None) -> None:
        """The numbered options the user was last shown (None: the last message had none) and, when
        the answer folded some, the details behind it (else the earlier details are kept)."""
        with self.db.transaction() as session:
            user = _user(session, sender_id)
            if user is not None:
                user.menu = payloads or None
                user.updated_at = self.clock()
                if details:
                    user.details, user.details_at = details, user.updated_at

    def menu(self, sender_id: str) -> list[str]:
        with self.db.transaction() as session:
            user = _user(session, sender_id)
            return list(user.menu or []) if user is not None else []

    def details(self, sender_id: str, max_age: timedelta) -> str | None:
        """The details behind the user's last calculation, unless older than ``max_age``."""
        with self.db.transaction() as session:
            user = _user(session, sender_id)
            if user is None or not user.details or user.details_at is None:
                return None
            return user.details if self.clock() - user.details_at <= max_age else None

    def purge_details(self, older_than: timedelta) -> int:
        """Forget details nobody can ask for any more (they carry the worker's own figures)."""
        with self.db.transaction() as session:
            result = session.execute(update(ChannelUser).where(ChannelUser.details_at < self.clock() - older_than)
                                     .values(details=None, details_at=None))
            return result.rowcount or 0

    # -- API tokens --------------------------------------------------------------------------
    def token(self, channel: str) -> tuple[str, datetime] | None:
        with self.db.transaction() as session:
            row = session.get(ChannelToken, channel)
            return (row.access_token, row.expires_at) if row is not None else None

    def save_token(self, channel: str, access_token: str, expires_at: datetime) -> None:
        for _attempt in range(2):
            try:
                with self.db.transaction() as session:
                    row = session.get(ChannelToken, channel)
                    if row is None:
                        row = ChannelToken(channel=channel)
                        session.add(row)
                    row.access_token = access_token
                    row.expires_at = expires_at
                    row.updated_at = self.clock()
                return
            except IntegrityError:
                continue

    def drop_token(self, channel: str, access_token: str) -> None:
        """Forget a token WeChat refused, unless another process has already replaced it."""
        with self.db.transaction() as session:
            session.execute(delete(ChannelToken).where(
                ChannelToken.channel == channel, ChannelToken.access_token == access_token))


def _user(session: Session, sender_id: str) -> ChannelUser | None:
    return session.scalars(select(ChannelUser).where(ChannelUser.sender_id == sender_id)).one_or_none()


def _inbox(session: Session, channel: str, message_key: str) -> ChannelInbox:
    return session.scalars(select(ChannelInbox).where(
        ChannelInbox.channel == channel, ChannelInbox.message_key == message_key)).one()

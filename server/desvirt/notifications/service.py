"""What other features tell the notifications outbox; mail is queued in the caller's transaction.

Meetups call the seams (`rsvp_changed`, `meetup_updated`, `meetup_cancelled`,
`people_invited`, `met_claimed`) right after a change, inside their write transaction, so a
change and its mail land together or not at all. The seams only write outbox rows (and
reminder rows at the quiet-hours-aware times of `desvirt.calendar.domain`); the mail worker
(`send_due`) renders each row when it is due, in the recipient's language, and sends it.

Delivery: rows are claimed with a short lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, an
immediate write transaction on SQLite), so several app processes send each message once;
a failed send is retried with backoff, never dropped. A crash between the SMTP answer and
the "sent" mark can repeat one message after the lease (at-least-once); its Message-ID
stays the same, so receiving servers can drop the repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any
from urllib.parse import unquote, urlsplit

import anyio.to_thread

from desvirt import database
from desvirt.accounts.tables import User
from desvirt.calendar import ical
from desvirt.calendar import service as calendar
from desvirt.calendar.domain import QuietHours, reminder_times
from desvirt.calendar.ical import CalendarHead
from desvirt.meetups.tables import Meetup, Rsvp
from desvirt.notifications import domain
from desvirt.notifications.domain import MeetupFacts
from desvirt.notifications.tables import OutboxMessage, Unsubscription
from desvirt.settings import Settings

log = logging.getLogger("desvirt.mail")

SEND_BATCH = 20
SMTP_TIMEOUT_SECONDS = 15
TOLD_OF_CHANGES = ("going", "maybe", "waitlisted", "pending_approval")
REMINDED = ("going", "maybe")


# --- the seams other features call -------------------------------------------------------


async def rsvp_changed(meetup_id: int, user_id: int, previous_status: str | None) -> None:
    """An RSVP's status changed (going, waitlisted, promoted, declined, ...)."""
    row = await (
        Rsvp.select(Rsvp.status, Rsvp.waitlist_position)
        .where((Rsvp.meetup == meetup_id) & (Rsvp.user == user_id))
        .first()
    )
    status = row["status"] if row else "declined"
    kind = domain.kind_for_status(status)
    # a first answer of "no" needs no mail; every other change of status gets one
    first_no = kind == "declined" and previous_status in (None, "declined")
    if kind is not None and status != previous_status and not first_no:
        params = {
            "position": row["waitlist_position"] if row else None,
            "previous": previous_status,
            "promoted": previous_status in ("waitlisted", "pending_approval"),
        }
        await _enqueue([(kind, user_id, meetup_id, params)])
    await schedule_reminders(meetup_id, [user_id])


async def meetup_updated(meetup_id: int) -> None:
    """The host changed time, place or text; the meetup's sequence was bumped."""
    await _tell_everyone(meetup_id, "updated")
    await schedule_reminders(meetup_id)


async def meetup_cancelled(meetup_id: int) -> None:
    """The host cancelled; everyone going, maybe or waitlisted hears it."""
    await _tell_everyone(meetup_id, "cancelled")
    await _drop_unsent_reminders(meetup_id)


async def people_invited(meetup_id: int, user_ids: Collection[int]) -> None:
    """The host invited these people (a proposal's invitees or a private meetup's guests)."""
    await _enqueue([("invited", user_id, meetup_id, {}) for user_id in dict.fromkeys(user_ids)])


async def met_claimed(claimer_id: int, other_id: int) -> None:
    """Someone said they met `other_id`: one gentle prompt to confirm (never a second one)."""
    await _enqueue(
        [("met_claimed", other_id, None, {"claimer": claimer_id})],
        dedupe_key=f"met_claimed:{claimer_id}:{other_id}",
    )


# --- reminders ---------------------------------------------------------------------------


async def schedule_reminders(meetup_id: int, user_ids: Sequence[int] | None = None) -> None:
    """(Re)plan reminder mail for a meetup's going and maybe people, or just `user_ids`.

    Unsent reminders are replaced, so an edit moves them; the dedupe key (meetup, person,
    moment) makes planning idempotent and never re-sends a reminder already sent.
    """
    await _drop_unsent_reminders(meetup_id, user_ids)
    meetup = await (
        Meetup.select(Meetup.starts_at, Meetup.status).where(Meetup.id == meetup_id).first()
    )
    if meetup is None or meetup["status"] != "scheduled" or meetup["starts_at"] is None:
        return
    query = Rsvp.select(
        Rsvp.user,
        Rsvp.user.timezone,
        Rsvp.user.quiet_hours_start,
        Rsvp.user.quiet_hours_end,
        Rsvp.user.reminder_offsets_minutes,
    ).where((Rsvp.meetup == meetup_id) & Rsvp.status.is_in(list(REMINDED)))
    if user_ids is not None:
        if not user_ids:
            return
        query = query.where(Rsvp.user.is_in(list(user_ids)))
    now = datetime.now(UTC)
    rows: list[OutboxMessage] = []
    for person in await query:
        try:
            quiet = QuietHours.parse(
                person["user.quiet_hours_start"], person["user.quiet_hours_end"]
            )
        except (TypeError, ValueError):
            quiet = calendar.DEFAULT_QUIET_HOURS
        offsets = _offsets(person["user.reminder_offsets_minutes"])
        for moment in reminder_times(meetup["starts_at"], offsets, quiet, person["user.timezone"]):
            if moment <= now:
                continue
            rows.append(
                OutboxMessage(
                    kind="reminder",
                    recipient=person["user"],
                    meetup=meetup_id,
                    params={},
                    due_at=moment,
                    dedupe_key=f"reminder:{meetup_id}:{person['user']}:{moment.isoformat()}",
                )
            )
    if rows:
        await OutboxMessage.insert(*rows).on_conflict(action="DO NOTHING")


# --- the worker's side -------------------------------------------------------------------


async def outbox_depth() -> int:
    """Messages not sent yet (due or scheduled): for /metrics."""
    return int(await OutboxMessage.count().where(OutboxMessage.sent_at.is_null()))


async def unsent_mail_count() -> int:
    """The name /metrics asks for (operations/api.py): the outbox depth."""
    return await outbox_depth()


async def send_due(settings: Settings, now: datetime | None = None) -> int:
    """Claim the due messages, send them, mark them; returns how many were delivered."""
    now = now or datetime.now(UTC)
    delivered = 0
    for message_id in await claim_due(now):
        if await _deliver(settings, message_id):
            delivered += 1
    return delivered


async def claim_due(now: datetime, limit: int = SEND_BATCH) -> list[int]:
    """Take a lease on up to `limit` due rows; another process skips them meanwhile."""
    lock = " FOR UPDATE SKIP LOCKED" if not database.is_sqlite() else ""
    async with database.write_transaction():
        rows = await OutboxMessage.raw(
            "SELECT id FROM outbox_message WHERE sent_at IS NULL AND due_at <= {} "
            "AND (claimed_until IS NULL OR claimed_until < {}) "
            f"ORDER BY due_at, id LIMIT {int(limit)}{lock}",
            now,
            now,
        )
        ids = [int(row["id"]) for row in rows]
        if ids:
            await OutboxMessage.update(
                {
                    OutboxMessage.claimed_until: now + domain.LEASE,
                    OutboxMessage.attempts: OutboxMessage.attempts + 1,
                }
            ).where(OutboxMessage.id.is_in(ids))
    return ids


def unsubscribe_token(settings: Settings, user_id: int, meetup_id: int) -> str:
    mac = hmac.new(
        settings.secret_key.encode(), f"unsubscribe:{user_id}:{meetup_id}".encode(), hashlib.sha256
    )
    return mac.hexdigest()[:32]


def unsubscribe_url(settings: Settings, user_id: int, meetup_id: int) -> str:
    token = unsubscribe_token(settings, user_id, meetup_id)
    return f"{settings.base_url}/unsubscribe/{user_id}/{meetup_id}/{token}"


async def unsubscription_target(
    settings: Settings, user_id: int, meetup_id: int, token: str
) -> dict[str, Any] | None:
    """The meetup a signed unsubscribe link names, or None when the link is not genuine."""
    expected = unsubscribe_token(settings, user_id, meetup_id)
    if not hmac.compare_digest(expected, token):
        return None
    meetup = await Meetup.select(Meetup.id, Meetup.title).where(Meetup.id == meetup_id).first()
    if meetup is None:
        return None
    done = await Unsubscription.exists().where(
        Unsubscription.key == _unsubscription_key(user_id, meetup_id)
    )
    return {"title": meetup["title"], "done": done}


async def unsubscribe(user_id: int, meetup_id: int) -> None:
    """No more mail about this meetup for this person (queued mail included)."""
    await Unsubscription.insert(
        Unsubscription(key=_unsubscription_key(user_id, meetup_id), user=user_id, meetup=meetup_id)
    ).on_conflict(action="DO NOTHING")


# --- inside ------------------------------------------------------------------------------


async def _enqueue(
    messages: Sequence[tuple[str, int, int | None, dict[str, Any]]],
    *,
    dedupe_key: str | None = None,
) -> None:
    if not messages:
        return
    rows = [
        OutboxMessage(
            kind=kind, recipient=recipient, meetup=meetup, params=params, dedupe_key=dedupe_key
        )
        for kind, recipient, meetup, params in messages
    ]
    query = OutboxMessage.insert(*rows)
    if dedupe_key is not None:
        query = query.on_conflict(action="DO NOTHING")
    await query


async def _tell_everyone(meetup_id: int, kind: str) -> None:
    answers = await Rsvp.select(Rsvp.user, Rsvp.status, Rsvp.waitlist_position).where(
        (Rsvp.meetup == meetup_id) & Rsvp.status.is_in(list(TOLD_OF_CHANGES))
    )
    await _enqueue(
        [
            (
                kind,
                answer["user"],
                meetup_id,
                {"role": answer["status"], "position": answer["waitlist_position"]},
            )
            for answer in answers
        ]
    )


async def _drop_unsent_reminders(meetup_id: int, user_ids: Sequence[int] | None = None) -> None:
    condition = (
        (OutboxMessage.kind == "reminder")
        & (OutboxMessage.meetup == meetup_id)
        & OutboxMessage.sent_at.is_null()
        & OutboxMessage.claimed_until.is_null()
    )
    if user_ids is not None:
        if not user_ids:
            return
        condition &= OutboxMessage.recipient.is_in(list(user_ids))
    await OutboxMessage.delete().where(condition)


async def _deliver(settings: Settings, message_id: int) -> bool:
    """Render and send one claimed row; on failure, put it back with a later due time."""
    row = await OutboxMessage.objects().where(OutboxMessage.id == message_id).first()
    if row is None or row.sent_at is not None:
        return False
    try:
        email = await _render(settings, row)
        if email is not None:
            await _send(settings, email)
    except Exception as error:  # any failure to render or send: retry later, never drop
        delay = domain.retry_delay(row.attempts)
        log.warning("mail %s not sent (attempt %s): %s", row.id, row.attempts, error)
        await OutboxMessage.update(
            {
                OutboxMessage.due_at: datetime.now(UTC) + delay,
                OutboxMessage.claimed_until: None,
                OutboxMessage.last_error: str(error)[:1000],
            }
        ).where(OutboxMessage.id == row.id)
        return False
    await OutboxMessage.update(
        {
            OutboxMessage.sent_at: datetime.now(UTC),
            OutboxMessage.claimed_until: None,
            OutboxMessage.last_error: "" if email is not None else "skipped",
        }
    ).where(OutboxMessage.id == row.id)
    return email is not None


async def _render(settings: Settings, row: OutboxMessage) -> EmailMessage | None:
    """The email for a row, or None when it should not go out any more."""
    recipient = await User.objects().where(User.id == row.recipient).first()
    if recipient is None:
        return None
    params = _params(row.params)
    meetup: Meetup | None = None
    host: User | None = None
    facts: MeetupFacts | None = None
    unsubscribe: str | None = None
    if row.meetup is not None:
        meetup = await Meetup.objects(Meetup.host).where(Meetup.id == row.meetup).first()
        if meetup is None:
            return None
        if await Unsubscription.exists().where(
            Unsubscription.key == _unsubscription_key(recipient.id, meetup.id)
        ):
            return None
        host = meetup.host
        if row.kind == "reminder" and not await _still_reminded(meetup, recipient.id):
            return None
        facts = MeetupFacts(
            title=meetup.title,
            url=f"{settings.base_url}/m/{meetup.slug}",
            starts_at=meetup.starts_at,
            ends_at=meetup.ends_at,
            timezone=meetup.timezone,
            place=", ".join(p for p in (meetup.venue_name, meetup.venue_address) if p)
            or meetup.online_url,
            host_name=host.display_name if host else "",
        )
        unsubscribe = unsubscribe_url(settings, recipient.id, meetup.id)
    if row.kind == "met_claimed":
        claimer = await User.objects().where(User.id == params.get("claimer")).first()
        if claimer is None:
            return None
        params["name"] = claimer.display_name
        params["profile_url"] = f"{settings.base_url}/u/{claimer.handle}"
    mail = domain.compose(
        row.kind, recipient.locale, recipient.timezone, facts, params, unsubscribe
    )
    email = EmailMessage()
    email["Subject"] = mail.subject
    email["From"] = settings.mail_from
    email["To"] = formataddr((recipient.display_name, recipient.email))
    email["Date"] = format_datetime(datetime.now(UTC))
    email["Message-ID"] = f"<outbox-{row.id}@{urlsplit(settings.base_url).hostname or 'desvirt'}>"
    if unsubscribe:
        email["List-Unsubscribe"] = f"<{unsubscribe}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(mail.body)
    if mail.imip_method and meetup is not None and host is not None and meetup.starts_at:
        ics = _imip(settings, mail.imip_method, row.kind, params, meetup, host, recipient)
        email.add_attachment(
            ics.decode(),
            subtype="calendar",
            params={"method": mail.imip_method},
            filename="meetup.ics",
        )
    email["Content-Language"] = recipient.locale  # after the body: set_content clears it
    return email


def _imip(
    settings: Settings,
    method: str,
    kind: str,
    params: dict[str, Any],
    meetup: Meetup,
    host: User,
    recipient: User,
) -> bytes:
    role = params.get("role") or {"seat": "going", "maybe": "maybe"}.get(kind)
    event = calendar.meetup_event(
        meetup, host, cancelled=method == "CANCEL", role=None if kind == "invited" else role
    )
    head = CalendarHead(
        name=meetup.title,
        base_url=settings.base_url,
        locale=recipient.locale,
        organizer_email=_address(settings.mail_from),
        method=method,
        attendee_email=recipient.email,
        attendee_name=recipient.display_name,
    )
    return ical.build_calendar(head, [event])


async def _still_reminded(meetup: Meetup, user_id: int) -> bool:
    if meetup.status != "scheduled" or meetup.starts_at is None:
        return False
    if meetup.starts_at <= datetime.now(UTC):
        return False
    return bool(
        await Rsvp.exists().where(
            (Rsvp.meetup == meetup.id) & (Rsvp.user == user_id) & Rsvp.status.is_in(list(REMINDED))
        )
    )


async def _send(settings: Settings, email: EmailMessage) -> None:
    if not settings.smtp_url:
        log.info(
            "mail (not sent: DESVIRT_SMTP_URL is unset) to %s: %s", email["To"], email["Subject"]
        )
        return
    await anyio.to_thread.run_sync(_send_over_smtp, settings.smtp_url, email)


def _send_over_smtp(url: str, email: EmailMessage) -> None:
    """smtp://host:port (plain), smtp+starttls://..., smtps://... (TLS); user:password@ optional."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    if parts.scheme == "smtps":
        port = parts.port or 465
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        port = parts.port or (587 if parts.scheme == "smtp+starttls" else 25)
        client = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
    with client:
        if parts.scheme == "smtp+starttls":
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(email)


def _params(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        loaded = json.loads(value or "{}")
        return dict(loaded) if isinstance(loaded, dict) else {}
    return dict(value or {})


def _offsets(value: Any) -> list[int]:
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return [int(minutes) for minutes in value or []]


def _unsubscription_key(user_id: int, meetup_id: int) -> str:
    return f"{user_id}:{meetup_id}"


def _address(mail_from: str) -> str:
    return parseaddr(mail_from)[1] or "desvirt@localhost"

"""Every Redis key Xinyi uses, in one place (one prefix, one function per kind)."""
from __future__ import annotations

PREFIX = "xinyi"


def session(user: str) -> str:
    return f"{PREFIX}:session:{user}"


def transcript(user: str) -> str:
    """Stream of one user's conversation (text sealed at rest)."""
    return f"{PREFIX}:transcript:{user}"


def user_profile(user: str) -> str:
    """Channel, org and delivery address of a pseudonymous user (sealed address)."""
    return f"{PREFIX}:user:{user}"


def case(case_id: str) -> str:
    return f"{PREFIX}:case:{case_id}"


def case_history(case_id: str) -> str:
    """Stream of the case's transitions (who, when, what)."""
    return f"{PREFIX}:case:{case_id}:history"


def open_case_of(user: str) -> str:
    return f"{PREFIX}:user:{user}:open_case"


OPEN_CASES = f"{PREFIX}:cases:open"          # sorted set, score = queue rank
CLOSED_CASES = f"{PREFIX}:cases:closed"      # sorted set, score = closed time
CASE_EVENTS = f"{PREFIX}:stream:case_events"  # stream: created / raised / claimed / closed, for paging
OUTBOX = f"{PREFIX}:stream:outbox"            # stream: messages to push to a user's channel
CASE_SEQ = f"{PREFIX}:seq:case"


def staff(username: str) -> str:
    return f"{PREFIX}:staff:{username}"


STAFF_INDEX = f"{PREFIX}:staff:index"
AUDIT = f"{PREFIX}:stream:audit"


def console_session(token: str) -> str:
    return f"{PREFIX}:console:session:{token}"


def health(component: str) -> str:
    return f"{PREFIX}:health:{component}"


# --- escalation: paging, SLA timers, follow-ups, console (escalation/**) ---
PAGES = f"{PREFIX}:stream:pages"                      # stream: page notices for the console (no message text)
PAGING_FAILURES = f"{PREFIX}:stream:paging_failures"  # stream: failed deliveries (channel, case, attempt)
PAGING_RETRY = f"{PREFIX}:paging:retry"               # sorted set: retry id → next attempt time
PAGING_RETRY_DATA = f"{PREFIX}:paging:retry:data"     # hash: retry id → JSON of the page + channel + attempt
SLA_DUE = f"{PREFIX}:sla:due"                         # sorted set: case id → next SLA check time
FOLLOWUPS_DUE = f"{PREFIX}:followups:due"             # sorted set: follow-up id → due time
FOLLOWUP_SEQ = f"{PREFIX}:seq:followup"
TIMINGS = f"{PREFIX}:stream:timings"                  # stream: time to page / claim samples, for the charts page


def page_sent(case_id: str, round_key: str, channel: str) -> str:
    """Set once a channel delivered one round of pages for a case: duplicates are suppressed."""
    return f"{PREFIX}:page:sent:{case_id}:{round_key}:{channel}"


def case_paging(case_id: str) -> str:
    """Hash: the team paged, the SLA round and its due time."""
    return f"{PREFIX}:case:{case_id}:paging"


def case_notes(case_id: str) -> str:
    """Stream of staff's private notes on a case (sealed; never relayed to the user)."""
    return f"{PREFIX}:case:{case_id}:notes"


def followup(fid: str) -> str:
    return f"{PREFIX}:followup:{fid}"


# --- channels (WeChat, Telegram): push addresses, dedup, delivery windows, access tokens ---
# The sealed delivery address of a user lives under user_profile(user) (bot/addresses.py).


def inbound_once(channel: str, message_key: str) -> str:
    """Dedup of one platform delivery (WeChat MsgId / user+CreateTime, Telegram update_id).

    `message_key` is never a raw platform user id: callers pass a MsgId or a pseudonym-based key.
    """
    return f"{PREFIX}:once:{channel}:{message_key}"


def wechat_window(user: str) -> str:
    """Customer-service window of a WeChat user: last inbound time and messages sent since."""
    return f"{PREFIX}:wechat:window:{user}"


# wechatpy's RedisStorage keeps the shared access_token at f"{WECHAT_SESSION}:{appid}_access_token".
WECHAT_SESSION = f"{PREFIX}:wechat:session"


def wechat_token_lock(appid: str) -> str:
    """Held by the one worker refreshing the access_token (others wait for the new one)."""
    return f"{PREFIX}:wechat:token_lock:{appid}"


def outbox_group(channel: str) -> str:
    """Consumer group name (not a key) of one push channel on the OUTBOX stream."""
    return f"push:{channel}"


def outbox_delivery(channel: str, entry_id: str) -> str:
    """Attempts and done-flag of one OUTBOX entry for one channel (idempotent delivery)."""
    return f"{PREFIX}:outbox:{channel}:{entry_id}"


# --- flows: screening results, booking requests, satisfaction (bot/userdata.py) ---
def results(user: str) -> str:
    """List of a user's screening results (sealed JSON), kept only with consent."""
    return f"{PREFIX}:results:{user}"


def booking(booking_id: str) -> str:
    """Hash: one counselling booking request (phone sealed)."""
    return f"{PREFIX}:booking:{booking_id}"


def user_bookings(user: str) -> str:
    """Set of a user's booking ids (so they can be shown and deleted)."""
    return f"{PREFIX}:user:{user}:bookings"


BOOKINGS = f"{PREFIX}:bookings"              # sorted set: booking id → requested time
BOOKING_SEQ = f"{PREFIX}:seq:booking"
SATISFACTION = f"{PREFIX}:satisfaction"      # hash: "<module>:<rating>" → count (anonymous)

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

"""Two kinds of failure, kept apart.

`LumenError` and its subclasses are expected failures whose message is written for the
person who will read it: a Slack user, an operator at the terminal. Edges show them as is.

`InternalError` and its subclasses are broken invariants and control flow (a lease lost to
another worker, a journal that does not match its replay). Their messages are for logs and
run trails; an edge that meets one shows a generic apology and logs the detail.
"""

from typing import TypeVar

T = TypeVar("T")


class LumenError(Exception):
    """An expected failure; its message is written for the person who will read it."""


class ConfigError(LumenError):
    """lumen.yml or the environment is wrong; the message names the file and field."""


class DatabaseUnreachable(LumenError):
    """LUMEN_DATABASE_URL names a database that cannot be reached; the message says which and why."""


class NotFound(LumenError):
    """The thing asked for does not exist."""


class InternalError(Exception):
    """Not for users: a broken invariant, or control flow between Lumen's own parts."""


class Invariant(InternalError):
    """Something that must hold did not: a bug, or the database changed under us."""


class Reported(InternalError):
    """A failure already logged and told to the person: raised on only so that whatever waits
    for the work (the inbox, which will try it again) knows it failed."""


def require(value: T | None, what: str) -> T:
    """`value`, or Invariant if it is None: for rows that must exist (a run's own decision, …)."""
    if value is None:
        raise Invariant(f"{what} is missing")
    return value


class NotAllowed(LumenError):
    """The person may not do this; the message says who may."""

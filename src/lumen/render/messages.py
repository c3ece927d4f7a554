"""Every sentence Lumen says in Slack outside Block Kit builders, in one place."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from lumen.render.common import clock, escape, mention


def slow_down(what: str, limit: int, retry_after_s: int) -> str:
    return f"That is more than {limit} {what} a minute from you; try again in {retry_after_s} s."


def command_failed() -> str:
    return "Something went wrong on Lumen's side; it has been logged. Please try again in a minute."


def mention_reply(user_id: str) -> str:
    return (
        f"Hi <@{user_id}>! Try `/lumen status` for what every venture is doing, "
        "or `/lumen help` for everything I can do."
    )


def woken(venture: str, role: str, run_id: int) -> str:
    return f"Waking the {role} agent of {venture} now (run #{run_id}). Its decisions will appear in the venture's channel."


def already_queued(venture: str, role: str, run_id: int) -> str:
    return f"The {role} agent of {venture} is already waiting to wake (run #{run_id}); asking again changes nothing."


def nothing_to(verb: str, venture: str) -> str:
    return f"Nothing to do: those agents of {venture} are already {verb}."


def already_decided(status: str, by: str | None, at: datetime | None, tz: str = "UTC") -> str:
    who = f"<@{by}>" if by else "Lumen"
    local = at.astimezone(ZoneInfo(tz)) if at else None
    when = f" at {local:%H:%M} {local.tzname()} on {local:%d %b}" if local else ""
    verb = {"approved": "approved", "rejected": "rejected", "expired": "let expire"}.get(status, status)
    if status == "expired":
        return f"Too late: this approval expired{when} and the decision was rejected."
    return f"Already decided: {who} {verb} this{when}."


def not_an_approver() -> str:
    return "You are not an approver for this decision, so nothing changed. The approvers are named on the message."


def approval_expired() -> str:
    return "This approval has expired; the decision will be rejected and the channel told."


def approval_missing() -> str:
    return "That approval no longer exists."


def vote_recorded(approvals: int, quorum: int) -> str:
    return f"Your approval is recorded: {approvals} of {quorum} needed."


def reason_required() -> str:
    return "Say why, in a few words: the agent reads it before its next decision."


def ask_failed() -> str:
    return "I couldn't answer that just now: something failed on Lumen's side and it has been logged. Please ask again in a minute."


def asked_in_channel(user_id: str, question: str) -> str:
    # Posted as Lumen: the asker's text is shown, never acted on (no <!channel>, links or mentions).
    return f"<@{user_id}> asked: {escape(question)}"


def click_refused(kind: str, status: str, by: str | None, at: datetime | None, tz: str = "UTC") -> str:
    """Why a click on Approve or Reject changed nothing."""
    if kind == "already":
        return already_decided(status, by, at, tz)
    if kind == "not_approver":
        return not_an_approver()
    if kind == "expired":
        return approval_expired()
    return approval_missing()


def mentions(user_ids: list[str]) -> str:
    return ", ".join(mention(u) for u in user_ids)


def escalated(title: str, backups: list[str]) -> str:
    waiting = mentions(backups) or "the backup approvers"
    return f"⏫ Escalated: “{escape(title)}” was not decided in time; now also waiting for {waiting}."


def expired_rejected(title: str) -> str:
    return f"⌛ Expired: nobody decided on “{escape(title)}” in time, so it is rejected."


def reminder(approvers: list[str], expires_at: datetime, tz: str = "UTC") -> str:
    who = mentions(approvers) or "approvers"
    return f"⏰ Reminder: {who}, this is still waiting for a decision (expires {clock(expires_at, tz)})."


def you_decided(approved: bool, title: str) -> str:
    """The note on the clicker's App Home after their click resolved an approval there."""
    verb = "approved" if approved else "rejected"
    return f"{'✅' if approved else '🚫'} You {verb} “{escape(title)}”."


def reminder_dm(venture_name: str, title: str) -> str:
    return (
        f"⏰ {escape(venture_name)} is waiting for your decision on “{escape(title)}”. "
        "Open the approval in the channel or in Lumen's Home tab."
    )

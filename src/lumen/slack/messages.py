"""Every sentence Lumen says in Slack outside Block Kit builders, in one place."""

from __future__ import annotations

from datetime import datetime

from lumen.slack.blocks.common import escape


def command_failed() -> str:
    return "Something went wrong on Lumen's side; it has been logged. Please try again in a minute."


def mention_reply(user_id: str) -> str:
    return (
        f"Hi <@{user_id}>! Try `/lumen status` for what every venture is doing, "
        "or `/lumen help` for everything I can do."
    )


def woken(venture: str, role: str, run_id: int) -> str:
    return f"Waking the {role} agent of {venture} now (run #{run_id}). Its decisions will appear in the venture's channel."


def nothing_to(verb: str, venture: str) -> str:
    return f"Nothing to do: those agents of {venture} are already {verb}."


def already_decided(status: str, by: str | None, at: datetime | None) -> str:
    who = f"<@{by}>" if by else "Lumen"
    when = f" at {at:%H:%M} UTC on {at:%d %b}" if at else ""
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

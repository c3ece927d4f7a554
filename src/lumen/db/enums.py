"""The states and kinds Lumen stores, as plain string enums.

Apart from the models so that the pure rendering package can name a status without
importing the ORM.
"""

from __future__ import annotations

import enum


class AgentStatus(str, enum.Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    TRIPPED = "tripped"  # paused by the circuit breaker


class RunKind(str, enum.Enum):
    WAKE = "wake"
    SYNTHESIS = "synthesis"
    PLATFORM_SYNTHESIS = "platform_synthesis"


class RunTrigger(str, enum.Enum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    EVENT = "event"
    RESUME = "resume"
    REPLAY = "replay"


class RunStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StepKind(str, enum.Enum):
    LLM_CALL = "llm_call"
    TOOL_CALL = "tool_call"
    GATE = "gate"
    STATE = "state"
    POST = "post"


class DecisionStatus(str, enum.Enum):
    PROPOSED = "proposed"
    AUTO_APPROVED = "auto_approved"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    EXECUTED = "executed"


class ApprovalStatus(str, enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    ESCALATED = "escalated"


class QuestionStatus(str, enum.Enum):
    PENDING = "pending"
    ANSWERED = "answered"
    EXPIRED = "expired"  # nobody answered in time: the run goes on without an answer


class Verdict(str, enum.Enum):
    SUCCESS = "success"
    FAILURE = "failure"
    MIXED = "mixed"
    UNKNOWN = "unknown"


class OutboxStatus(str, enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # gave up: a permanent Slack error, kept for the operator

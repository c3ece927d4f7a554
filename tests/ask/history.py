"""A generated, deterministic history for the "Ask Lumen" tests: three ventures over 18 months.

Acme Analytics and Brightbox Studio are public; Zenith Health is private, with its own
channel (C0ZENITH) whose members are alice and carol. Every decision is planned here first
(`generate(now)`), with the facts a question is judged by: its venture, its *topic* (what it
is about, decided here, never by the code under test), its timestamp, its status and the
verdict of its latest outcome. `write_history` then writes the plan through the ORM: one run
per decision, the decision (with a permalink), its outcomes in order (sometimes a superseded
first verdict) and, for rejected ones, the rejecting approval with its reason.

Fixed facts the tests rely on (the workspace lives in America/Los_Angeles):
  * Brightbox recorded nothing in August 2026 (a summer pause).
  * Acme has no security decision in Q3 2026, but one in June and one in October 2026.
  * Two Acme pricing decisions sit on quarter edges: 2026-10-01 03:00 UTC is still Q3 in
    Los Angeles, and 2026-07-01 05:00 UTC is still Q2 there.
"""

from __future__ import annotations

import random
import uuid
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.config import LumenConfig, parse_config
from lumen.db.models import (
    Agent,
    Approval,
    ApprovalStatus,
    Decision,
    DecisionStatus,
    Outcome,
    Run,
    RunKind,
    RunStatus,
    RunTrigger,
    Venture,
    Verdict,
)

UTC = timezone.utc
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # 04:00 on Saturday 21 November in Los Angeles
WORKSPACE_TZ = "America/Los_Angeles"
LOCAL = ZoneInfo(WORKSPACE_TZ)
TEAM_DOMAIN = "lumen-dev.slack.com"

CHANNEL_IDS = {"acme": "C0ACME", "brightbox": "C0BRIGHT", "zenith": "C0ZENITH"}
# Who is in each venture channel (what the directory answers for channel membership).
MEMBERS = {
    "C0ACME": {"U0ALICE", "U0BOB", "U0CAROL", "U0DAN"},
    "C0BRIGHT": {"U0ALICE", "U0BOB", "U0CAROL", "U0DAN"},
    "C0ZENITH": {"U0ALICE", "U0CAROL"},
}
NAMES = {"acme": "Acme Analytics", "brightbox": "Brightbox Studio", "zenith": "Zenith Health"}

# Agents wake on 1 January only and brains are synthesised then: nothing runs during a test.
CONFIG_YAML = """
version: 1
workspace:
  timezone: America/Los_Angeles
  platform_channel: lumen-platform
  platform_synthesis_schedule: "0 7 1 1 *"
gates:
  approvers:
    users: [U0ALICE, U0BOB]
  categories:
    resource_allocation:
      above_usd: 500
    new_dependency:
      gated: false
ventures:
  - slug: acme
    name: Acme Analytics
    stage: growth
    channel: venture-acme
    timezone: America/New_York
    aliases: [acme analytics, metricly]
    synthesis_schedule: "0 6 1 1 *"
    agents:
      - {role: ceo, schedule: "0 9 1 1 *", budget_usd_month: 25}
      - {role: cmo, schedule: "30 9 1 1 *", budget_usd_month: 10}
  - slug: brightbox
    name: Brightbox Studio
    stage: validation
    channel: venture-brightbox
    timezone: Europe/London
    aliases: [bright box]
    synthesis_schedule: "0 6 1 1 *"
    agents:
      - {role: ceo, schedule: "0 8 1 1 *", budget_usd_month: 15}
  - slug: zenith
    name: Zenith Health
    stage: build
    channel: venture-zenith
    timezone: America/Chicago
    private: true
    aliases: [project zenith]
    synthesis_schedule: "0 6 1 1 *"
    agents:
      - {role: ceo, schedule: "0 8 1 1 *", budget_usd_month: 15}
"""


def history_config() -> LumenConfig:
    return parse_config(CONFIG_YAML, source="tests/ask/history.py")


# --- what decisions are about ------------------------------------------------------------------

# topic -> templates of (title, category, rationale, expected effect, role)
TEMPLATES: dict[str, list[tuple[str, str, str, str, str]]] = {
    "pricing": [
        ("Raise the {plan} plan from ${low} to ${high}", "pricing_change",
         "Competitors charge more and churn has been flat for three months.", "+{n}% MRR within a quarter", "ceo"),
        ("Launch an annual plan with two months free", "pricing_change",
         "Annual plans cut churn and pull cash forward.", "+8% MRR within a quarter", "ceo"),
        ("Offer a {pct}% founding-customer discount", "pricing_change",
         "Early customers want a reason to commit before the product is complete.", "{n} paid conversions from the waitlist", "ceo"),
        ("Introduce seat-based pricing for teams", "pricing_change",
         "Larger teams get more value but pay the same as solo users.", "Average revenue per account up 20%", "ceo"),
        ("Bill usage overages above {n}k events a month", "pricing_change",
         "Heavy users cost us more than they pay.", "Gross margin back above 75%", "ceo"),
        ("Drop the free tier for new signups", "pricing_change",
         "Free users rarely convert and load support.", "Support tickets down a third", "ceo"),
    ],
    "ads": [
        ("Run a LinkedIn ads test for the {product}", "resource_allocation",
         "Small test to learn cost per trial before scaling.", "40 trials at under $8 each", "cmo"),
        ("Sponsor the {newsletter} newsletter for a month", "marketing",
         "Its readers match our buyer profile.", "{n} signups from the sponsorship", "cmo"),
        ("Retarget trial visitors with display ads", "marketing",
         "Most visitors leave without starting a trial.", "Trial starts up 15%", "cmo"),
        ("Pause Google Ads on branded keywords", "marketing",
         "We rank first organically for our own name.", "Save $600 a month with no loss of trials", "cmo"),
        ("Boost the {post} post on LinkedIn", "resource_allocation",
         "It already earns comments from buyers; paid reach may bring trials.", "{n} trials", "cmo"),
        ("Buy a podcast ad slot on {podcast}", "marketing",
         "Host-read spots convert better than banners.", "{n} demo requests", "cmo"),
    ],
    "content": [
        ("Publish a {subject} benchmark report", "marketing",
         "Content that ranks brings qualified inbound.", "500 newsletter signups", "cmo"),
        ("Run a webinar series on {subject}", "marketing",
         "Live demos convert trials better than docs.", "{n} trials from attendees", "cmo"),
        ("Write a case study with {customer}", "marketing",
         "Buyers ask for proof from teams like theirs.", "Sales cycle shorter by a week", "cmo"),
        ("Send a reactivation email campaign to dormant trials", "marketing",
         "A third of trials never came back after day one.", "{n} reactivated trials", "cmo"),
        ("Launch on Product Hunt", "marketing",
         "A launch day brings a spike of early adopters.", "{n} signups in a week", "cmo"),
    ],
    "hiring": [
        ("Hire a part-time {role}", "resource_allocation",
         "The backlog in {area} is slowing every release.", "Backlog halved in two months", "ceo"),
        ("Recruit a contract {role} for three months", "resource_allocation",
         "We need the skill now but not for good.", "Ship the {area} work by the end of the quarter", "ceo"),
        ("Hire an agency to redesign the onboarding flow", "resource_allocation",
         "Activation stalls at the second step.", "Activation from 30% to 45%", "ceo"),
        ("Open a full-time role for a {role}", "resource_allocation",
         "Freelancers have covered {area} for six months.", "A hire in place within eight weeks", "ceo"),
    ],
    "security": [
        ("Start SOC 2 Type I preparation", "security",
         "Enterprise buyers ask for it in every review.", "Type I report within six months", "ceo"),
        ("Enforce SSO for all admin accounts", "security",
         "Shared passwords are our biggest account-takeover risk.", "No admin logins without SSO", "ceo"),
        ("Commission a penetration test of the API", "security",
         "We have never had an outside review.", "All high findings fixed within a month", "ceo"),
        ("Rotate production database credentials every quarter", "security",
         "Old credentials outlive the people who had them.", "No credential older than 90 days", "ceo"),
        ("Encrypt customer exports at rest", "security",
         "Exports leave our infrastructure in customers' inboxes.", "Every export encrypted", "ceo"),
    ],
    "partnership": [
        ("Adopt Segment for event collection", "new_dependency",
         "Hand-rolled tracking breaks on every release.", "One source of product events", "ceo"),
        ("Partner with {partner} for referrals", "new_dependency",
         "Their customers ask for exactly our reports.", "{n} referred trials a month", "ceo"),
        ("Move transactional email to Postmark", "new_dependency",
         "Deliverability of password resets is below 90%.", "Resets delivered 99% of the time", "ceo"),
        ("List the app on the {partner} marketplace", "new_dependency",
         "Listing there puts us in front of their users.", "{n} installs a month", "ceo"),
    ],
    "customers": [
        ("Commit to a {feature} for {customer} by {month}", "customer_commitment",
         "{customer} will sign an annual contract if we do.", "A signed annual contract", "ceo"),
        ("Promise a dedicated onboarding call to every enterprise trial", "customer_commitment",
         "Enterprise trials that get a call convert twice as often.", "Enterprise conversion from 10% to 20%", "ceo"),
    ],
    "product": [
        ("Ship the {feature} beta to ten customers", "product",
         "Early feedback before we build the full version.", "Ten teams using it weekly", "ceo"),
        ("Interview twelve {segment} about their biggest pain", "research",
         "We still guess which workflow hurts most.", "A ranked list of the top three pains", "ceo"),
        ("Sunset the legacy CSV export", "product",
         "Three customers use it and it breaks every month.", "One less thing on call", "ceo"),
        ("Rebuild the {feature} for speed", "product",
         "Customers wait ten seconds for it to load.", "Loads in under a second", "ceo"),
    ],
}
FILL = {
    "plan": ["Pro", "Team", "Starter", "Business"],
    "product": ["analytics add-on", "reporting module", "team plan", "mobile app"],
    "newsletter": ["DataOps Weekly", "SaaS Metrics", "Design Systems", "Health IT Brief"],
    "post": ["churn teardown", "founder story", "customer interview", "launch"],
    "podcast": ["SaaS Club", "Design Details", "The Health Stack", "Metrics Matter"],
    "subject": ["churn analytics", "design handoff", "patient intake", "revenue forecasting"],
    "customer": ["Northwind", "Globex", "Initech", "Umbrella Clinics", "Hooli"],
    "role": ["data engineer", "designer", "support lead", "backend developer", "content writer"],
    "area": ["data pipelines", "support", "the API", "design", "onboarding"],
    "partner": ["HubSpot", "Figma", "Stripe", "Epic", "Zapier"],
    "feature": ["custom dashboard", "SSO integration", "audit log", "bulk import", "reports page"],
    "segment": ["agency owners", "finance leads", "clinic managers", "product managers"],
    "month": ["March", "June", "September", "December"],
}
METRICS = {
    "pricing": "MRR", "ads": "trials", "content": "signups", "hiring": "cycle time (days)",
    "security": "enterprise pipeline", "partnership": "activation %", "customers": "ARR",
    "product": "weekly active teams",
}
REJECTIONS = [
    "Too expensive for this stage.",
    "Legal has not reviewed the data-processing terms.",
    "We promised customers no changes this quarter.",
    "Not until the current experiment has a result.",
]
NOTES = {
    "success": ["Beat the target.", "Worth repeating next quarter.", None],
    "failure": ["Cost five times the target per result.", "No measurable change after a month.", None],
    "mixed": ["Helped one segment, hurt another.", "Moved the metric, but below target.", None],
    "unknown": ["Too early to say.", None],
}
WEIGHTS = {
    "acme": {"pricing": 3, "ads": 3, "content": 2, "hiring": 2, "security": 1, "partnership": 1, "customers": 1, "product": 2},
    "brightbox": {"pricing": 2, "ads": 2, "content": 2, "hiring": 2, "security": 1, "partnership": 2, "customers": 1, "product": 3},
    "zenith": {"pricing": 1, "ads": 1, "content": 1, "hiring": 2, "security": 4, "partnership": 1, "customers": 2, "product": 2},
}
PER_MONTH = {"acme": 6, "brightbox": 5, "zenith": 4}
MONTHS_BACK = 18


@dataclass(frozen=True)
class Planned:
    key: str
    venture: str  # slug
    role: str
    topic: str
    category: str
    title: str
    rationale: str
    expected_effect: str
    at: datetime  # UTC
    status: str  # executed | rejected | awaiting_approval
    verdicts: tuple[str, ...] = ()  # outcomes in the order recorded; the last one counts
    reason: str | None = None  # why it was rejected
    amount: str | None = None
    note: str | None = None

    @property
    def local(self) -> datetime:
        return self.at.astimezone(LOCAL)

    @property
    def local_date(self) -> date:
        return self.local.date()

    @property
    def verdict(self) -> str | None:
        """The verdict of the latest outcome; None without one."""
        return self.verdicts[-1] if self.verdicts else None

    @property
    def permalink(self) -> str:
        return f"https://{TEAM_DOMAIN}/archives/{CHANNEL_IDS[self.venture]}/p{self.slack_ts.replace('.', '')}"

    @property
    def slack_ts(self) -> str:
        return f"{int(self.at.timestamp())}.{zlib.crc32(self.key.encode()) % 1_000_000:06d}"

    def in_local(self, start: date | None, end: date | None) -> bool:
        """Inside [start, end) by the workspace's local calendar."""
        day = self.local_date
        return (start is None or day >= start) and (end is None or day < end)


def _month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _values(rng: random.Random) -> dict[str, object]:
    """One draw of the placeholders, shared by a decision's title, rationale and effect."""
    values: dict[str, object] = {name: rng.choice(options) for name, options in FILL.items()}
    low = rng.choice([19, 29, 49, 79, 99])
    values |= {"low": low, "high": low + rng.choice([10, 20]), "n": rng.randint(3, 60), "pct": rng.choice([10, 20, 30])}
    return values


def _fate(rng: random.Random, at: datetime, now: datetime) -> tuple[str, tuple[str, ...], str | None]:
    """(status, verdicts, rejection reason) for a decision made at `at`."""
    roll = rng.random()
    if roll < 0.1:
        return "rejected", (), rng.choice(REJECTIONS)
    if now - at < timedelta(days=21):
        # Too recent for an outcome: executed and waiting, or still waiting for a human.
        return ("awaiting_approval" if roll < 0.2 else "executed"), (), None
    roll = rng.random()
    if roll < 0.38:
        final = "success"
    elif roll < 0.66:
        final = "failure"
    elif roll < 0.80:
        final = "mixed"
    elif roll < 0.84:
        final = "unknown"
    else:
        return "executed", (), None
    # Sometimes an early verdict is later superseded by a different one.
    if rng.random() < 0.15:
        first = rng.choice([v for v in ("success", "failure", "mixed") if v != final])
        return "executed", (first, final), None
    return "executed", (final,), None


def _plan(rng: random.Random, venture: str, topic: str, at: datetime, now: datetime, key: str) -> Planned:
    title, category, rationale, effect, role = rng.choice(TEMPLATES[topic])
    if venture != "acme":
        role = "ceo"  # only Acme has a cmo
    status, verdicts, reason = _fate(rng, at, now)
    amount = str(rng.choice([300, 450, 900, 2400, 4000])) if category == "resource_allocation" else None
    note = rng.choice(NOTES[verdicts[-1]]) if verdicts else None
    values = _values(rng)
    return Planned(
        key=key, venture=venture, role=role, topic=topic, category=category,
        title=title.format(**values), rationale=rationale.format(**values), expected_effect=effect.format(**values),
        at=at, status=status, verdicts=verdicts, reason=reason, amount=amount, note=note,
    )


def _fixed(now: datetime) -> list[Planned]:
    """The records the tests name; only when their moments lie inside the generated span."""
    fixed = [
        Planned("acme-edge-q3", "acme", "ceo", "pricing", "pricing_change", "Raise the Team plan from $99 to $119",
                "Teams use three times the dashboards of solo users.", "+6% MRR within a quarter",
                datetime(2026, 10, 1, 3, 0, tzinfo=UTC), "executed", ("success",)),
        Planned("acme-edge-q2", "acme", "ceo", "pricing", "pricing_change", "Offer a 20% discount to nonprofits",
                "Nonprofits ask for it in every sales call.", "10 nonprofit customers",
                datetime(2026, 7, 1, 5, 0, tzinfo=UTC), "executed", ("failure",), note="Two signed up."),
        Planned("acme-sec-june", "acme", "ceo", "security", "security", "Enable audit logging for admin actions",
                "Two enterprise prospects require an audit trail.", "Audit trail in every plan",
                datetime(2026, 6, 10, 17, 0, tzinfo=UTC), "executed", ("success",)),
        Planned("acme-sec-october", "acme", "ceo", "security", "security", "Enforce SSO for all admin accounts",
                "Shared passwords are our biggest account-takeover risk.", "No admin logins without SSO",
                datetime(2026, 10, 14, 18, 0, tzinfo=UTC), "executed", ()),
    ]
    return [p for p in fixed if now - timedelta(days=MONTHS_BACK * 31) < p.at < now] if now == NOW else []


def generate(now: datetime = NOW, *, seed: int = 20261121) -> list[Planned]:
    """The whole history, oldest first. Deterministic for a given `now` and seed."""
    rng = random.Random(seed)
    plans: list[Planned] = []
    first_month = _month_add(now.astimezone(LOCAL).date().replace(day=1), -MONTHS_BACK)
    earliest = now - timedelta(days=548)
    for venture in ("acme", "brightbox", "zenith"):
        topics = [t for t, w in WEIGHTS[venture].items() for _ in range(w)]
        for month_index in range(MONTHS_BACK + 1):
            month = _month_add(first_month, month_index)
            for n in range(PER_MONTH[venture]):
                day = rng.randint(1, 28)
                at = datetime(month.year, month.month, day, rng.randint(15, 23), rng.randint(0, 59), tzinfo=UTC)
                topic = rng.choice(topics)
                key = f"{venture}-{month:%Y%m}-{n}"
                plan = _plan(rng, venture, topic, at, now, key)  # drawn even when skipped: stable streams
                if not (earliest <= at < now - timedelta(hours=2)):
                    continue
                if now == NOW and venture == "brightbox" and (month.year, month.month) == (2026, 8):
                    continue  # the summer pause
                if now == NOW and venture == "acme" and topic == "security" and date(2026, 7, 1) <= plan.local_date < date(2026, 10, 1):
                    plan = _plan(random.Random(key), venture, "product", at, now, key)
                plans.append(plan)
    plans += _fixed(now)
    plans.sort(key=lambda p: (p.at, p.key))
    return plans


# --- writing it ----------------------------------------------------------------------------------


async def write_history(session: AsyncSession, plans: list[Planned]) -> dict[str, int]:
    """Write the plan through the ORM; returns decision id by plan key."""
    ventures = {v.slug: v for v in (await session.scalars(select(Venture))).all()}
    for slug, channel_id in CHANNEL_IDS.items():
        ventures[slug].channel_id = channel_id
    agents = {(a.venture_id, a.role): a for a in (await session.scalars(select(Agent))).all()}

    runs: list[Run] = []
    for plan in plans:
        venture = ventures[plan.venture]
        runs.append(
            Run(
                kind=RunKind.WAKE, venture_id=venture.id, agent_id=agents[(venture.id, plan.role)].id,
                trigger=RunTrigger.SCHEDULE, idempotency_key=f"history:{plan.key}:{uuid.uuid4().hex[:8]}",
                status=RunStatus.SUCCEEDED, scheduled_for=plan.at, started_at=plan.at,
                finished_at=plan.at + timedelta(minutes=2), created_at=plan.at,
            )
        )
    session.add_all(runs)
    await session.flush()

    decisions: list[Decision] = []
    for plan, run in zip(plans, runs):
        venture = ventures[plan.venture]
        status = DecisionStatus(plan.status)
        decisions.append(
            Decision(
                run_id=run.id, ordinal=0, venture_id=venture.id, agent_id=run.agent_id,
                category=plan.category, title=plan.title, rationale=plan.rationale,
                expected_effect=plan.expected_effect,
                amount_usd=Decimal(plan.amount) if plan.amount else None, status=status,
                slack_channel_id=CHANNEL_IDS[plan.venture], slack_ts=plan.slack_ts, permalink=plan.permalink,
                created_at=plan.at,
                resolved_at=None if status == DecisionStatus.AWAITING_APPROVAL else plan.at + timedelta(hours=2),
                executed_at=plan.at + timedelta(hours=2) if status == DecisionStatus.EXECUTED else None,
            )
        )
    session.add_all(decisions)
    await session.flush()

    extra: list[object] = []
    for plan, run, decision in zip(plans, runs, decisions):
        if plan.status == "rejected":
            extra.append(
                Approval(
                    decision_id=decision.id, run_id=run.id, venture_id=decision.venture_id,
                    status=ApprovalStatus.REJECTED, approvers={"users": ["U0ALICE"]},
                    expires_at=plan.at + timedelta(hours=72), resolved_by="U0ALICE",
                    resolved_at=plan.at + timedelta(hours=2), reason=plan.reason, created_at=plan.at,
                )
            )
    session.add_all(extra)
    # Outcomes in recording order: first verdicts, then the ones superseding them (larger ids).
    pairs = list(zip(plans, decisions))
    first: dict[int, Outcome] = {}
    for rank in (0, 1):
        for plan, decision in pairs:
            if len(plan.verdicts) <= rank:
                continue
            verdict = plan.verdicts[rank]
            outcome = Outcome(
                decision_id=decision.id, verdict=Verdict(verdict), metric=METRICS[plan.topic],
                metric_before=100.0,
                metric_after={"success": 130.0, "failure": 96.0, "mixed": 104.0, "unknown": 100.0}[verdict],
                note=plan.note if rank == len(plan.verdicts) - 1 else None,
                reported_by="U0ALICE", source="slack",
                supersedes_id=first[decision.id].id if rank == 1 else None,
                created_at=plan.at + timedelta(days=7 * (rank + 1)),
            )
            session.add(outcome)
            first.setdefault(decision.id, outcome)
        await session.flush()
    return {plan.key: decision.id for plan, decision in zip(plans, decisions)}

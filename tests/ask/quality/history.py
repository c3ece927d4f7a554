"""A second generated history for measuring Ask: five ventures over two years, worded as people write.

It is written apart from Lumen's topic vocabulary (src/lumen/ask/vocabulary.yaml): the titles and
rationales below say things the way a founder or an agent would ("bump the monthly box to $27",
"put $2k into PPC on Bing", "bring on a freelance illustrator"), and a question's relevance is
judged from the facts planned here (venture, *topic*, tags, local date, status, latest verdict),
never from the code under test.

Ventures (the workspace lives in America/New_York):
  * Fernway Travel (public), Quillo Notes (public), Tandem Bikes (public);
  * Pilot (public), a venture whose name is a common word: other ventures run "pilots" too;
  * Marlow Clinics (private): channel C0MARLOW, whose members are ana and chen.

Statuses: most decisions were executed; some were rejected by a human (with a reason), some
expired with nobody deciding, the last fortnight's may still wait for approval, and some were
approved by a human before they ran. About one outcome in eight was later corrected.
"""

from __future__ import annotations

import random
import uuid
import zlib
from dataclasses import dataclass, field
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
NOW = datetime(2026, 6, 17, 15, 0, tzinfo=UTC)  # 11:00 on Wednesday 17 June 2026 in New York
WORKSPACE_TZ = "America/New_York"
LOCAL = ZoneInfo(WORKSPACE_TZ)
TEAM_DOMAIN = "lumen-dev.slack.com"

CHANNEL_IDS = {"fernway": "C0FERN", "pilot": "C0PILOT", "quillo": "C0QUILL", "marlow": "C0MARLOW", "tandem": "C0TANDEM"}
PUBLIC = ("fernway", "pilot", "quillo", "tandem")
MEMBERS = {
    "C0FERN": {"U0ANA", "U0BEN", "U0CHEN", "U0DEV"},
    "C0PILOT": {"U0ANA", "U0BEN", "U0CHEN", "U0DEV"},
    "C0QUILL": {"U0ANA", "U0BEN", "U0CHEN", "U0DEV"},
    "C0TANDEM": {"U0ANA", "U0BEN", "U0CHEN", "U0DEV"},
    "C0MARLOW": {"U0ANA", "U0CHEN"},
    "C0GENERAL": {"U0ANA", "U0BEN", "U0CHEN", "U0DEV"},
}

CONFIG_YAML = """
version: 1
workspace:
  timezone: America/New_York
  platform_channel: lumen-platform
  platform_synthesis_schedule: "0 7 1 1 *"
gates:
  approvers:
    users: [U0ANA, U0BEN]
ventures:
  - slug: fernway
    name: Fernway Travel
    stage: growth
    channel: venture-fernway
    timezone: Europe/Lisbon
    synthesis_schedule: "0 6 1 1 *"
    agents:
      - {role: ceo, schedule: "0 9 1 1 *", budget_usd_month: 25}
      - {role: cmo, schedule: "30 9 1 1 *", budget_usd_month: 10}
  - slug: pilot
    name: Pilot
    stage: validation
    channel: venture-pilot
    timezone: America/Chicago
    synthesis_schedule: "0 6 1 1 *"
    agents:
      - {role: ceo, schedule: "0 8 1 1 *", budget_usd_month: 15}
  - slug: quillo
    name: Quillo Notes
    stage: growth
    channel: venture-quillo
    timezone: America/Los_Angeles
    aliases: [quillo app]
    synthesis_schedule: "0 6 1 1 *"
    agents:
      - {role: ceo, schedule: "0 8 1 1 *", budget_usd_month: 15}
  - slug: marlow
    name: Marlow Clinics
    stage: build
    channel: venture-marlow
    timezone: America/New_York
    private: true
    synthesis_schedule: "0 6 1 1 *"
    agents:
      - {role: ceo, schedule: "0 8 1 1 *", budget_usd_month: 15}
  - slug: tandem
    name: Tandem Bikes
    stage: growth
    channel: venture-tandem
    timezone: Europe/Amsterdam
    synthesis_schedule: "0 6 1 1 *"
    agents:
      - {role: ceo, schedule: "0 8 1 1 *", budget_usd_month: 15}
"""


def history_config() -> LumenConfig:
    return parse_config(CONFIG_YAML, source="tests/ask/quality/history.py")


# --- what decisions are about ----------------------------------------------------------------
# topic -> (title, category, rationale, expected effect, tags). Tags name the specific thing a
# decision is about ("linkedin", "soc2"), so a question about that thing can be judged.
Template = tuple[str, str, str, str, tuple[str, ...]]

TEMPLATES: dict[str, list[Template]] = {
    "pricing": [
        ("Bump the monthly {thing} from ${low} to ${high}", "pricing_change",
         "We have not touched rates in a year and costs went up.", "Revenue per subscriber up {n}%", ("increase",)),
        ("Knock {pct}% off annual subscriptions for January", "pricing_change",
         "January buyers respond to a deal, and annual customers churn less.", "{n} annual upgrades", ("discount",)),
        ("Move to per-seat billing for team accounts", "pricing_change",
         "Big teams pay what a single user pays.", "Revenue per account up a fifth", ("seats",)),
        ("Introduce a cheaper Lite tier at ${low}", "pricing_change",
         "People leave at checkout when they see the only option.", "Checkout conversion up {n}%", ("tier",)),
        ("End the free plan for new sign-ups", "pricing_change",
         "Free accounts almost never convert and cost us support time.", "Support load down a third", ("freemium",)),
        ("Keep existing subscribers on their old rate for a year", "pricing_change",
         "Long-time customers were angry about the last increase.", "Fewer cancellations after the change", ("grandfather",)),
        ("Charge ${low} for shipping on orders under $30", "pricing_change",
         "Small orders lose money once postage is paid.", "Margin on small orders back above zero", ("shipping",)),
        ("Run a Black Friday sale: {pct}% off everything", "pricing_change",
         "Competitors all do it and our traffic doubles that week.", "{n} orders over the weekend", ("discount", "sale")),
        ("Offer a student rate at half price", "pricing_change",
         "Students ask for it weekly on support chat.", "{n} student accounts", ("discount",)),
        ("Send lapsed customers a {pct}% coupon code", "pricing_change",
         "A small nudge might bring back people who drifted away.", "{n} win-backs", ("discount", "coupon")),
        ("Add a ${low} late-cancellation fee", "pricing_change",
         "No-shows cost us the slot.", "No-shows down by half", ("fee",)),
        ("Raise what we charge new clients by {pct}%", "pricing_change",
         "We are booked out three weeks ahead.", "Same bookings at higher rates", ("increase",)),
        ("Lower the entry price to ${low} to undercut {rival}", "pricing_change",
         "{rival} is winning the price-sensitive buyers.", "More first purchases", ("decrease",)),
    ],
    "ads": [
        ("Put ${k}k into PPC on Bing for '{keyword}'", "marketing",
         "Search clicks there are a third of what Google charges.", "Cost per sign-up under $9", ("ppc", "bing", "search")),
        ("Try paid social on Instagram for two weeks", "marketing",
         "Our audience lives there and organic reach fell off.", "{n} trials from Instagram", ("paid_social", "instagram")),
        ("Promote the {post} post on LinkedIn", "resource_allocation",
         "It already earns comments from buyers; paying for reach may bring demos.", "{n} demo requests", ("promoted", "linkedin")),
        ("Run banner ads on {site}", "marketing",
         "Their readers are exactly who we sell to.", "{n} visits a week", ("banner", "display")),
        ("Test Google search ads on '{keyword}'", "marketing",
         "People search for this phrase every day and we do not show up.", "Cost per lead under $20", ("search", "google", "ppc")),
        ("Retarget site visitors on Facebook and Instagram", "marketing",
         "Most visitors leave without starting checkout.", "Checkout starts up {n}%", ("retargeting", "facebook", "instagram", "paid_social")),
        ("Buy a host-read spot on the {podcast} podcast", "marketing",
         "Host-read spots convert better than anything we tried.", "{n} promo-code redemptions", ("podcast",)),
        ("Halve the Facebook ad budget", "resource_allocation",
         "Cost per purchase there tripled since spring.", "Same sales for half the money", ("facebook", "paid_social")),
        ("Boost our launch video on TikTok", "resource_allocation",
         "The organic version got a strong hold rate.", "{n} installs", ("tiktok", "promoted", "paid_social")),
        ("Sponsor the {newsletter} newsletter for a month", "marketing",
         "Its readers match the people who buy from us.", "{n} sign-ups from the sponsorship", ("sponsorship", "newsletter_sponsor")),
        ("Stop bidding on our own brand name in Google Ads", "marketing",
         "We rank first organically for it anyway.", "Save $600 a month with no loss of sign-ups", ("google", "search", "ppc")),
        ("YouTube pre-roll test in {city}", "marketing",
         "Video does well for us and pre-roll is cheap locally.", "{n} visits from the test", ("youtube", "video")),
    ],
    "content": [
        ("Start a weekly founder newsletter", "marketing",
         "People who read our emails buy twice as often.", "{n} subscribers by the quarter's end", ("newsletter", "email")),
        ("Write a guide to {subject} for the blog", "marketing",
         "Search traffic for the topic is growing fast.", "{n} organic visits a month", ("blog", "seo")),
        ("Rewrite the top 20 landing pages for search", "marketing",
         "We rank on page two for most of our best phrases.", "Organic sign-ups up {n}%", ("seo",)),
        ("Post a short tip every day on TikTok", "marketing",
         "Short videos reach people who never heard of us.", "{n} followers", ("tiktok", "organic_social")),
        ("Pitch our story to {outlet}", "marketing",
         "A feature there would bring credibility with bigger buyers.", "One feature article", ("press",)),
        ("Host a meetup for {segment} in {city}", "marketing",
         "Meeting people face to face builds trust faster.", "{n} attendees", ("event",)),
        ("Launch on Product Hunt", "marketing",
         "A launch day brings a spike of curious early users.", "{n} sign-ups in a week", ("product_hunt", "launch")),
        ("Send a win-back email series to people who cancelled", "marketing",
         "A third of cancellations say they just forgot about us.", "{n} reactivations", ("email",)),
        ("Publish a case study with {customer}", "marketing",
         "Buyers ask for proof from teams like theirs.", "Sales cycle a week shorter", ("case_study",)),
        ("Get a booth at {fair}", "marketing",
         "Everyone we want to meet is in one hall for three days.", "{n} qualified conversations", ("event", "trade_show")),
    ],
    "hiring": [
        ("Bring on a freelance {role}", "resource_allocation",
         "The backlog in {area} is slowing every release.", "Backlog halved in two months", ("freelance",)),
        ("Open a req for a senior {role}", "hiring",
         "Freelancers have covered {area} for six months.", "Someone starts within eight weeks", ("full_time",)),
        ("Contract a part-time bookkeeper", "resource_allocation",
         "The founders spend every Sunday on receipts.", "Books closed by the 5th each month", ("part_time", "finance")),
        ("Use an agency to find a head of sales", "hiring",
         "Our own search found nobody in three months.", "A signed offer this quarter", ("agency", "sales")),
        ("Take on a summer intern for {area}", "hiring",
         "There is a pile of small work nobody gets to.", "The pile gone by September", ("intern",)),
        ("Backfill the {role} who left", "hiring",
         "The work did not leave with them.", "Role filled within a month", ("backfill",)),
        ("Add two seasonal staff for the busy months", "resource_allocation",
         "Last summer we turned customers away.", "No turned-away bookings", ("seasonal",)),
        ("Recruit a fractional CFO", "hiring",
         "We need board-ready numbers before the raise.", "A finance pack for the board", ("fractional", "finance")),
        ("Grow the support team by one", "resource_allocation",
         "First replies take two days on Mondays.", "First reply under four hours", ("support",)),
    ],
    "product": [
        ("Ship dark mode", "product",
         "It is the most requested feature on the board.", "Fewer complaints about night use", ("dark_mode",)),
        ("Rebuild the checkout page", "product",
         "Checkout breaks on older phones.", "Checkout errors under 1%", ("checkout",)),
        ("Sunset the old Android app", "product",
         "Three hundred people use it and it breaks monthly.", "One less app to maintain", ("android",)),
        ("Beta of {feature} with twenty users", "product",
         "We want feedback before building all of it.", "Twenty teams using it weekly", ("beta",)),
        ("Add an admin role for team accounts", "product",
         "Team owners cannot hand off billing.", "No more billing hand-off tickets", ("admin",)),
        ("Make reports ad hoc: any date range", "product",
         "Fixed monthly reports do not answer the questions people have.", "Report usage doubles", ("reports",)),
        ("Adding bulk CSV import", "product",
         "Switchers bring hundreds of records and give up typing.", "Activation up {n}%", ("import",)),
        ("Redesign the onboarding screens", "product",
         "Half of new users stall at the second screen.", "Activation from 30% to 45%", ("onboarding",)),
        ("Interview ten {segment} about what slows them down", "research",
         "We keep guessing which workflow hurts most.", "A ranked list of the top three problems", ("research",)),
        ("Kill the in-app referral widget", "product",
         "Nobody clicks it and it slows page loads.", "Faster app start", ("referral",)),
    ],
    "partnerships": [
        ("Team up with {partner} on a co-branded bundle", "partnership",
         "Their customers ask for exactly what we make.", "{n} bundle sales a month", ("co_brand",)),
        ("Referral deal with {partner}: 15% per signup", "partnership",
         "They send people to us informally already.", "{n} referred sign-ups a month", ("referral",)),
        ("Get listed in the {store} app store", "new_dependency",
         "Listing there puts us in front of their users.", "{n} installs a month", ("marketplace",)),
        ("Reseller agreement with {partner} in Germany", "partnership",
         "We cannot sell in German ourselves yet.", "First German customers", ("reseller",)),
        ("Co-host a webinar with {partner}", "partnership",
         "We share an audience and neither has a big list.", "{n} registrations", ("webinar", "co_marketing")),
    ],
    "tools": [
        ("Switch payroll to Gusto", "new_dependency",
         "The current provider made two mistakes in three months.", "No payroll errors", ("gusto",)),
        ("Move the support inbox to Help Scout", "new_dependency",
         "Shared Gmail loses threads.", "No lost tickets", ("helpscout",)),
        ("Adopt Linear for issue tracking", "new_dependency",
         "Bugs live in five places.", "One list of bugs", ("linear",)),
        ("Replace Mailchimp with Customer.io", "new_dependency",
         "We need emails triggered by what people do in the app.", "Lifecycle emails live", ("customerio", "email")),
        ("Start using Segment to collect events", "new_dependency",
         "Hand-rolled tracking breaks on every release.", "One source of product events", ("segment",)),
    ],
    "customers": [
        ("Promise {customer} a custom export by {month}", "customer_commitment",
         "{customer} will renew for two years if we do.", "A two-year renewal", ("custom_work",)),
        ("Guarantee 99.9% uptime in the {customer} contract", "customer_commitment",
         "Their procurement will not sign without an SLA.", "A signed contract", ("sla",)),
        ("Agree to on-site training for {customer}", "customer_commitment",
         "Their staff will not use it without a walkthrough.", "Usage across all their sites", ("training",)),
        ("Give {customer} a dedicated account manager", "customer_commitment",
         "They are a fifth of our revenue.", "They renew", ("account_manager",)),
        ("Commit to shipping the SSO connector for {customer} by {month}", "customer_commitment",
         "It is the only thing blocking their rollout.", "Rollout to 400 seats", ("sso", "custom_work")),
        ("Lock {customer}'s rate for two years", "customer_commitment",
         "They want budget certainty to sign a longer deal.", "A three-year deal", ("rate_lock",)),
    ],
    "security": [
        ("Kick off SOC 2 Type II", "security",
         "Enterprise buyers ask for the report in every review.", "A Type II report within a year", ("soc2",)),
        ("Turn on two-factor login for all staff accounts", "security",
         "Shared passwords are our biggest takeover risk.", "No staff login without a second factor", ("2fa",)),
        ("Get an outside pen test before the enterprise launch", "security",
         "Nobody outside has ever tried to break in.", "All high findings fixed within a month", ("pentest",)),
        ("HIPAA risk assessment for patient records", "compliance",
         "We store health details and have never assessed the risk.", "A signed assessment", ("hipaa",)),
        ("Rotate every API key each quarter", "security",
         "Old keys outlive the people who had them.", "No key older than 90 days", ("keys",)),
        ("Build a GDPR data-deletion flow", "compliance",
         "European users must be able to erase their data.", "Deletion requests handled in a day", ("gdpr",)),
    ],
    "operations": [
        ("Plan the team offsite in {city}", "operations",
         "We have not all been in one room this year.", "A plan for the next two quarters", ("offsite",)),
        ("Change support hours to 8-8 on weekdays", "operations",
         "Most tickets arrive in the early evening.", "Evening tickets answered the same day", ("support_hours",)),
        ("Close the workshop on Mondays", "operations",
         "Mondays bring in almost nothing.", "Lower costs with the same sales", ("opening_hours",)),
        ("Open a second location in {city}", "expansion",
         "Half our online orders come from there.", "Break even in a year", ("location",)),
        ("Move to a four-day week for a trial month", "operations",
         "Burnout showed up in the last survey.", "Same output, happier team", ("four_day_week",)),
    ],
    "spend": [
        ("Lease a second {machine} for ${k},800", "resource_allocation",
         "The one we have runs at capacity every morning.", "Twice the morning output", ("equipment",)),
        ("Buy new laptops for the team", "resource_allocation",
         "Builds take ten minutes on the old machines.", "Builds under three minutes", ("equipment",)),
        ("Double the cloud hosting budget for the launch", "resource_allocation",
         "The launch could bring ten times the usual traffic.", "No downtime during the launch", ("cloud",)),
        ("Cut the AWS bill by moving to reserved instances", "resource_allocation",
         "We pay on-demand rates for servers that never turn off.", "Hosting costs down 35%", ("cloud", "savings")),
    ],
}
# What a pilot is to the ventures that run one: a common word, not the venture named Pilot.
PILOT_PROGRAMS: list[Template] = [
    ("Run a pilot program with {customer} for six weeks", "customer_commitment",
     "{customer} wants to try it on one team before buying for all.", "A signed order after the pilot", ("pilot_program",)),
    ("Pilot same-day delivery in {city}", "operations",
     "Customers there keep asking whether we can deliver faster.", "{n} same-day orders a week", ("pilot_program",)),
]
FILL = {
    "thing": ["coffee box", "plan", "subscription", "membership", "service"],
    "rival": ["Brightline", "Notely", "RideCo", "Sundial"],
    "keyword": ["expense tracker", "bike repair near me", "note taking app", "weekend trips", "walk-in clinic"],
    "post": ["customer story", "founder letter", "product update", "behind the scenes"],
    "site": ["Bike Radar", "Lonely Planet", "The Verge", "MedPage Today"],
    "podcast": ["Tiny Business", "The Long Ride", "Notes on Notes", "Frontier Health"],
    "newsletter": ["Morning Brew", "Lenny's", "The Hustle", "Health IT Brief"],
    "city": ["Lisbon", "Austin", "Rotterdam", "Denver", "Leeds"],
    "subject": ["packing light", "bike maintenance", "note-taking systems", "seasonal allergies"],
    "outlet": ["TechCrunch", "Wired", "the local paper", "Fast Company"],
    "segment": ["travel agents", "cycling clubs", "teachers", "clinic managers"],
    "customer": ["Globex", "Initech", "Umbrella", "Hooli", "Soylent", "Vandelay"],
    "fair": ["ITB Berlin", "Eurobike", "SaaStock", "HIMSS"],
    "role": ["illustrator", "backend developer", "customer support lead", "copywriter", "data analyst"],
    "area": ["design", "the API", "support", "finance", "operations"],
    "feature": ["shared notebooks", "trip planner", "ride tracking", "patient reminders", "offline sync"],
    "partner": ["Shopify", "Notion", "Strava", "Airbnb", "Zocdoc"],
    "store": ["Shopify", "Zapier", "Slack", "Atlassian"],
    "month": ["March", "June", "September", "December"],
    "machine": ["espresso machine", "wheel truing stand", "label printer", "ultrasound unit"],
}
WEIGHTS: dict[str, dict[str, int]] = {
    "fernway": {"pricing": 3, "ads": 3, "content": 3, "hiring": 1, "product": 2, "partnerships": 2, "tools": 1,
                "customers": 1, "security": 1, "operations": 1, "spend": 1},
    "pilot": {"pricing": 2, "ads": 2, "content": 2, "hiring": 2, "product": 3, "partnerships": 1, "tools": 1,
              "customers": 2, "security": 1, "operations": 1, "spend": 1},
    "quillo": {"pricing": 3, "ads": 2, "content": 2, "hiring": 2, "product": 3, "partnerships": 1, "tools": 2,
               "customers": 1, "security": 2, "operations": 1, "spend": 1},
    "marlow": {"pricing": 2, "ads": 1, "content": 1, "hiring": 3, "product": 1, "partnerships": 1, "tools": 1,
               "customers": 2, "security": 3, "operations": 2, "spend": 1},
    "tandem": {"pricing": 2, "ads": 3, "content": 2, "hiring": 2, "product": 1, "partnerships": 2, "tools": 1,
               "customers": 1, "security": 1, "operations": 2, "spend": 2},
}
PER_MONTH = {"fernway": 4, "pilot": 4, "quillo": 4, "marlow": 3, "tandem": 3}
MONTHS = 24
REJECTIONS = [
    "Not with the cash we have this quarter.",
    "Legal hasn't looked at the terms yet.",
    "We told customers nothing would change until autumn.",
    "Wait until the current test has a result.",
    "Wrong audience for us.",
]
NOTES = {
    "success": ["Beat the target.", "Worth doing again next season.", None],
    "failure": ["Cost five times the target per result.", "Nothing moved after a month.", None],
    "mixed": ["Helped one group, hurt another.", "Moved the number, but less than hoped.", None],
    "unknown": ["Too early to tell.", None],
}


@dataclass(frozen=True)
class Planned:
    key: str
    venture: str
    role: str
    topic: str
    tags: tuple[str, ...]
    category: str
    title: str
    rationale: str
    expected_effect: str
    at: datetime  # UTC
    status: str  # executed | rejected | expired | awaiting_approval
    approval: str | None = None  # the approval's status, when a human was asked
    verdicts: tuple[str, ...] = ()  # in recording order; the last one counts
    reason: str | None = None
    amount: str | None = None
    note: str | None = None
    extra_topics: tuple[str, ...] = field(default=())  # also fairly about these (e.g. a rate lock is pricing too)

    @property
    def local(self) -> datetime:
        return self.at.astimezone(LOCAL)

    @property
    def local_date(self) -> date:
        return self.local.date()

    @property
    def verdict(self) -> str | None:
        return self.verdicts[-1] if self.verdicts else None

    @property
    def corrected(self) -> bool:
        return len(self.verdicts) > 1

    @property
    def slack_ts(self) -> str:
        return f"{int(self.at.timestamp())}.{zlib.crc32(self.key.encode()) % 1_000_000:06d}"

    @property
    def permalink(self) -> str:
        return f"https://{TEAM_DOMAIN}/archives/{CHANNEL_IDS[self.venture]}/p{self.slack_ts.replace('.', '')}"

    def about(self, *topics: str) -> bool:
        return self.topic in topics or bool(set(self.extra_topics) & set(topics))

    def in_local(self, start: date | None, end: date | None) -> bool:
        day = self.local_date
        return (start is None or day >= start) and (end is None or day < end)


def _month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _values(rng: random.Random) -> dict[str, object]:
    values: dict[str, object] = {name: rng.choice(options) for name, options in FILL.items()}
    low = rng.choice([9, 12, 19, 24, 29, 49])
    values |= {"low": low, "high": low + rng.choice([2, 3, 5, 10]), "n": rng.randint(3, 80),
               "pct": rng.choice([10, 15, 20, 25]), "k": rng.randint(1, 5)}
    return values


EXTRA_TOPICS = {("customers", "rate_lock"): ("pricing",), ("partnerships", "co_marketing"): ("content",)}


def _fate(rng: random.Random, at: datetime, now: datetime, category: str) -> tuple[str, str | None, tuple[str, ...], str | None]:
    """(status, approval status, verdicts, rejection reason)."""
    roll = rng.random()
    if roll < 0.08:
        return "rejected", "rejected", (), rng.choice(REJECTIONS)
    if roll < 0.12 and now - at > timedelta(days=7):
        return "expired", "expired", (), None
    if now - at < timedelta(days=14):
        if roll < 0.45:
            return "awaiting_approval", "pending", (), None
        return "executed", None, (), None
    approval = "approved" if rng.random() < 0.3 else None
    roll = rng.random()
    if roll < 0.36:
        final = "success"
    elif roll < 0.64:
        final = "failure"
    elif roll < 0.78:
        final = "mixed"
    elif roll < 0.82:
        final = "unknown"
    else:
        return "executed", approval, (), None
    if rng.random() < 0.13:
        first = rng.choice([v for v in ("success", "failure", "mixed") if v != final])
        return "executed", approval, (first, final), None
    return "executed", approval, (final,), None


def _plan(rng: random.Random, venture: str, topic: str, at: datetime, now: datetime, key: str) -> Planned:
    if topic == "operations" and venture != "pilot" and rng.random() < 0.3:
        choices = PILOT_PROGRAMS
    else:
        choices = TEMPLATES[topic]
    title, category, rationale, effect, tags = rng.choice(choices)
    role = "cmo" if venture == "fernway" and topic in ("ads", "content") else "ceo"
    status, approval, verdicts, reason = _fate(rng, at, now, category)
    values = _values(rng)
    amount = None
    if category == "resource_allocation" or topic == "spend":
        amount = str(rng.choice([300, 650, 1200, 2400, 3800, 9000]))
    note = rng.choice(NOTES[verdicts[-1]]) if verdicts else None
    extra = tuple(t for tag in tags for t in EXTRA_TOPICS.get((topic, tag), ()))
    return Planned(
        key=key, venture=venture, role=role, topic=topic, tags=tags, category=category,
        title=title.format(**values), rationale=rationale.format(**values), expected_effect=effect.format(**values),
        at=at, status=status, approval=approval, verdicts=verdicts, reason=reason, amount=amount, note=note,
        extra_topics=extra,
    )


def _fixed() -> list[Planned]:
    """Records that sit on edges the questions probe (quarter and year ends in New York)."""
    return [
        # 2026-04-01 03:30 UTC is still 31 March (Q1) in New York.
        Planned("edge-q1", "quillo", "ceo", "pricing", ("increase",), "pricing_change",
                "Bump the Pro subscription from $8 to $10", "Costs went up.", "Revenue per subscriber up 20%",
                datetime(2026, 4, 1, 3, 30, tzinfo=UTC), "executed", None, ("success",)),
        # 2026-01-01 04:00 UTC is still 31 December 2025 in New York.
        Planned("edge-year", "tandem", "ceo", "ads", ("ppc", "google", "search"), "marketing",
                "Year-end PPC push on 'winter bike service'", "Searches peak in the last week of December.",
                "Cost per booking under $15", datetime(2026, 1, 1, 4, 0, tzinfo=UTC), "executed", None, ("failure", "mixed")),
    ]


def generate(now: datetime = NOW, *, seed: int = 20260617) -> list[Planned]:
    rng = random.Random(seed)
    plans: list[Planned] = []
    first_month = _month_add(now.astimezone(LOCAL).date().replace(day=1), -MONTHS)
    earliest = now - timedelta(days=730)
    for venture in ("fernway", "pilot", "quillo", "marlow", "tandem"):
        topics = [t for t, w in WEIGHTS[venture].items() for _ in range(w)]
        for month_index in range(MONTHS + 1):
            month = _month_add(first_month, month_index)
            for n in range(PER_MONTH[venture]):
                day = rng.randint(1, 28)
                at = datetime(month.year, month.month, day, rng.randint(13, 23), rng.randint(0, 59), tzinfo=UTC)
                topic = rng.choice(topics)
                key = f"{venture}-{month:%Y%m}-{n}"
                plan = _plan(rng, venture, topic, at, now, key)
                if earliest <= at < now - timedelta(hours=3):
                    plans.append(plan)
    if now == NOW:
        plans += _fixed()
    plans.sort(key=lambda p: (p.at, p.key))
    return plans


# --- writing it --------------------------------------------------------------------------------


async def write_history(session: AsyncSession, plans: list[Planned]) -> dict[str, int]:
    """Write the plan through the ORM; returns decision id by plan key."""
    ventures = {v.slug: v for v in (await session.scalars(select(Venture))).all()}
    for slug, channel_id in CHANNEL_IDS.items():
        ventures[slug].channel_id = channel_id
    agents = {(a.venture_id, a.role): a for a in (await session.scalars(select(Agent))).all()}
    runs = []
    for plan in plans:
        venture = ventures[plan.venture]
        runs.append(
            Run(
                kind=RunKind.WAKE, venture_id=venture.id, agent_id=agents[(venture.id, plan.role)].id,
                trigger=RunTrigger.SCHEDULE, idempotency_key=f"quality:{plan.key}:{uuid.uuid4().hex[:8]}",
                status=RunStatus.SUCCEEDED, scheduled_for=plan.at, started_at=plan.at,
                finished_at=plan.at + timedelta(minutes=2), created_at=plan.at,
            )
        )
    session.add_all(runs)
    await session.flush()
    decisions = []
    for plan, run in zip(plans, runs):
        status = DecisionStatus(plan.status)
        decisions.append(
            Decision(
                run_id=run.id, ordinal=0, venture_id=run.venture_id, agent_id=run.agent_id,
                category=plan.category, title=plan.title, rationale=plan.rationale,
                expected_effect=plan.expected_effect, amount_usd=Decimal(plan.amount) if plan.amount else None,
                status=status, slack_channel_id=CHANNEL_IDS[plan.venture], slack_ts=plan.slack_ts,
                permalink=plan.permalink, created_at=plan.at,
                resolved_at=None if status == DecisionStatus.AWAITING_APPROVAL else plan.at + timedelta(hours=3),
                executed_at=plan.at + timedelta(hours=3) if status == DecisionStatus.EXECUTED else None,
            )
        )
    session.add_all(decisions)
    await session.flush()
    for plan, run, decision in zip(plans, runs, decisions):
        if plan.approval is None:
            continue
        pending = plan.approval == "pending"
        session.add(
            Approval(
                decision_id=decision.id, run_id=run.id, venture_id=decision.venture_id,
                status=ApprovalStatus(plan.approval), approvers={"users": ["U0ANA", "U0BEN"]},
                expires_at=plan.at + timedelta(hours=72), resolved_by=None if pending or plan.approval == "expired" else "U0ANA",
                resolved_at=None if pending else plan.at + timedelta(hours=3 if plan.approval != "expired" else 72),
                reason=plan.reason, created_at=plan.at,
            )
        )
    first: dict[int, Outcome] = {}
    for rank in (0, 1):
        for plan, decision in zip(plans, decisions):
            if len(plan.verdicts) <= rank:
                continue
            verdict = plan.verdicts[rank]
            outcome = Outcome(
                decision_id=decision.id, verdict=Verdict(verdict), metric="the number we watched",
                metric_before=100.0,
                metric_after={"success": 130.0, "failure": 95.0, "mixed": 104.0, "unknown": 100.0}[verdict],
                note=plan.note if rank == len(plan.verdicts) - 1 else None, reported_by="U0ANA", source="slack",
                supersedes_id=first[decision.id].id if rank == 1 else None,
                created_at=plan.at + timedelta(days=10 * (rank + 1)),
            )
            session.add(outcome)
            first.setdefault(decision.id, outcome)
        await session.flush()
    return {plan.key: decision.id for plan, decision in zip(plans, decisions)}

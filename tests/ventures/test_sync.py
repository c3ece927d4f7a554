from sqlalchemy import func, select

from lumen.config import LumenConfig, parse_config
from lumen.db.models import Agent, GatePolicyVersion, Venture
from lumen.db.session import Database
from lumen.ventures.sync import sync_config


async def test_sync_is_idempotent(db: Database, example_config: LumenConfig) -> None:
    async with db.transaction() as session:
        first = await sync_config(session, example_config)
    async with db.transaction() as session:
        second = await sync_config(session, example_config)
    assert "venture acme" in " ".join(first.lines())
    assert not second.changed
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Venture)) == 2
        assert await session.scalar(select(func.count()).select_from(Agent)) == 3
        assert await session.scalar(select(func.count()).select_from(GatePolicyVersion)) == 1


async def test_removed_ventures_are_archived_and_policy_changes_are_new_versions(
    db: Database, example_config: LumenConfig
) -> None:
    async with db.transaction() as session:
        await sync_config(session, example_config)
    smaller = parse_config(
        """
gates: {approvers: [U0BOB], expiry_hours: 24}
ventures:
  - {slug: acme, name: Acme Renamed, channel: venture-acme, stage: scale,
     agents: [{role: ceo, schedule: "0 9 * * 1"}]}
"""
    )
    async with db.transaction() as session:
        report = await sync_config(session, smaller)
    assert "archived venture brightbox" in report.lines()
    assert "archived agent acme/cmo" in report.lines()
    assert report.policy_changed and report.policy_version == 2
    async with db.sessions() as session:
        acme = await session.scalar(select(Venture).where(Venture.slug == "acme"))
        brightbox = await session.scalar(select(Venture).where(Venture.slug == "brightbox"))
    assert (acme.name, acme.stage, acme.archived_at) == ("Acme Renamed", "scale", None)
    assert brightbox.archived_at is not None
    # Bringing it back un-archives it with its history intact.
    async with db.transaction() as session:
        again = await sync_config(session, example_config)
    assert "updated venture brightbox" in again.lines()


async def test_sync_writes_the_venture_and_daily_envelopes_and_clears_them(db: Database) -> None:
    from decimal import Decimal

    text = """
gates: {approvers: [U0BOB]}
ventures:
  - {slug: acme, name: Acme, channel: venture-acme, budget_usd_month: 60, budget_usd_day: 5,
     agents: [{role: ceo, schedule: "0 9 * * 1", budget_usd_month: 25, budget_usd_day: 3}]}
"""
    async with db.transaction() as session:
        await sync_config(session, parse_config(text))
    async with db.sessions() as session:
        acme = await session.scalar(select(Venture).where(Venture.slug == "acme"))
        ceo = await session.scalar(select(Agent).where(Agent.role == "ceo"))
    assert (acme.budget_usd_month, acme.budget_usd_day) == (Decimal(60), Decimal(5))
    assert (ceo.budget_usd_month, ceo.budget_usd_day) == (Decimal(25), Decimal(3))
    async with db.transaction() as session:
        report = await sync_config(session, parse_config(text.replace(", budget_usd_day: 5", "").replace(", budget_usd_day: 3", "")))
    assert "updated venture acme" in report.lines() and "updated agent acme/ceo" in report.lines()
    async with db.sessions() as session:
        acme = await session.scalar(select(Venture).where(Venture.slug == "acme"))
        ceo = await session.scalar(select(Agent).where(Agent.role == "ceo"))
    assert acme.budget_usd_day is None and ceo.budget_usd_day is None

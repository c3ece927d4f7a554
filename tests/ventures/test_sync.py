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

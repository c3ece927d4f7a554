"""`lumen sync`: apply lumen.yml to the database, idempotently.

Ventures and agents that leave the file are archived, never deleted: their
runs, decisions and brains stay readable. A file that lists no venture at all (empty, or
half written) archives nothing: it is far likelier a mistake than a wish to stop every
venture, so that takes `lumen sync --prune`. The gate policy becomes a new
version only when it changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.db.base import utcnow
from lumen.db.models import Agent, GatePolicyVersion, Venture
from lumen.domain.config import LumenConfig, VentureConfig


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # left out of a file with no ventures, not archived
    policy_version: int | None = None
    policy_changed: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.archived or self.policy_changed)

    def lines(self) -> list[str]:
        out = [f"created {name}" for name in self.created]
        out += [f"updated {name}" for name in self.updated]
        out += [f"archived {name}" for name in self.archived]
        if self.kept:
            out.append(
                f"kept {', '.join(self.kept)} and gate policy version {self.policy_version}: lumen.yml "
                "lists no ventures, so nothing changed (run `lumen sync --prune` to archive them)"
            )
        if self.policy_changed:
            out.append(f"gate policy is now version {self.policy_version}")
        return out or ["nothing to change"]


def _jsonable(value: object) -> object:
    return json.loads(json.dumps(value, default=str))


def _venture_fields(cfg: VentureConfig) -> dict[str, object]:
    return {
        "name": cfg.name,
        "stage": cfg.stage,
        "channel": cfg.channel,
        "timezone": cfg.timezone,
        "private": cfg.private,
        "aliases": list(cfg.aliases),
        "goals": list(cfg.goals),
        "playbook": _jsonable([a.model_dump(mode="json") for a in cfg.playbook]),
        "budget_usd_month": cfg.budget_usd_month,
        "budget_usd_day": cfg.budget_usd_day,
        "gate_overrides": _jsonable(
            {k: v.model_dump(mode="json", exclude_none=True) for k, v in cfg.gates.items()}
        ),
    }


def _apply(obj: object, values: dict[str, object]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


async def sync_config(session: AsyncSession, config: LumenConfig, *, prune: bool = False) -> SyncReport:
    """Apply the file. `prune`: archive the ventures even when the file lists none."""
    report = SyncReport()
    now = utcnow()
    ventures = {v.slug: v for v in (await session.scalars(select(Venture))).all()}
    agents = (await session.scalars(select(Agent))).all()
    agents_by_venture: dict[int, dict[str, Agent]] = {}
    for agent in agents:
        agents_by_venture.setdefault(agent.venture_id, {})[agent.role] = agent

    for cfg in config.ventures:
        venture = ventures.get(cfg.slug)
        fields = _venture_fields(cfg)
        if venture is None:
            venture = Venture(slug=cfg.slug, **fields)
            session.add(venture)
            await session.flush()
            report.created.append(f"venture {cfg.slug}")
        else:
            changed = _apply(venture, fields)
            if venture.archived_at is not None:
                venture.archived_at = None
                changed = True
            if changed:
                report.updated.append(f"venture {cfg.slug}")
        existing = agents_by_venture.get(venture.id, {})
        for agent_cfg in cfg.agents:
            values = {
                "schedule": agent_cfg.schedule,
                "model_tier": agent_cfg.model_tier,
                "budget_usd_month": agent_cfg.budget_usd_month,
                "budget_usd_day": agent_cfg.budget_usd_day,
                "triggers": agent_cfg.triggers.model_dump(mode="json", exclude_defaults=True),
            }
            agent = existing.get(agent_cfg.role)
            if agent is None:
                session.add(Agent(venture_id=venture.id, role=agent_cfg.role, **values))
                report.created.append(f"agent {cfg.slug}/{agent_cfg.role}")
            else:
                changed = _apply(agent, values)
                if agent.archived_at is not None:
                    agent.archived_at = None
                    changed = True
                if changed:
                    report.updated.append(f"agent {cfg.slug}/{agent_cfg.role}")
        roles = {a.role for a in cfg.agents}
        for role, agent in existing.items():
            if role not in roles and agent.archived_at is None:
                agent.archived_at = now
                report.archived.append(f"agent {cfg.slug}/{role}")

    slugs = {v.slug for v in config.ventures}
    keep = not config.ventures and not prune
    for slug, venture in ventures.items():
        if slug not in slugs and venture.archived_at is None:
            if keep:
                report.kept.append(f"venture {slug}")
                continue
            venture.archived_at = now
            report.archived.append(f"venture {slug}")
            for agent in agents_by_venture.get(venture.id, {}).values():
                agent.archived_at = agent.archived_at or now

    if report.kept:  # the gates of the ventures kept stay as they were, too
        report.policy_version = await session.scalar(select(func.max(GatePolicyVersion.version)))
    else:
        await _sync_policy(session, config, report)
    await session.flush()
    return report


async def _sync_policy(session: AsyncSession, config: LumenConfig, report: SyncReport) -> None:
    policy = config.gates.model_dump(mode="json")
    checksum = hashlib.sha256(json.dumps(policy, sort_keys=True).encode()).hexdigest()
    latest = await session.scalar(
        select(GatePolicyVersion).order_by(GatePolicyVersion.version.desc()).limit(1)
    )
    if latest is not None and latest.checksum == checksum:
        report.policy_version = latest.version
        return
    version = (await session.scalar(select(func.max(GatePolicyVersion.version)))) or 0
    session.add(GatePolicyVersion(version=version + 1, checksum=checksum, policy=policy))
    report.policy_version = version + 1
    report.policy_changed = True

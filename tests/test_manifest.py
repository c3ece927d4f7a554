"""manifest.yml must create the app in one step: it validates against Slack's schema."""

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).parents[1]
SCHEMA = Path(__file__).parent / "fixtures" / "slack" / "slack-manifest.schema.1.0.0.json"


def _manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_validates_against_slacks_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(_manifest()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_manifest_declares_what_lumen_listens_to() -> None:
    manifest = _manifest()
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert commands == {"/lumen"}
    # message.channels / message.groups: replies in a decision's thread wake its agent.
    assert events == {"app_mention", "app_home_opened", "message.im", "message.channels", "message.groups", "assistant_thread_started"}
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_manifest_asks_for_the_least_scopes() -> None:
    scopes = set(_manifest()["oauth_config"]["scopes"]["bot"])
    # Channel history only for replies in decision threads (the listener drops the rest at once);
    # user emails are never needed.
    assert {"channels:history", "groups:history"} <= scopes
    assert not scopes & {"users:read.email", "chat:write.public"}
    assert {"commands", "chat:write", "app_mentions:read", "im:history"} <= scopes
    # files.getUploadURLExternal and files.completeUploadExternal: the weekly chart.
    assert "files:write" in scopes and "files:read" not in scopes


def test_the_schema_is_actually_strict() -> None:
    schema = json.loads(SCHEMA.read_text())
    bad = _manifest() | {"unknown_top_level": True}
    assert list(jsonschema.Draft7Validator(schema).iter_errors(bad))

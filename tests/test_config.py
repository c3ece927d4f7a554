from pathlib import Path

import pytest

from lumen.config import load_config, parse_config
from lumen.settings import Settings, normalize_database_url
from lumen.errors import ConfigError

MINIMAL = """
gates:
  approvers: [U0ALICE]
ventures:
  - slug: acme
    name: Acme
    channel: venture-acme
"""


def test_example_config_declares_two_ventures_with_gated_playbook_actions(example_config) -> None:
    assert len(example_config.ventures) >= 2
    categories = {a.category for v in example_config.ventures for a in v.playbook}
    assert {"pricing_change", "resource_allocation", "stage_transition"} <= categories


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (MINIMAL.replace("slug: acme", "slug: Acme!"), r"ventures\[0=Acme!\]\.slug: 'Acme!' is not a valid slug"),
        (MINIMAL + "    timezone: Mars/Olympus\n", r"ventures\[0=acme\]\.timezone: unknown time zone"),
        (MINIMAL + "    agents: [{role: ceo, schedule: 'every day'}]\n", r"agents\[0=ceo\]\.schedule: .*five-field cron"),
        (MINIMAL + "    colour: blue\n", r"ventures\[0=acme\]\.colour: Extra inputs are not permitted"),
        (MINIMAL.replace("[U0ALICE]", "[alice]"), r"gates\.approvers\.users: .*'alice' is not a Slack user ID"),
        (MINIMAL.replace("  approvers: [U0ALICE]\n", ""), r"gate 'pricing_change' has no approver"),
        ("ventures: [unclosed", r"lumen.yml:1:\d+: not valid YAML"),
        ("- just\n- a list\n", "top level must be a mapping"),
    ],
)
def test_validation_errors_name_the_file_the_field_and_the_problem(yaml_text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as info:
        parse_config(yaml_text, source="lumen.yml")
    assert str(info.value).startswith("lumen.yml")


def test_duplicate_slugs_and_channels_are_refused() -> None:
    text = MINIMAL + "  - slug: acme\n    name: Other\n    channel: venture-other\n"
    with pytest.raises(ConfigError, match="slugs must be unique"):
        parse_config(text)


def test_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="lumen init"):
        load_config(tmp_path / "nope.yml")


def test_settings_keep_the_documented_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_APP_TOKEN": "xapp-1",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "LUMEN_DATABASE_URL": "postgres://u@h/db",
        "LUMEN_CONFIG": "/etc/lumen.yml",
        "LUMEN_PORT": "8080",
        "LUMEN_MODEL_FAST": "openai/gpt-4o-mini",
        "LUMEN_MODEL_STRONG": "openai/gpt-4o",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.socket_mode
    assert settings.slack_api_url == env["SLACK_API_URL"]
    assert settings.normalized_database_url == "postgresql+asyncpg://u@h/db"
    assert str(settings.config_path) == "/etc/lumen.yml"
    assert settings.port == 8080
    assert (settings.model_fast, settings.model_strong) == ("openai/gpt-4o-mini", "openai/gpt-4o")


def test_defaults_need_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("LUMEN_DATABASE_URL", "LUMEN_MODEL_STRONG", "LUMEN_PORT", "SLACK_API_URL"):
        monkeypatch.delenv(key, raising=False)
    settings = Settings()
    assert settings.database_url.startswith("sqlite")
    assert settings.model_strong.startswith("lumen-offline/")
    assert settings.port == 3000
    assert settings.slack_api_url == "https://slack.com/api/"


def test_database_urls_people_paste_get_the_async_driver() -> None:
    assert normalize_database_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    assert normalize_database_url("postgresql://a@b/c") == "postgresql+asyncpg://a@b/c"


def test_envelopes_for_agents_ventures_and_the_workspace_parse_and_refuse_negatives() -> None:
    from decimal import Decimal

    from lumen.config import parse_config
    from lumen.errors import ConfigError

    text = """
workspace: {budget_usd_month: 200, budget_usd_day: 20}
gates: {approvers: [U0ALICE]}
ventures:
  - slug: acme
    name: Acme
    channel: venture-acme
    budget_usd_month: 60
    agents:
      - {role: ceo, schedule: "0 9 * * 1", budget_usd_month: 25, budget_usd_day: 3}
      - {role: cmo, schedule: "0 9 * * 1"}
"""
    config = parse_config(text)
    assert (config.workspace.budget_usd_month, config.workspace.budget_usd_day) == (Decimal(200), Decimal(20))
    acme = config.ventures[0]
    assert (acme.budget_usd_month, acme.budget_usd_day) == (Decimal(60), None)
    assert acme.agents[0].budget_usd_day == Decimal(3) and acme.agents[1].budget_usd_day is None
    with pytest.raises(ConfigError) as caught:
        parse_config(text.replace("budget_usd_day: 3", "budget_usd_day: -1"))
    assert "ventures[0=acme].agents[0=ceo].budget_usd_day" in str(caught.value)

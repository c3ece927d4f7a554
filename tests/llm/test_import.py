"""Importing the gateway must stay cheap: litellm (seconds to import) loads on the first call."""

from __future__ import annotations

import subprocess
import sys


def test_importing_lumen_llm_does_not_import_litellm() -> None:
    code = (
        "import sys\n"
        "import lumen.llm, lumen.llm.gateway, lumen.llm.ledger, lumen.domain.proposals\n"
        "assert 'litellm' not in sys.modules, 'litellm was imported'\n"
        "from lumen.llm import _litellm\n"
        "assert not _litellm.is_imported()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_first_call_configures_litellm_offline_and_quiet() -> None:
    code = (
        "import os, logging\n"
        "os.environ.pop('LITELLM_LOCAL_MODEL_COST_MAP', None)\n"
        "from lumen.llm._litellm import litellm\n"
        "lm = litellm()\n"
        "assert os.environ['LITELLM_LOCAL_MODEL_COST_MAP'] == 'True'\n"
        "assert lm.success_callback == [] and lm.failure_callback == []\n"
        "assert lm.suppress_debug_info is True\n"
        "assert logging.getLogger('LiteLLM').level == logging.ERROR\n"
        "assert any(p['provider'] == 'lumen-offline' for p in lm.custom_provider_map)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr

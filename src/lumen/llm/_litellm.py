"""The one place that imports litellm: lazily, offline, and quiet.

Importing litellm takes seconds, and by default it fetches its price map from GitHub at
import. `lumen --help`, the Slack listeners and most tests never call a model, so nothing
imports litellm until the first model call asks for it here.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from types import ModuleType

_lock = threading.Lock()
_module: ModuleType | None = None

# litellm reads these at import or on first use; each one otherwise reaches for the network.
_OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_LOCAL_BLOG_POSTS": "True",
}
_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")


def litellm() -> ModuleType:
    """litellm, imported and configured once, with the offline provider registered."""
    global _module
    if _module is not None:
        return _module
    with _lock:
        if _module is None:
            for key, value in _OFFLINE_ENV.items():
                os.environ.setdefault(key, value)
            import litellm as module

            _configure(module)
            from lumen.llm.offline import register_offline_provider

            register_offline_provider(module)
            _module = module
    return _module


def _configure(module: ModuleType) -> None:
    # No callbacks: a success/failure callback is how litellm would ship prompts elsewhere.
    module.success_callback = []
    module.failure_callback = []
    module._async_success_callback = []
    module._async_failure_callback = []
    module.callbacks = []
    # Our gateway retries and falls back; litellm's own retries would multiply the attempts.
    module.num_retries = 0
    # Its banners ("Give Feedback / Get Help") go to stdout; our logs say what failed.
    module.suppress_debug_info = True
    module.set_verbose = False
    module.disable_hf_tokenizer_download = True
    for name in _LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    # Pydantic warns once about a TypedDict deep inside litellm; nothing an operator can act on.
    warnings.filterwarnings(
        "ignore", message=r".*is using the `ReadOnly` qualifier", category=UserWarning
    )


def is_imported() -> bool:
    return _module is not None

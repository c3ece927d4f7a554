"""devslack — a small, standalone Slack look-alike for development, demos and tests.

The Lumen app talks to it through slack_sdk with ``base_url=<workspace>/api/``; people use
the page at ``/``; tests drive it through the async methods of :class:`Workspace`.
"""

from . import persistence
from .delivery import Attempt, Delivery
from .models import AssistantThread, Channel, Message, User, UserGroup, View
from .server import create_app, start
from .workspace import ApiCall, Workspace

__all__ = [
    "ApiCall", "AssistantThread", "Attempt", "Channel", "Delivery", "Message", "User", "UserGroup", "View",
    "Workspace", "create_app", "persistence", "start",
]

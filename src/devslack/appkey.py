"""The aiohttp application key under which the Workspace is stored."""

from typing import Any

from aiohttp import web

WORKSPACE: web.AppKey[Any] = web.AppKey("devslack_workspace", object)

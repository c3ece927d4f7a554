"""users.*, usergroups.*, team.info, bots.info."""

from __future__ import annotations

from . import ApiError, Request, method, paginate


@method("users.info")
async def users_info(req: Request) -> dict:
    user = req.ws.users.get(req.require("user", "user_not_found"))
    if user is None:
        raise ApiError("user_not_found")
    return {"user": user.to_slack(req.ws.team_id)}


@method("users.list")
async def users_list(req: Request) -> dict:
    members = [u.to_slack(req.ws.team_id) for u in req.ws.users.values()]
    page, meta = paginate(members, req, default_limit=1000)
    return {"members": page, "cache_ts": 1732170000, "response_metadata": meta}


@method("users.lookupByEmail")
async def users_lookup_by_email(req: Request) -> dict:
    email = req.require("email", "users_not_found").lower()
    user = next((u for u in req.ws.users.values() if u.email.lower() == email), None)
    if user is None:
        raise ApiError("users_not_found")
    return {"user": user.to_slack(req.ws.team_id)}


@method("usergroups.list")
async def usergroups_list(req: Request) -> dict:
    include = req.flag("include_users")
    return {"usergroups": [g.to_slack(req.ws.team_id, include) for g in req.ws.usergroups.values()]}


@method("usergroups.users.list")
async def usergroups_users_list(req: Request) -> dict:
    group = req.ws.usergroups.get(req.require("usergroup", "no_such_subteam"))
    if group is None:
        raise ApiError("no_such_subteam")
    return {"users": list(group.users)}


@method("team.info")
async def team_info(req: Request) -> dict:
    ws = req.ws
    return {"team": {"id": ws.team_id, "name": ws.team_name, "url": f"{ws.base_url}/", "domain": ws.domain,
                     "email_domain": "example.com", "icon": {"image_default": True}, "is_verified": False}}


@method("bots.info")
async def bots_info(req: Request) -> dict:
    ws = req.ws
    if req.get("bot", ws.bot.bot_id) != ws.bot.bot_id:
        raise ApiError("bot_not_found")
    return {"bot": {"id": ws.bot.bot_id, "deleted": False, "name": ws.bot.name, "updated": 1732170000,
                    "app_id": ws.app_id, "user_id": ws.bot.id, "icons": {}}}

"""Uploading files like Slack: files.getUploadURLExternal, the upload, files.completeUploadExternal.

A file is private to the uploader until shared; an image block may show it by its id
(`slack_file`), and the page serves it at /files/<id>. Only what Lumen needs: images.
"""

from __future__ import annotations

from . import ApiError, Request, method


@method("files.getUploadURLExternal")
async def get_upload_url(req: Request) -> dict:
    filename = req.require("filename", "invalid_arguments")
    length = req.int("length", 0)
    if length <= 0:
        raise ApiError("invalid_arguments")
    stored = req.ws.files.reserve(str(filename), length, alt_text=req.get("alt_txt") or "")
    return {"upload_url": f"{req.ws.base_url}/upload/{stored.id}", "file_id": stored.id}


@method("files.completeUploadExternal")
async def complete_upload(req: Request) -> dict:
    files = req.json("files")
    if not isinstance(files, list) or not files:
        raise ApiError("invalid_arguments")
    done = []
    for entry in files:
        stored = req.ws.files.get(str(entry.get("id", "")))
        if stored is None or stored.content is None:
            raise ApiError("file_not_found")
        stored.title = entry.get("title") or stored.name
        stored.complete = True
        done.append(stored.as_api(req.ws.base_url))
    if req.get("channel_id") or req.get("channels"):
        raise ApiError("not_supported", detail="the dev workspace keeps uploads private")
    return {"files": done}

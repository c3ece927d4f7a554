"""Uploaded files: reserved by files.getUploadURLExternal, filled by the upload, completed."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from aiohttp import web

from .appkey import WORKSPACE

MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}


@dataclass
class StoredFile:
    id: str
    name: str
    length: int
    alt_text: str = ""
    title: str = ""
    content: bytes | None = None
    complete: bool = False

    @property
    def mimetype(self) -> str:
        return MIME.get(PurePosixPath(self.name).suffix.lower(), "application/octet-stream")

    def as_api(self, base_url: str) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "title": self.title,
            "mimetype": self.mimetype,
            "size": len(self.content or b""),
            "url_private": f"{base_url}/files/{self.id}",
            "permalink": f"{base_url}/files/{self.id}",
        }


@dataclass
class FileStore:
    files: dict[str, StoredFile] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def reserve(self, name: str, length: int, *, alt_text: str = "") -> StoredFile:
        stored = StoredFile(id=f"F0DEV{next(self._ids):06d}", name=name, length=length, alt_text=alt_text)
        self.files[stored.id] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self.files.get(file_id)

    def image(self, file_id: str) -> StoredFile | None:
        """A completed image file, as an image block may show it."""
        stored = self.files.get(file_id)
        if stored is None or not stored.complete or not stored.mimetype.startswith("image/"):
            return None
        return stored


async def handle_upload(request: web.Request) -> web.Response:
    stored = request.app[WORKSPACE].files.get(request.match_info["file_id"])
    if stored is None:
        return web.Response(status=404, text="file_not_found")
    body = await request.read()
    if len(body) != stored.length:
        return web.Response(status=400, text="length does not match")
    stored.content = body
    return web.Response(text=f"OK - {len(body)}")


async def handle_file(request: web.Request) -> web.Response:
    stored = request.app[WORKSPACE].files.image(request.match_info["file_id"])
    if stored is None or stored.content is None:
        return web.Response(status=404, text="file_not_found")
    return web.Response(body=stored.content, content_type=stored.mimetype)

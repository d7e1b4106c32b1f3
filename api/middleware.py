"""Request guards that run before any parsing or sign-in: body size limits and NUL characters in
the address. Both answer in JSON like every other error (api/errors.py)."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import message
from api.i18n import api_locale, translate_detail

# Paths that take a file upload, and the room multipart framing adds around the file.
UPLOAD_PATHS = ("/api/workers/upload", "/e/upload")
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class BodyLimitMiddleware:
    """Refuse bodies beyond their limit with 413 before they are read: at once when the
    Content-Length says so, else as soon as the streamed bytes pass the limit. Uploads may be
    `max_upload_bytes`, everything else `max_body_bytes` (settings on `app.state`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope):
            detail = translate_detail(_locale(scope), message("nul_in_url"))
            await JSONResponse({"detail": detail}, status_code=422)(scope, receive, send)
            return
        limit = _limit_for(scope)
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(limit, _locale(scope))(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            incoming = await receive()
            if incoming["type"] == "http.request":
                seen += len(incoming.get("body", b""))
                if seen > limit:
                    # FastAPI lets an HTTPException raised while reading the body through.
                    # (translated by api.errors' handler of HTTPException)
                    raise HTTPException(413, message("body_too_large", limit=limit))
            return incoming

        await self.app(scope, counting_receive, send)


def _locale(scope: Scope) -> str:
    """The language of an answer made here, before the app: Accept-Language (api.i18n)."""
    headers = dict(scope.get("headers") or ())
    return api_locale(headers.get(b"accept-language", b"").decode("latin-1"))


def _too_large(limit: int, locale: str) -> JSONResponse:
    return JSONResponse(
        {"detail": translate_detail(locale, message("body_too_large", limit=limit))},
        status_code=413,
        headers={"Connection": "close"},
    )


def _limit_for(scope: Scope) -> int | None:
    app: Any = scope.get("app")
    settings = getattr(getattr(app, "state", None), "settings", None)
    if settings is None:  # before start-up finished: nothing is served anyway
        return None
    if scope.get("path", "") in UPLOAD_PATHS:
        return int(settings.max_upload_bytes) + MULTIPART_OVERHEAD_BYTES
    return int(settings.max_body_bytes)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _has_nul(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    query: bytes = scope.get("query_string", b"")
    return "\x00" in path or b"\x00" in query or b"%00" in query.lower()

"""What every page needs: the signed-in user (from the session cookie), the role checks, the
form-token check, the language, and rendering a template in that language."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api import models
from api.errors import Forbidden
from api.i18n import DEFAULT_LOCALE, LOCALES, normalise_locale, translate
from api.web.sessions import (
    CSRF_FIELD,
    CSRF_HEADER,
    LANG_COOKIE,
    SESSION_COOKIE,
    WebContext,
    session_for,
    tokens_match,
)

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


class SignInRequired(Exception):
    """A page asked for without a valid session: the browser is sent to the sign-in page."""


class CsrfRefused(Exception):
    """A form posted without this session's form token (403)."""


def page_locale(request: Request) -> str:
    """The pages' language: Chinese unless the user chose English (a cookie)."""
    chosen = request.cookies.get(LANG_COOKIE)
    return normalise_locale(chosen) if chosen else DEFAULT_LOCALE


def web_context(request: Request) -> WebContext | None:
    """The session of this browser, looked up in a read session of its own."""
    with request.app.state.read_session_factory() as session:
        return session_for(session, token=request.cookies.get(SESSION_COOKIE))


def get_web_context(request: Request) -> WebContext:
    context = web_context(request)
    if context is None:
        raise SignInRequired()
    request.state.web = context
    return context


WebDep = Annotated[WebContext, Depends(get_web_context)]


def get_page_user(context: WebDep) -> models.User:
    return context.user


PageUser = Annotated[models.User, Depends(get_page_user)]


def get_page_dispatcher(user: PageUser) -> models.User:
    if user.role != "dispatcher":
        raise Forbidden("only a dispatcher may do this")
    return user


def get_page_employer(user: PageUser) -> models.User:
    if user.role != "employer":
        raise Forbidden("only an employer may do this")
    return user


PageDispatcher = Annotated[models.User, Depends(get_page_dispatcher)]
PageEmployer = Annotated[models.User, Depends(get_page_employer)]


async def check_form_token(request: Request, context: WebDep) -> WebContext:
    """Every state-changing page request carries the session's form token, as a form field
    or (htmx) the X-CSRF-Token header; 403 otherwise."""
    given = request.headers.get(CSRF_HEADER)
    if not given:
        form = await request.form()  # cached: the route's own form fields read the same parse
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not tokens_match(context.csrf_token, given):
        raise CsrfRefused()
    return context


FormChecked = Annotated[WebContext, Depends(check_form_token)]


def render(
    request: Request,
    name: str,
    values: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    context: WebContext | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """`name` rendered in the page's language; `_()` in templates is the message catalogue."""
    locale = page_locale(request)
    web = context or getattr(request.state, "web", None)

    def _(msgid: str, **params: Any) -> str:
        return translate(locale, msgid, **params)

    data: dict[str, Any] = {
        "request": request,
        "_": _,
        "locale": locale,
        "locales": LOCALES,
        "user": web.user if web else None,
        "csrf_token": web.csrf_token if web else "",
        "csrf_field": CSRF_FIELD,
    }
    data.update(values or {})
    return templates.TemplateResponse(
        request, name, data, status_code=status_code, headers=dict(headers or {})
    )

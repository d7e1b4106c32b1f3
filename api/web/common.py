"""Sign-in, sign-out, the language switch, the home page by role, and error pages."""

from __future__ import annotations

import inspect
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api import crud, models
from api.deps import ClientAddress, LoginThrottleDep, SessionDep, SettingsDep
from api.errors import MESSAGES, Conflict, NotFound, TooManyAttempts, Unauthorised, status_for
from api.i18n import LOCALES, N_, normalise_locale, translate, translate_detail
from api.web.deps import (
    CsrfRefused,
    FormChecked,
    SignInRequired,
    page_locale,
    render,
    web_context,
)
from api.web.sessions import (
    LANG_COOKIE,
    SESSION_COOKIE,
    SIGNIN_CSRF_COOKIE,
    end_session,
    new_token,
    start_session,
    tokens_match,
)
from optimizer.errors import ChunyunError

router = APIRouter(include_in_schema=False)

FORM_REFUSED = N_(
    "the form is out of date or was not sent from this site; reload the page and try again"
)

# Paths that are not pages: their errors stay JSON (api/errors.py).
NOT_PAGES = ("/api/", "/docs", "/redoc", "/openapi.json", "/static/")


def home_of(user: models.User) -> str:
    """The page a user lands on after signing in: the role decides."""
    return "/d/seasons" if user.role == "dispatcher" else "/e/workers"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(request: Request, response: Response, name: str, value: str, **extra: Any) -> None:
    """Cookies of the pages: HttpOnly, SameSite=Lax, Secure over https."""
    response.set_cookie(
        name, value, httponly=True, samesite="lax", secure=_secure(request), path="/", **extra
    )


def safe_next(target: str | None) -> str | None:
    """A local path to go back to (never another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def page_season(session: Session, name: str | None) -> models.Season | None:
    """The season a page shows: the named one, else the only open one, else the first open
    one, else the newest; None when there is no season at all."""
    try:
        return crud.resolve_season(session, name=name)
    except Conflict:
        return next(s for s in crud.list_seasons(session) if s.is_open)
    except NotFound:
        if name:
            raise
        seasons = crud.list_seasons(session)
        return seasons[-1] if seasons else None


def _signin_page(
    request: Request, *, error: str = "", status_code: int = 200, username: str = ""
) -> HTMLResponse:
    token = new_token()
    response = render(
        request,
        "signin.html",
        {"signin_token": token, "error": error, "username": username},
        status_code=status_code,
    )
    set_cookie(request, response, SIGNIN_CSRF_COOKIE, token)
    return response


@router.get("/", response_class=HTMLResponse)
def signin_page(request: Request) -> Response:
    """The sign-in page; a signed-in browser goes to its home page."""
    context = web_context(request)
    if context is not None:
        return RedirectResponse(home_of(context.user), status_code=303)
    return _signin_page(request)


@router.post("/signin", response_class=HTMLResponse)
def signin(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    throttle: LoginThrottleDep,
    address: ClientAddress,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Sign in through `crud.sign_in` (the same throttle and checks as the API's token)."""
    if not tokens_match(request.cookies.get(SIGNIN_CSRF_COOKIE, ""), csrf_token):
        raise CsrfRefused()
    locale = page_locale(request)
    if "\x00" in username + password or not username or not password:
        return _signin_page(
            request,
            error=translate(locale, MESSAGES["wrong_credentials"]),
            status_code=401,
            username=username.replace("\x00", ""),
        )
    try:
        user = crud.sign_in(
            session, throttle=throttle, username=username, password=password, address=address
        )
    except (Unauthorised, TooManyAttempts) as error:
        return _signin_page(
            request,
            error=translate_detail(locale, str(error)),
            status_code=status_for(error),
            username=username,
        )
    token = start_session(session, user=user, hours=settings.access_token_minutes / 60)
    session.commit()
    target = safe_next(request.query_params.get("next")) or home_of(user)
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, SESSION_COOKIE, token, max_age=settings.access_token_minutes * 60)
    response.delete_cookie(SIGNIN_CSRF_COOKIE, path="/")
    return response


@router.post("/signout")
def signout(request: Request, session: SessionDep, _form: FormChecked) -> Response:
    """Sign this browser out."""
    end_session(session, token=request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{locale}")
def switch_language(request: Request, locale: str, next: str | None = None) -> Response:
    """Choose the pages' language (中文 or English), then go back."""
    chosen = normalise_locale(locale)
    response = RedirectResponse(safe_next(next) or "/", status_code=303)
    set_cookie(request, response, LANG_COOKIE, chosen, max_age=365 * 24 * 3600)
    return response


@router.get("/home")
def home(request: Request) -> Response:
    context = web_context(request)
    if context is None:
        return RedirectResponse("/", status_code=303)
    return RedirectResponse(home_of(context.user), status_code=303)


# --- error pages -------------------------------------------------------------------------------


def _is_page(request: Request) -> bool:
    return not request.url.path.startswith(NOT_PAGES)


def install_page_errors(app: FastAPI) -> None:
    """Errors on pages become pages (sign-in redirect, 403 for a missing form token, a page
    naming the problem); errors of the JSON API stay JSON, through the API's own handler."""
    json_handler = app.exception_handlers[ChunyunError]

    async def sign_in_first(request: Request, _error: Exception) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": "/"})
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(f"/?next={target}" if request.method == "GET" else "/", 303)

    async def form_token_refused(request: Request, _error: Exception) -> Response:
        detail = translate(page_locale(request), FORM_REFUSED)
        return render(request, "error.html", {"status": 403, "detail": detail}, status_code=403)

    async def page_error(request: Request, error: Exception) -> Response:
        if not _is_page(request):
            answer = json_handler(request, error)
            response: Response = await answer if inspect.isawaitable(answer) else answer
            return response
        status = status_for(error)
        detail = translate_detail(page_locale(request), str(error))
        return render(
            request, "error.html", {"status": status, "detail": detail}, status_code=status
        )

    app.add_exception_handler(SignInRequired, sign_in_first)
    app.add_exception_handler(CsrfRefused, form_token_refused)
    app.add_exception_handler(ChunyunError, page_error)


__all__ = ["LOCALES", "install_page_errors", "router"]

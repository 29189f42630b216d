"""The web app: sellers upload, delivery leads review the checklist at kickoff.

Server-rendered jinja2 pages (``templates/web/``) and one small vendored script
(``templates/static/app.js``); no front-end build. Every write goes through the same
library calls as the CLI (``actions``, ``ingest``, ``manual``). Nothing here loads a
model: processing is queued in the database and done by ``handover worker``, so an
upload returns as soon as the file is stored and the pages stay quick while
transcription takes every core.

Each request opens its own store (SQLite in WAL mode with a busy timeout), so
concurrent uploads and decisions from several browsers queue on SQLite's write lock
instead of sharing a connection across threads.

Access: every route except ``/signin``, ``/static/*`` and ``/healthz`` is on the
``private`` router, whose dependency needs a session (an HttpOnly, SameSite cookie),
checks the CSRF token on every POST and hides a deal the user may not see (404, as if
it did not exist). Who may do what is decided in ``auth.py``.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from handover import actions, auth, manual, render, report, resources, worker
from handover.blobs import BlobStore
from handover.config import Settings
from handover.errors import Conflict, HandoverError, InputError, NotFound
from handover.ingest import add_file, parse_date
from handover.people import parse_people
from handover.store import SCHEMA_VERSION, Row, Store, now
from handover.types import (
    COMMITMENT_SUBTYPES,
    PHRASE_SUBTYPES,
    Side,
    SourceKind,
    Status,
)

SESSION_COOKIE = "handover_session"
SIGNIN_COOKIE = "handover_signin"  # the sign-in form's own CSRF token (no session yet)
FLASH_COOKIE = "handover_flash"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_CHUNK = 1024 * 1024

# Only our own script and styles, no inline code, no third parties: an escaping slip in
# a transcript still could not run anything or send data anywhere.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class TooLarge(InputError):
    """An upload over the size cap (HTTP 413)."""


_STATUS_CODES = {
    InputError: 400,
    TooLarge: 413,
    NotFound: 404,
    Conflict: 409,
    auth.SignInRequired: 401,
    auth.Forbidden: 403,
    auth.Throttled: 429,
}


def _status_code(exc: HandoverError) -> int:
    return next((_STATUS_CODES[t] for t in type(exc).__mro__ if t in _STATUS_CODES), 400)


def _open_store(request: Request) -> Iterator[Store]:
    # One store per request, used by that request alone; FastAPI may run this setup,
    # the endpoint and the teardown on different pool threads.
    store = Store.open(request.app.state.settings.db_path, any_thread=True)
    try:
        yield store
    finally:
        store.close()


StoreDep = Annotated[Store, Depends(_open_store)]


def _signed_in(request: Request, store: StoreDep) -> auth.Session:
    """The request's session, or SignInRequired. On a deal's routes, also the deal,
    which a user who may not see it gets as a 404, worded as for an unknown slug."""
    session = auth.session_for(store, request.cookies.get(SESSION_COOKIE, ""))
    if session is None:
        raise auth.SignInRequired("sign in first: open /signin")
    request.state.session = session
    slug = request.path_params.get("slug")
    if slug is not None:
        deal = store.deal(slug)
        if not auth.can_see_deal(session.user, deal):
            raise NotFound(f"unknown deal {slug!r}; see `handover deal list` for the slugs")
        request.state.deal = deal
    return session


async def _csrf_checked(
    request: Request, session: Annotated[auth.Session, Depends(_signed_in)]
) -> auth.Session:
    """Every state-changing request carries the session's CSRF token, as the header
    (the page's script) or a form field (plain forms); a foreign page cannot read it."""
    if request.method in _SAFE_METHODS:
        return session
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and _is_form(request):
        # FastAPI has parsed the form already for endpoints with Form fields; this
        # reads the cached copy. An upload's raw body is never read here.
        field = (await request.form()).get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not _same_token(sent, session.csrf):
        raise auth.Forbidden(
            "the page's security token is missing or out of date; reload the page and try again"
        )
    return session


SessionDep = Annotated[auth.Session, Depends(_csrf_checked)]


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def _same_token(sent: str | None, expected: str) -> bool:
    if not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


def _deal(request: Request) -> Row:
    """The deal `_signed_in` looked up (and checked) for this request."""
    return request.state.deal


def create_app(settings: Settings) -> FastAPI:
    """The ASGI app for one handover home."""
    app = FastAPI(
        title="handover",
        summary="Sellers upload recordings; delivery leads review the kickoff checklist.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # no public description of the routes; there is no API client
    )
    app.state.settings = settings
    app.mount("/static", StaticFiles(directory=resources.TEMPLATES / "static"), name="static")
    env = render.environment()
    uploads = settings.home / "tmp"

    # Everything but sign-in, the static files and /healthz: a session is needed.
    private = APIRouter(dependencies=[Depends(_csrf_checked)])

    def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        flash = unquote(request.cookies.get(FLASH_COOKIE, ""))
        session: auth.Session | None = getattr(request.state, "session", None)
        context.setdefault("user", session.user if session else None)
        context.setdefault("csrf", session.csrf if session else "")
        context.setdefault("can_decide", bool(session and auth.can_decide(session.user)))
        context.setdefault("message", flash or None)
        html = env.get_template(f"web/{name}.html.j2").render(**context)
        response = HTMLResponse(html, status_code=status_code)
        if flash:
            response.delete_cookie(FLASH_COOKIE)
        return response

    def wants_json(request: Request) -> bool:
        return "application/json" in request.headers.get("accept", "")

    def done(request: Request, to: str, payload: dict[str, Any], message: str) -> Response:
        """Answer a form: JSON for the page's script, else a redirect (no JS needed)."""
        if wants_json(request):
            return JSONResponse({**payload, "message": message})
        response = RedirectResponse(to, status_code=303)
        # A cookie, not a query string: a link cannot put words of its own on our pages.
        response.set_cookie(FLASH_COOKIE, quote(message), max_age=60, samesite="strict")
        return response

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        # Defence in depth beside the CSRF token: browsers send Origin on every
        # cross-site POST; refuse any that is not ours before anything else runs.
        if request.method not in _SAFE_METHODS:
            origin = request.headers.get("origin") or request.headers.get("referer")
            if origin and urlsplit(origin).netloc != request.headers.get("host"):
                return JSONResponse(
                    {"error": "cross-site request refused; use handover's own pages"},
                    status_code=403,
                )
        response: Response = await call_next(request)
        for header, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        if not request.url.path.startswith("/static/"):
            # Pages hold deal data and CSRF tokens: never kept by a cache, nor shown by
            # the Back button after signing out on a shared screen.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(HandoverError)
    async def handover_error(request: Request, exc: HandoverError) -> Response:
        if isinstance(exc, auth.SignInRequired):
            return _sign_in_first(request, exc)
        code = _status_code(exc)
        if wants_json(request) or request.url.path.endswith(".json"):
            return JSONResponse({"error": exc.message}, status_code=code)
        return page(request, "error", status_code=code, error=exc.message, title="Error")

    # -- signing in and out -----------------------------------------------------------

    def signin_page(
        request: Request,
        store: Store,
        target: str,
        *,
        status_code: int = 200,
        error: str | None = None,
        name: str = "",
    ) -> Response:
        token = secrets.token_urlsafe(32)
        response = page(
            request,
            "signin",
            status_code=status_code,
            title="Sign in",
            next=target,
            error=error,
            typed_name=name,
            signin_csrf=token,
            no_users=not store.users(),
        )
        response.set_cookie(
            SIGNIN_COOKIE,
            token,
            max_age=3600,
            path="/signin",
            httponly=True,
            samesite="strict",
            secure=_https(request),
        )
        return response

    @app.get("/signin", response_class=HTMLResponse)
    def signin_form(request: Request, store: StoreDep, next: str = "/") -> Response:
        target = _safe_next(next)
        if auth.session_for(store, request.cookies.get(SESSION_COOKIE, "")):
            return RedirectResponse(target, status_code=303)
        return signin_page(request, store, target)

    @app.post("/signin")
    def signin(
        request: Request,
        store: StoreDep,
        name: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "/",
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        """Name and password for a session cookie.

        The form carries its own CSRF token (a cookie set with the form), so no other
        site can sign a browser into an account of its choosing. Browsers send Origin
        on every POST, so a post with Origin or Referer must bring the token; a script
        (bench/web.py, curl) sends neither and needs none: signing someone in against
        their will takes their browser."""
        target = _safe_next(next)
        from_a_page = "origin" in request.headers or "referer" in request.headers
        if from_a_page and not _same_token(csrf, request.cookies.get(SIGNIN_COOKIE, "")):
            raise auth.Forbidden("the sign-in form expired; reload the page and sign in again")
        origin = request.client.host if request.client else None
        try:
            user = auth.authenticate(store, name, password, origin=origin)
        except auth.Throttled as exc:
            if wants_json(request):
                raise
            return signin_page(request, store, target, status_code=429, error=exc.message)
        if user is None:
            wrong = "wrong name or password; try again"
            if wants_json(request):
                return JSONResponse({"error": wrong}, status_code=401)
            return signin_page(request, store, target, status_code=401, error=wrong, name=name)
        if previous := request.cookies.get(SESSION_COOKIE):
            auth.end_session(store, previous)  # one browser, one session: the old one ends
        token, csrf_token = auth.start_session(store, user)
        response: Response
        if wants_json(request):  # scripts (bench/web.py) send the token as a header
            response = JSONResponse({"user": user.name, "role": user.role, "csrf": csrf_token})
        else:
            response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=auth.SESSION_HOURS * 3600,
            path="/",
            httponly=True,
            samesite="lax",  # lax: a link from an e-mail still opens the page signed in
            secure=_https(request),
        )
        response.delete_cookie(SIGNIN_COOKIE, path="/signin")
        return response

    @private.post("/signout")
    def signout(request: Request, store: StoreDep, session: SessionDep) -> Response:
        auth.end_session(store, request.cookies.get(SESSION_COOKIE, ""))
        response = done(request, "/signin", {"signed_out": session.user.name}, "signed out")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- overview and deals ---------------------------------------------------------

    @private.get("/", response_class=HTMLResponse)
    def overview(request: Request, store: StoreDep, session: SessionDep) -> Response:
        stamp = now()
        rows = []
        for deal in store.deals():
            if not auth.can_see_deal(session.user, deal):
                continue
            doc = report.checklist_document(store, deal, stamp)
            rows.append({"deal": deal, "counts": doc["counts"], "stale": doc["stale_reason"]})
        return page(
            request,
            "overview",
            title="Deals",
            rows=rows,
            statuses=[str(s) for s in Status],
            worker=store.lock_holder(worker.LOCK),
        )

    def sellers(store: Store, user: auth.User) -> list[auth.User]:
        """Whom a lead or admin may make a new deal's owner (a seller owns their own)."""
        if user.role == auth.Role.SELLER:
            return []
        return [u for u in auth.users(store) if u.role == auth.Role.SELLER and not u.disabled]

    @private.get("/deals/new", response_class=HTMLResponse)
    def deal_form(request: Request, store: StoreDep, session: SessionDep) -> Response:
        return page(
            request,
            "deal_new",
            title="New deal",
            form={},
            error=None,
            sellers=sellers(store, session.user),
        )

    @private.post("/deals")
    def deal_create(
        request: Request,
        store: StoreDep,
        session: SessionDep,
        slug: Annotated[str, Form()] = "",
        name: Annotated[str, Form()] = "",
        customer: Annotated[str, Form()] = "",
        vendor: Annotated[str, Form()] = "",
        owner: Annotated[str, Form()] = "",
        seller: Annotated[str, Form()] = "",
    ) -> Response:
        """A new deal. A seller's deal is their own; a lead or admin may name its seller."""
        form = {
            "slug": slug,
            "name": name,
            "customer": customer,
            "vendor": vendor,
            "owner": owner,
            "seller": seller,
        }
        user = session.user
        try:
            if user.role == auth.Role.SELLER:
                owner_account: auth.User | None = user
            else:
                owner_account = auth.seller_account(store, seller) if seller.strip() else None
            deal = actions.create_deal(
                store,
                slug,
                name=name,
                customer=customer,
                vendor=vendor,
                owner=owner.strip() or (owner_account.name if owner_account else None),
                owner_user_id=owner_account.id if owner_account else None,
            )
        except HandoverError as exc:
            if wants_json(request):
                raise
            return page(
                request,
                "deal_new",
                status_code=_status_code(exc),
                title="New deal",
                form=form,
                error=exc.message,
                sellers=sellers(store, user),
            )
        return done(request, f"/deals/{deal['slug']}", {"deal": deal["slug"]}, "deal created")

    @private.get("/deals/{slug}", response_class=HTMLResponse)
    def deal_page(request: Request, slug: str, store: StoreDep) -> Response:
        deal = _deal(request)
        sources = [report.source_json(s) for s in store.sources(deal["id"])]
        return page(
            request,
            "deal",
            title=deal["name"],
            deal=deal,
            people=store.participants(deal["id"]),
            sources=sources,
            max_bytes=settings.max_file_bytes,
            today=parse_date(None),
            worker=store.lock_holder(worker.LOCK),
        )

    @private.post("/deals/{slug}/people")
    def people_set(
        request: Request,
        slug: str,
        store: StoreDep,
        session: SessionDep,
        vendor: Annotated[str, Form()] = "",
        customer: Annotated[str, Form()] = "",
    ) -> Response:
        deal = _deal(request)
        auth.require(auth.can_upload(session.user, deal), _NOT_YOURS)
        given = [(n, Side.VENDOR, e) for n, e in parse_people(vendor.splitlines())]
        given += [(n, Side.CUSTOMER, e) for n, e in parse_people(customer.splitlines())]
        count, changed, requeued = actions.set_people(store, deal, given)
        message = f"{count} people set; {changed} segment sides updated"
        if requeued:
            message += "; the items will be derived again"
        return done(request, f"/deals/{slug}", {"people": count, "changed": changed}, message)

    # -- sources ------------------------------------------------------------------------

    @private.post("/deals/{slug}/sources", status_code=201)
    async def upload(
        request: Request,
        slug: str,
        session: SessionDep,
        name: Annotated[str, Query(min_length=1, max_length=1024)],
        kind: str = "auto",
        date: str | None = None,
        title: str | None = None,
    ) -> Response:
        """One file as the raw request body (the page sends each dropped file on its
        own, for a progress bar per file). Streamed to disk under the size cap, then
        checked by content exactly as `handover add` checks it."""
        # Before a byte is read: the dependency has checked the session and the token.
        auth.require(auth.can_upload(session.user, _deal(request)), _NOT_YOURS)
        as_kind = None if kind in ("", "auto") else _source_kind(kind)
        declared = request.headers.get("content-length")
        cap = settings.max_file_bytes
        too_large = TooLarge(f"{name}: over the {cap // (1024 * 1024)} MB upload cap; split it")
        if declared and declared.isdigit() and int(declared) > cap:
            raise too_large
        uploads.mkdir(parents=True, exist_ok=True)
        tmp = uploads / f"upload-{uuid.uuid4().hex}"
        try:
            size = 0
            with tmp.open("wb") as handle:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > cap:
                        raise too_large
                    handle.write(chunk)
            return await run_in_threadpool(_store_upload, tmp, slug, name, as_kind, date, title)
        finally:
            tmp.unlink(missing_ok=True)

    def _store_upload(
        tmp: Path,
        slug: str,
        name: str,
        as_kind: SourceKind | None,
        date: str | None,
        title: str | None,
    ) -> Response:
        store = Store.open(settings.db_path)
        try:
            deal = store.deal(slug)
            added = add_file(
                store,
                BlobStore(settings.blob_dir),
                settings,
                deal,
                tmp,
                as_kind=as_kind,
                meeting_date=date or None,
                title=(title or "").strip() or None,
                name=name,
            )
            source = report.source_json(store.source(deal["id"], added.source_id))
        finally:
            store.close()
        messages = {
            "added": "stored; queued for processing",
            "duplicate": f"already source {added.source_id}; nothing to do",
            "restored": f"was removed source {added.source_id}; restored it",
        }
        return JSONResponse(
            {"status": added.status, "source": source, "message": messages[added.status]},
            status_code=201 if added.status == "added" else 200,
        )

    @private.get("/deals/{slug}/sources.json")
    def sources_json(request: Request, slug: str, store: StoreDep) -> Response:
        deal = _deal(request)
        return JSONResponse(
            {
                "schema_version": report.SCHEMA_VERSION,
                "deal": slug,
                "worker": store.lock_holder(worker.LOCK) is not None,
                "stale_reason": store.stale_reason(deal["id"]),
                "sources": [report.source_json(s) for s in store.sources(deal["id"])],
            }
        )

    @private.post("/deals/{slug}/sources/{source_id}/retry")
    def source_retry(
        request: Request, slug: str, source_id: int, store: StoreDep, session: SessionDep
    ) -> Response:
        deal = _deal(request)
        auth.require(auth.can_upload(session.user, deal), _NOT_YOURS)
        store.retry_source(deal["id"], source_id, session.user.name)
        return done(request, f"/deals/{slug}", {"source": source_id}, "queued again")

    @private.get("/deals/{slug}/sources/{source_id}", response_class=HTMLResponse)
    def source_page(request: Request, slug: str, source_id: int, store: StoreDep) -> Response:
        deal = _deal(request)
        source = store.source(deal["id"], source_id)
        return page(
            request,
            "source",
            title=source["title"],
            deal=deal,
            source=report.source_json(source),
            segments=store.segments(source_id),
            people=store.participants(deal["id"]),
        )

    @private.get("/deals/{slug}/sources/{source_id}/original")
    def source_original(slug: str, source_id: int, store: StoreDep) -> Response:
        """The stored original, byte for byte, or for a redacted recording a copy with
        the spans silenced (a redacted transcript is refused, 409); answers Range
        requests (206) so the player can start anywhere in a two-hour recording."""
        from handover.redact import playable_path

        deal = store.deal(slug)
        played = playable_path(store, BlobStore(settings.blob_dir), settings, deal, source_id)
        inline = played.silenced or store.source(deal["id"], source_id)["kind"] == "recording"
        return FileResponse(
            played.path,
            media_type=played.media_type,
            filename=played.filename,
            content_disposition_type="inline" if inline else "attachment",
            # A cached copy must not outlive a redaction made after it was played.
            headers={"Cache-Control": "no-store"},
        )

    @private.post("/deals/{slug}/sources/{source_id}/sides")
    def sides_set(
        request: Request,
        slug: str,
        source_id: int,
        store: StoreDep,
        session: SessionDep,
        side: Annotated[str, Form()],
        start: Annotated[str, Form(alias="from")],
        end: Annotated[str, Form(alias="to")],
        speaker: Annotated[str, Form()] = "",
    ) -> Response:
        deal = _deal(request)
        auth.require(auth.can_upload(session.user, deal), _NOT_YOURS)
        lo, hi = actions.parse_clock(start, "from"), actions.parse_clock(end, "to")
        changed = actions.set_side_range(
            store, deal, source_id, _side(side), lo, hi, speaker=speaker, by=session.user.name
        )
        message = f"{changed} segment(s) set to {side}; the items will be derived again"
        return done(request, f"/deals/{slug}/sources/{source_id}", {"changed": changed}, message)

    # -- the checklist --------------------------------------------------------------------

    @private.get("/deals/{slug}/checklist", response_class=HTMLResponse)
    def checklist_page(
        request: Request,
        slug: str,
        store: StoreDep,
        status: Annotated[list[str] | None, Query()] = None,
        kind: str = "",
        side: str = "",
        meeting: str = "",
    ) -> Response:
        deal = _deal(request)
        doc = report.checklist_document(store, deal, now())
        chosen = {s for s in status or [] if s}
        shown = [
            item
            for item in doc["items"]
            if (not chosen or item["status"] in chosen)
            and (not kind or item["kind"] == kind)
            and (not side or item["side"] == side)
            and (not meeting or _said_in(item, meeting))
        ]
        sources = store.sources(deal["id"])
        meetings = [s for s in sources if s["kind"] != SourceKind.SCOPE]
        recordings = {s["id"] for s in sources if s["kind"] == SourceKind.RECORDING}
        return page(
            request,
            "checklist",
            title=f"Checklist: {deal['name']}",
            deal=deal,
            doc=doc,
            shown=shown,
            filters={"status": chosen, "kind": kind, "side": side, "meeting": meeting},
            meetings=meetings,
            recordings=recordings,
            clauses=store.deal_clauses(deal["id"]),
            subtypes={
                "commitment": [str(s) for s in COMMITMENT_SUBTYPES],
                "customer_phrase": [str(s) for s in PHRASE_SUBTYPES],
            },
            worker=store.lock_holder(worker.LOCK),
        )

    @private.get("/deals/{slug}/checklist.{fmt}")
    def checklist_export(request: Request, slug: str, fmt: str, store: StoreDep) -> Response:
        """The same files as `handover checklist --format FMT`."""
        if fmt not in _EXPORT_TYPES:
            raise NotFound(f"no checklist format {fmt!r}; use html, md, csv or json")
        deal = _deal(request)
        doc = report.checklist_document(store, deal, now())
        body = render.render_checklist(doc, fmt)
        disposition = "inline" if fmt == "html" else "attachment"
        name = f"{slug}-checklist.{fmt}"
        return Response(
            body,
            media_type=_EXPORT_TYPES[fmt],
            headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
        )

    @private.post("/deals/{slug}/items/{item_id}/decisions")
    def decision_add(
        request: Request,
        slug: str,
        item_id: str,
        store: StoreDep,
        session: SessionDep,
        decision: Annotated[str, Form()],
        clause_id: Annotated[str, Form()] = "",
        note: Annotated[str, Form()] = "",
    ) -> Response:
        """A review decision, recorded as the signed-in user (a typed name is ignored)."""
        user = session.user
        auth.require(auth.can_decide(user), _LEADS_DECIDE)
        deal = _deal(request)
        clause = _int_or_none(clause_id, "clause") if decision == "linked" else None
        if decision == "linked" and clause is None:
            raise InputError("pick the clause to link to: type its number or use Find clause")
        status = actions.decide(
            store,
            deal,
            item_id,
            decision,
            by=user.name,
            user_id=user.id,
            clause_id=clause,
            note=note,
        )
        doc = next(
            i for i in report.checklist_document(store, deal, now())["items"] if i["id"] == item_id
        )
        return done(
            request,
            f"/deals/{slug}/checklist#item-{item_id}",
            {"item": doc},
            f"{decision} by {user.name}: now {status}",
        )

    @private.post("/deals/{slug}/items")
    def item_add(
        request: Request,
        slug: str,
        store: StoreDep,
        session: SessionDep,
        kind: Annotated[str, Form()],
        text: Annotated[str, Form()],
        subtype: Annotated[str, Form()] = "",
        source_id: Annotated[str, Form()] = "",
        at: Annotated[str, Form()] = "",
    ) -> Response:
        auth.require(auth.can_decide(session.user), _LEADS_DECIDE)
        deal = _deal(request)
        new_id = manual.add_item(
            store,
            deal,
            kind=kind,
            text=text,
            subtype=subtype or None,
            source_id=_int_or_none(source_id, "source"),
            at=actions.parse_clock(at, "at") if at.strip() else None,
            by=session.user.name,
        )
        return done(
            request,
            f"/deals/{slug}/checklist#item-{new_id}",
            {"item_id": new_id},
            "item added; it is traced in the background and appears in a moment",
        )

    # -- accounts (admins) ----------------------------------------------------------------

    def users_page(
        request: Request, store: Store, *, status_code: int = 200, error: str | None = None
    ) -> Response:
        return page(
            request,
            "users",
            status_code=status_code,
            title="Users",
            users=auth.users(store),
            roles=[str(r) for r in auth.Role],
            error=error,
        )

    @private.get("/users", response_class=HTMLResponse)
    def users_list(request: Request, store: StoreDep, session: SessionDep) -> Response:
        auth.require(auth.can_manage_users(session.user), _ADMINS_ONLY)
        return users_page(request, store)

    @private.post("/users")
    def user_add(
        request: Request,
        store: StoreDep,
        session: SessionDep,
        name: Annotated[str, Form()] = "",
        role: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
    ) -> Response:
        auth.require(auth.can_manage_users(session.user), _ADMINS_ONLY)
        try:
            user = auth.add_user(store, name, role, password)
        except HandoverError as exc:
            if wants_json(request):
                raise
            return users_page(request, store, status_code=_status_code(exc), error=exc.message)
        return done(request, "/users", {"user": user.name}, f"created {user.role} {user.name}")

    @private.post("/users/{user_id}/disabled")
    def user_disabled(
        request: Request,
        user_id: int,
        store: StoreDep,
        session: SessionDep,
        disabled: Annotated[bool, Form()],
    ) -> Response:
        """Disable an account (its sessions end at once) or enable it again."""
        auth.require(auth.can_manage_users(session.user), _ADMINS_ONLY)
        user = next((u for u in auth.users(store) if u.id == user_id), None)
        if user is None:
            raise NotFound(f"no user {user_id}; reload the page")
        if disabled and user.id == session.user.id:
            raise InputError("you cannot disable your own account; ask another admin")
        changed = (auth.disable_user if disabled else auth.enable_user)(store, user.name)
        state = "disabled" if changed.disabled else "enabled"
        return done(
            request, "/users", {"user": changed.name, "state": state}, f"{state} {changed.name}"
        )

    # -- search -------------------------------------------------------------------------

    @private.get("/deals/{slug}/search", response_class=HTMLResponse)
    def search_page(
        request: Request, slug: str, store: StoreDep, q: str = "", limit: int = 50
    ) -> Response:
        deal = _deal(request)
        hits = store.search(deal["id"], q, max(1, min(limit, 200))) if q.strip() else []
        return page(
            request,
            "search",
            title=f"Search: {deal['name']}",
            deal=deal,
            q=q,
            hits=[{**h, "parts": report.snippet_parts(h["snippet"])} for h in hits],
        )

    @app.get("/healthz")
    def health(store: StoreDep) -> Response:
        # Cheap on purpose (load balancers poll it): the database opens and answers.
        # `handover doctor` is the thorough check.
        return JSONResponse(
            {
                "ok": store.version == SCHEMA_VERSION,
                "worker": store.lock_holder(worker.LOCK) is not None,
            }
        )

    app.include_router(private)
    app.state.private = private  # the routes that need a session (tests walk them)
    return app


_EXPORT_TYPES = {
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}


_NOT_YOURS = "only the deal's seller, a delivery lead or an admin changes this deal"
_ADMINS_ONLY = "only an admin manages accounts; ask one, or use `handover user` on the machine"
_LEADS_DECIDE = (
    "only a delivery lead or an admin decides on items and adds them; ask one to review "
    "this checklist"
)


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


def _safe_next(value: str) -> str:
    """Where to go after signing in: a path on this site, never another site."""
    value = value.strip()
    parts = urlsplit(value)
    if (
        not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or parts.scheme
        or parts.netloc
        or any(ord(c) < 32 or ord(c) == 127 for c in value)
        or parts.path.startswith("/signin")
    ):
        return "/"
    return value


def _sign_in_first(request: Request, exc: HandoverError) -> Response:
    """No session: a browser is sent to the sign-in page (and back afterwards);
    anything else (the page's script, uploads, other tools) gets 401."""
    accept = request.headers.get("accept", "")
    if "text/html" in accept and "application/json" not in accept:
        if request.method in ("GET", "HEAD"):
            back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        else:  # a form posted after the session ended: back to the page it came from
            referer = urlsplit(request.headers.get("referer", ""))
            same_site = referer.netloc == request.headers.get("host")
            back = (referer.path or "/") if same_site else "/"
        response: Response = RedirectResponse(
            "/signin?" + urlencode({"next": _safe_next(back)}), status_code=303
        )
    else:
        response = JSONResponse({"error": exc.message}, status_code=401)
    if request.cookies.get(SESSION_COOKIE):
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _said_in(item: dict[str, Any], meeting: str) -> bool:
    return any(m["source"] and str(m["source"]["id"]) == meeting for m in item["mentions"]) or bool(
        item["source"] and str(item["source"]["id"]) == meeting
    )


def _source_kind(value: str) -> SourceKind:
    try:
        return SourceKind(value)
    except ValueError:
        kinds = ", ".join(k.value for k in SourceKind)
        raise InputError(f"unknown kind {value!r}; use auto or one of {kinds}") from None


def _side(value: str) -> Side:
    try:
        return Side(value)
    except ValueError:
        raise InputError(f"unknown side {value!r}; use vendor or customer") from None


def _int_or_none(value: str, field: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise InputError(f"{field}: {value!r} is not an id")
    return int(value)


def serve(settings: Settings, *, host: str, port: int, worker_process: bool = True) -> None:
    """Run the web app with uvicorn, and the worker beside it unless told not to."""
    import signal
    import subprocess
    import sys

    import uvicorn

    def exit_on_term(signum: int, _frame: object) -> None:
        # uvicorn re-raises SIGTERM after its shutdown; with the default handler the
        # process would die before `finally` stops the worker and leave it orphaned.
        raise SystemExit(128 + signum)

    store = Store.open(settings.db_path)  # migrate once, before any request or the worker
    lease = f"serve:{port}"
    try:
        auth.check_listen_host(store, host)  # whoever calls this, not only the CLI
        # A lease, so `handover restore` knows a server is using this home (also with
        # --no-worker, when no worker lease exists).
        store.acquire_lock(lease)
    except BaseException:
        store.close()
        raise
    child = None
    if worker_process:
        child = subprocess.Popen(
            [
                *(sys.executable, "-m", "handover", "--home", str(settings.home)),
                *("worker", "--parent", str(os.getpid())),
            ]
        )
    signal.signal(signal.SIGTERM, exit_on_term)
    try:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
    finally:
        if child is not None:
            child.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=10)
            if child.poll() is None:
                child.kill()
        store.release_lock(lease)
        store.close()

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
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlsplit

from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from handover import actions, manual, render, report, resources, worker
from handover.blobs import BlobStore
from handover.config import Settings
from handover.errors import Conflict, HandoverError, InputError, NotFound
from handover.ingest import add_file, parse_date
from handover.people import parse_people
from handover.store import Store, now
from handover.types import (
    COMMITMENT_SUBTYPES,
    PHRASE_SUBTYPES,
    Side,
    SourceKind,
    Status,
)

REVIEWER_COOKIE = "handover_reviewer"
FLASH_COOKIE = "handover_flash"
_YEAR = 365 * 24 * 3600
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


_STATUS_CODES = {InputError: 400, TooLarge: 413, NotFound: 404, Conflict: 409}


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


def create_app(settings: Settings) -> FastAPI:
    """The ASGI app for one handover home."""
    app = FastAPI(
        title="handover",
        summary="Sellers upload recordings; delivery leads review the kickoff checklist.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.mount("/static", StaticFiles(directory=resources.TEMPLATES / "static"), name="static")
    env = render.environment()
    uploads = settings.home / "tmp"

    def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        flash = unquote(request.cookies.get(FLASH_COOKIE, ""))
        context.setdefault("reviewer", _reviewer(request))
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
        # Sign-in does not exist yet, so a foreign page must not post into this one:
        # browsers send Origin on every cross-site POST; refuse any that is not ours.
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            origin = request.headers.get("origin") or request.headers.get("referer")
            if origin and urlsplit(origin).netloc != request.headers.get("host"):
                return JSONResponse(
                    {"error": "cross-site request refused; use handover's own pages"},
                    status_code=403,
                )
        response: Response = await call_next(request)
        for header, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        return response

    @app.exception_handler(HandoverError)
    async def handover_error(request: Request, exc: HandoverError) -> Response:
        code = _status_code(exc)
        if wants_json(request) or request.url.path.endswith(".json"):
            return JSONResponse({"error": exc.message}, status_code=code)
        return page(request, "error", status_code=code, error=exc.message, title="Error")

    # -- overview and deals ---------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request, store: StoreDep) -> Response:
        stamp = now()
        rows = []
        for deal in store.deals():
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

    @app.get("/deals/new", response_class=HTMLResponse)
    def deal_form(request: Request) -> Response:
        return page(request, "deal_new", title="New deal", form={}, error=None)

    @app.post("/deals")
    def deal_create(
        request: Request,
        store: StoreDep,
        slug: Annotated[str, Form()] = "",
        name: Annotated[str, Form()] = "",
        customer: Annotated[str, Form()] = "",
        vendor: Annotated[str, Form()] = "",
        owner: Annotated[str, Form()] = "",
    ) -> Response:
        form = {"slug": slug, "name": name, "customer": customer, "vendor": vendor, "owner": owner}
        try:
            deal = actions.create_deal(
                store, slug, name=name, customer=customer, vendor=vendor, owner=owner
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
            )
        return done(request, f"/deals/{deal['slug']}", {"deal": deal["slug"]}, "deal created")

    @app.get("/deals/{slug}", response_class=HTMLResponse)
    def deal_page(request: Request, slug: str, store: StoreDep) -> Response:
        deal = store.deal(slug)
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

    @app.post("/deals/{slug}/people")
    def people_set(
        request: Request,
        slug: str,
        store: StoreDep,
        vendor: Annotated[str, Form()] = "",
        customer: Annotated[str, Form()] = "",
    ) -> Response:
        deal = store.deal(slug)
        given = [(n, Side.VENDOR, e) for n, e in parse_people(vendor.splitlines())]
        given += [(n, Side.CUSTOMER, e) for n, e in parse_people(customer.splitlines())]
        count, changed, requeued = actions.set_people(store, deal, given)
        message = f"{count} people set; {changed} segment sides updated"
        if requeued:
            message += "; the items will be derived again"
        return done(request, f"/deals/{slug}", {"people": count, "changed": changed}, message)

    # -- sources ------------------------------------------------------------------------

    @app.post("/deals/{slug}/sources", status_code=201)
    async def upload(
        request: Request,
        slug: str,
        name: Annotated[str, Query(min_length=1, max_length=1024)],
        kind: str = "auto",
        date: str | None = None,
        title: str | None = None,
    ) -> Response:
        """One file as the raw request body (the page sends each dropped file on its
        own, for a progress bar per file). Streamed to disk under the size cap, then
        checked by content exactly as `handover add` checks it."""
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

    @app.get("/deals/{slug}/sources.json")
    def sources_json(slug: str, store: StoreDep) -> Response:
        deal = store.deal(slug)
        return JSONResponse(
            {
                "schema_version": report.SCHEMA_VERSION,
                "deal": slug,
                "worker": store.lock_holder(worker.LOCK) is not None,
                "stale_reason": store.stale_reason(deal["id"]),
                "sources": [report.source_json(s) for s in store.sources(deal["id"])],
            }
        )

    @app.post("/deals/{slug}/sources/{source_id}/retry")
    def source_retry(request: Request, slug: str, source_id: int, store: StoreDep) -> Response:
        deal = store.deal(slug)
        store.retry_source(deal["id"], source_id, _reviewer(request) or None)
        return done(request, f"/deals/{slug}", {"source": source_id}, "queued again")

    @app.get("/deals/{slug}/sources/{source_id}", response_class=HTMLResponse)
    def source_page(request: Request, slug: str, source_id: int, store: StoreDep) -> Response:
        deal = store.deal(slug)
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

    @app.get("/deals/{slug}/sources/{source_id}/original")
    def source_original(slug: str, source_id: int, store: StoreDep) -> Response:
        """The stored original, byte for byte; answers Range requests (206) so the
        player can start anywhere in a two-hour recording."""
        deal = store.deal(slug)
        source = store.source(deal["id"], source_id)
        path = BlobStore(settings.blob_dir).path(source["sha256"])
        if not path.is_file():
            raise NotFound(f"the original of source {source_id} is no longer stored")
        inline = source["kind"] == SourceKind.RECORDING
        return FileResponse(
            path,
            media_type=source["mime"],
            filename=source["filename"],
            content_disposition_type="inline" if inline else "attachment",
        )

    @app.post("/deals/{slug}/sources/{source_id}/sides")
    def sides_set(
        request: Request,
        slug: str,
        source_id: int,
        store: StoreDep,
        side: Annotated[str, Form()],
        start: Annotated[str, Form(alias="from")],
        end: Annotated[str, Form(alias="to")],
        speaker: Annotated[str, Form()] = "",
        by: Annotated[str, Form()] = "",
    ) -> Response:
        deal = store.deal(slug)
        lo, hi = actions.parse_clock(start, "from"), actions.parse_clock(end, "to")
        who = _who(request, by) or None
        changed = actions.set_side_range(
            store, deal, source_id, _side(side), lo, hi, speaker=speaker, by=who
        )
        message = f"{changed} segment(s) set to {side}; the items will be derived again"
        return done(request, f"/deals/{slug}/sources/{source_id}", {"changed": changed}, message)

    # -- the checklist --------------------------------------------------------------------

    @app.get("/deals/{slug}/checklist", response_class=HTMLResponse)
    def checklist_page(
        request: Request,
        slug: str,
        store: StoreDep,
        status: Annotated[list[str] | None, Query()] = None,
        kind: str = "",
        side: str = "",
        meeting: str = "",
    ) -> Response:
        deal = store.deal(slug)
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

    @app.get("/deals/{slug}/checklist.{fmt}")
    def checklist_export(slug: str, fmt: str, store: StoreDep) -> Response:
        """The same files as `handover checklist --format FMT`."""
        if fmt not in _EXPORT_TYPES:
            raise NotFound(f"no checklist format {fmt!r}; use html, md, csv or json")
        deal = store.deal(slug)
        doc = report.checklist_document(store, deal, now())
        body = render.render_checklist(doc, fmt)
        disposition = "inline" if fmt == "html" else "attachment"
        name = f"{slug}-checklist.{fmt}"
        return Response(
            body,
            media_type=_EXPORT_TYPES[fmt],
            headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
        )

    @app.post("/deals/{slug}/items/{item_id}/decisions")
    def decision_add(
        request: Request,
        slug: str,
        item_id: str,
        store: StoreDep,
        decision: Annotated[str, Form()],
        by: Annotated[str, Form()] = "",
        clause_id: Annotated[str, Form()] = "",
        note: Annotated[str, Form()] = "",
    ) -> Response:
        deal = store.deal(slug)
        who = _who(request, by)
        clause = _int_or_none(clause_id, "clause") if decision == "linked" else None
        if decision == "linked" and clause is None:
            raise InputError("pick the clause to link to: type its number or use Find clause")
        if not who:
            raise InputError("type your name first: it is kept with every decision")
        status = actions.decide(store, deal, item_id, decision, by=who, clause_id=clause, note=note)
        doc = next(
            i for i in report.checklist_document(store, deal, now())["items"] if i["id"] == item_id
        )
        response = done(
            request,
            f"/deals/{slug}/checklist#item-{item_id}",
            {"item": doc},
            f"{decision} by {who}: now {status}",
        )
        _remember(response, who)
        return response

    @app.post("/deals/{slug}/items")
    def item_add(
        request: Request,
        slug: str,
        store: StoreDep,
        kind: Annotated[str, Form()],
        text: Annotated[str, Form()],
        subtype: Annotated[str, Form()] = "",
        source_id: Annotated[str, Form()] = "",
        at: Annotated[str, Form()] = "",
        by: Annotated[str, Form()] = "",
    ) -> Response:
        deal = store.deal(slug)
        who = _who(request, by)
        if not who:
            raise InputError("type your name first: it is kept with the item")
        new_id = manual.add_item(
            store,
            deal,
            kind=kind,
            text=text,
            subtype=subtype or None,
            source_id=_int_or_none(source_id, "source"),
            at=actions.parse_clock(at, "at") if at.strip() else None,
            by=who,
        )
        response = done(
            request,
            f"/deals/{slug}/checklist#item-{new_id}",
            {"item_id": new_id},
            "item added; it is traced in the background and appears in a moment",
        )
        _remember(response, who)
        return response

    @app.post("/reviewer")
    def reviewer_set(request: Request, name: Annotated[str, Form()] = "") -> Response:
        who = " ".join(name.split())
        back = request.headers.get("referer") or "/"
        target = urlsplit(back)
        response = done(
            request,
            target.path + (f"?{target.query}" if target.query else "") or "/",
            {"reviewer": who},
            f"decisions will be recorded as {who}" if who else "name cleared",
        )
        if who:
            _remember(response, who)
        else:
            response.delete_cookie(REVIEWER_COOKIE)
        return response

    # -- search -------------------------------------------------------------------------

    @app.get("/deals/{slug}/search", response_class=HTMLResponse)
    def search_page(
        request: Request, slug: str, store: StoreDep, q: str = "", limit: int = 50
    ) -> Response:
        deal = store.deal(slug)
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
        return JSONResponse(
            {"ok": store.integrity_ok(), "worker": store.lock_holder(worker.LOCK) is not None}
        )

    return app


_EXPORT_TYPES = {
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}


def _reviewer(request: Request) -> str:
    """The name typed once and remembered (until sign-in exists)."""
    return " ".join(unquote(request.cookies.get(REVIEWER_COOKIE, "")).split())[:200]


def _who(request: Request, by: str) -> str:
    """The name a form gave, else the remembered one."""
    return " ".join(by.split()) or _reviewer(request)


def _remember(response: Response, who: str) -> None:
    # Percent-encoded: a cookie value cannot hold spaces or "José" as they are.
    response.set_cookie(
        REVIEWER_COOKIE, quote(who), max_age=_YEAR, httponly=True, samesite="strict"
    )


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

    Store.open(settings.db_path).close()  # migrate once, before any request or the worker
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

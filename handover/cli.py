"""The ``handover`` command: a thin layer that parses options, calls the library, prints.

Errors the user can fix are printed as one line, ``error: …``, with exit status 1
(2 for usage mistakes). Human output goes to stdout; progress goes to stderr so
``--format json`` output stays clean for pipes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from handover import actions, doctor, pipeline, render, report
from handover.blobs import BlobStore
from handover.config import Settings
from handover.errors import Conflict, HandoverError
from handover.ingest import add_file
from handover.people import parse_people
from handover.store import Row, Store, now
from handover.types import ItemKind, Side, SourceKind, Status

app = typer.Typer(
    name="handover",
    help=(
        "Keep sales promises from falling out between the sale and the delivery.\n\n"
        "Typical flow: [bold]deal add[/] → [bold]people[/] → [bold]add[/] files → "
        "[bold]process[/] → [bold]checklist[/] / [bold]items[/] → [bold]review[/]; "
        "[bold]flag[/] for cron or CI; [bold]serve[/] for the web app."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
deal_app = typer.Typer(help="Create and list deals.", no_args_is_help=True)
app.add_typer(deal_app, name="deal")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class TranscriptFormat(StrEnum):
    text = "text"
    vtt = "vtt"
    srt = "srt"
    json = "json"


class GlossaryAction(StrEnum):
    list = "list"
    add = "add"
    remove = "remove"


class _State:
    """Per-invocation settings and a lazily opened store."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.settings.db_path)
        return self._store

    @property
    def blobs(self) -> BlobStore:
        return BlobStore(self.settings.blob_dir)


def _state(ctx: typer.Context) -> _State:
    return ctx.find_root().obj


@app.callback()
def _main(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="Data directory (database and original files). "
            "Default: $HANDOVER_HOME, else ./handover-data.",
            show_default=False,
        ),
    ] = None,
) -> None:
    ctx.obj = _State(Settings.load(home))


# -- deals ---------------------------------------------------------------------------


@deal_app.command("add")
def deal_add(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="Short id used in every command, e.g. acme-crm.")],
    name: Annotated[str, typer.Option(help="What the deal is called.")],
    customer: Annotated[str, typer.Option(help="The customer's company.")],
    vendor: Annotated[str, typer.Option(help="Your company, the one making promises.")],
    owner: Annotated[str | None, typer.Option(help="The seller who owns the deal.")] = None,
    seller: Annotated[
        str | None,
        typer.Option(
            help="The seller's user account (see `handover user list`): they see the deal "
            "in the web app. --owner defaults to it.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create a deal. Fails if the slug is taken.

    Example: handover deal add acme-crm --name "Acme CRM rollout" --customer Acme
    --vendor Northwind --seller "Dana Whitfield"
    """
    from handover import auth

    store = _state(ctx).store
    account = auth.seller_account(store, seller) if seller else None
    deal = actions.create_deal(
        store,
        slug,
        name=name,
        customer=customer,
        vendor=vendor,
        owner=owner or (account.name if account else None),
        owner_user_id=account.id if account else None,
    )
    out.print(f"created deal {deal['slug']}: {escape(deal['name'])}")


@deal_app.command("list")
def deal_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """List deals with their source counts."""
    deals = _state(ctx).store.deals()
    if as_json:
        keys = ("slug", "name", "customer", "vendor", "owner", "created", "sources", "failed")
        docs = [{**{k: d[k] for k in keys}, "last_processed": d["last_processed"]} for d in deals]
        out.print_json(json.dumps({"schema_version": 1, "deals": docs}))
        return
    if not deals:
        out.print(
            "no deals yet; create one with `handover deal add SLUG --name … --customer … "
            "--vendor …`"
        )
        return
    table = Table("slug", "name", "customer", "owner", "sources", "failed", "last processed")
    for d in deals:
        table.add_row(
            d["slug"],
            escape(d["name"]),
            escape(d["customer"] or ""),
            escape(d["owner"] or ""),
            str(d["sources"]),
            str(d["failed"]),
            d["last_processed"] or "never",
        )
    out.print(table)


# -- people and glossary ------------------------------------------------------------


@app.command()
def people(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The deal.")],
    vendor: Annotated[
        list[str] | None,
        typer.Option(help='Vendor-side people: "A,B" or repeat the option. "Name <email>" works.'),
    ] = None,
    customer: Annotated[
        list[str] | None, typer.Option(help="Customer-side people, the same way.")
    ] = None,
) -> None:
    """Set who is on which side; speakers in transcripts are matched to these names.

    Merges with the people already set (a name given again moves to the new side) and
    recomputes the side of every stored segment. Without options, lists the people.

    Example: handover people acme-crm --vendor "Dana Whitfield,Raj Patel"
    --customer "Maria Gonzalez"
    """
    state = _state(ctx)
    deal = state.store.deal(slug)
    given = [(n, Side.VENDOR, e) for n, e in parse_people(vendor or [])]
    given += [(n, Side.CUSTOMER, e) for n, e in parse_people(customer or [])]
    if given:
        count, changed, requeued = actions.set_people(state.store, deal, given)
        out.print(f"{count} people set; {changed} segment sides updated")
        if requeued:
            out.print(f"sides changed: run `handover process {slug}` to derive the items again")
    table = Table("name", "side", "email")
    for p in state.store.participants(deal["id"]):
        table.add_row(escape(p["name"]), p["side"], escape(p["email"] or ""))
    out.print(table)


@app.command()
def glossary(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The deal.")],
    action: Annotated[GlossaryAction, typer.Argument(help="list, add or remove.")] = (
        GlossaryAction.list
    ),
    terms: Annotated[list[str] | None, typer.Argument(help="Terms to add or remove.")] = None,
) -> None:
    """Terms Whisper should spell as the customer does (passed as hotwords).

    The full glossary is what you add here, plus the deal's customer, vendor and
    people, plus distinctive terms found in its notes and scope documents (never in
    transcripts, so results do not depend on processing order).

    Example: handover glossary acme-crm add Guidewire "re-assess"
    """
    state = _state(ctx)
    deal = state.store.deal(slug)
    terms = [t.strip() for t in terms or [] if t.strip()]
    if action != GlossaryAction.list and not terms:
        raise HandoverError(f"`glossary {slug} {action}` needs at least one TERM")
    if action == GlossaryAction.add:
        added = state.store.add_glossary(deal["id"], terms, None)
        out.print(f"added {len(added)} term(s)")
    elif action == GlossaryAction.remove:
        removed = state.store.remove_glossary(deal["id"], terms)
        out.print(f"removed {removed} term(s)")
    manual = state.store.glossary(deal["id"])
    out.print("added by hand: " + (escape(", ".join(manual)) if manual else "(none)"))
    derived = [t for t in pipeline.deal_hotwords(state.store, deal) if t not in manual]
    out.print("from the deal: " + (escape(", ".join(derived)) if derived else "(none)"))


# -- sources -------------------------------------------------------------------------


@app.command()
def add(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The deal.")],
    files: Annotated[
        list[Path], typer.Argument(help="Recordings, transcripts, notes, scope docs.")
    ],
    as_kind: Annotated[
        SourceKind | None,
        typer.Option("--as", help="Override the kind detected from the content."),
    ] = None,
    date: Annotated[
        str | None, typer.Option(help="Meeting or document date, YYYY-MM-DD. Default: today.")
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title. Default: the file name.")] = None,
    replaces: Annotated[
        int | None, typer.Option(help="Id of the source this is a new version of (e.g. a SOW).")
    ] = None,
) -> None:
    """Add files to a deal; prints each new source's id.

    The kind is detected from the content: audio or video → recording; .vtt/.srt →
    transcript; text that is mostly "Name: words" lines → transcript; other text,
    .md and .docx → notes; .pdf → scope. Use --as scope for a SOW in md/docx/txt.
    Adding the same file again is a no-op. Run `handover process SLUG` next.

    Example: handover add acme-crm call.m4a notes.md --date 2026-11-02
    handover add acme-crm sow.docx --as scope
    """
    state = _state(ctx)
    deal = state.store.deal(slug)
    failed = 0
    for path in files:
        try:
            added = add_file(
                state.store,
                state.blobs,
                state.settings,
                deal,
                path,
                as_kind=as_kind,
                meeting_date=date,
                title=title,
                replaces=replaces,
            )
        except HandoverError as exc:
            failed += 1
            err.print(f"error: {escape(exc.message)}")
            continue
        if added.status == "added":
            out.print(f"added source {added.source_id}: {escape(added.filename)} ({added.kind})")
        elif added.status == "restored":
            out.print(f"{escape(added.filename)} was removed source {added.source_id}; restored it")
        else:
            out.print(
                f"{escape(added.filename)} is already source {added.source_id} of {slug}; "
                "nothing to do"
            )
    if failed:
        raise typer.Exit(1)


@app.command()
def sources(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The deal.")],
    removed: Annotated[bool, typer.Option(help="Also list removed sources.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """List a deal's sources with their processing stage."""
    state = _state(ctx)
    deal = state.store.deal(slug)
    rows = state.store.sources(deal["id"], include_removed=removed)
    if as_json:
        docs = [report.source_json(r) | {"removed": bool(r["removed_at"])} for r in rows]
        out.print_json(json.dumps({"schema_version": 1, "deal": slug, "sources": docs}))
        return
    table = Table("id", "kind", "title", "date", "stage", "length", "error")
    for r in rows:
        stage = r["stage"] + (f" {r['progress']:.0%}" if r["stage"] == "transcribing" else "")
        if r["removed_at"]:
            stage = "removed"
        length = report.clock(r["duration"]) if r["duration"] else ""
        table.add_row(
            str(r["id"]),
            r["kind"],
            escape(r["title"]),
            r["meeting_date"],
            stage,
            length,
            escape(r["error"] or ""),
        )
    out.print(table)


@app.command()
def remove(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The deal.")],
    source: Annotated[int, typer.Argument(help="Source id (see `handover sources SLUG`).")],
) -> None:
    """Hide a source from every output. The original is kept; `purge` deletes it."""
    state = _state(ctx)
    deal = state.store.deal(slug)
    row = state.store.remove_source(deal["id"], source, None)
    out.print(
        f"removed source {source} ({escape(row['filename'])}); the original is kept until "
        f"`handover purge {slug} {source}`"
    )


@app.command()
def purge(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The deal.")],
    source: Annotated[int, typer.Argument(help="Source id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a source's original file and its text for good (data-deletion requests)."""
    state = _state(ctx)
    deal = state.store.deal(slug)
    row = state.store.source(deal["id"], source, include_removed=True)
    if not yes and not typer.confirm(
        f"Delete {row['filename']} (source {source}) and its text for good?", err=True
    ):
        raise typer.Exit(1)
    row, unreferenced = state.store.purge_source(deal["id"], source, None)
    if unreferenced:
        state.blobs.delete(row["sha256"])
    from handover import redact as redaction

    redaction.drop_renditions(state.settings, row["sha256"])  # silenced copies hold it too
    out.print(f"purged source {source}; its original and text are deleted")


@app.command()
def redact(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The deal.")],
    source: Annotated[int, typer.Argument(help="A recording or timed transcript (source id).")],
    start: Annotated[
        str | None, typer.Option("--from", help="Start of the span, MM:SS or HH:MM:SS.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="End of the span, MM:SS.")] = None,
    reason: Annotated[str | None, typer.Option(help="Why (kept in the audit trail).")] = None,
    by: Annotated[str | None, typer.Option(help="Who redacts (audit trail).")] = None,
    listing: Annotated[
        bool, typer.Option("--list", help="List the source's redactions instead.")
    ] = False,
) -> None:
    """Hide a span of a recording or timed transcript (private chatter) from every
    output and from extraction, then derive the deal's items again.

    Every segment the span touches is hidden whole; the player plays silence there.
    The original file is kept (`purge` deletes it); the redaction is logged.
    Redactions cannot be undone.

    Example: handover redact acme-crm 1 --from 12:30 --to 14:05 --reason "private call"
    """
    from handover import redact as redaction

    state = _state(ctx)
    deal = state.store.deal(slug)
    if listing:
        state.store.source(deal["id"], source)
        rows = state.store.redactions(source)
        if not rows:
            out.print(f"source {source} has no redactions")
            return
        table = Table("id", "from", "to", "reason", "by", "at")
        for r in rows:
            table.add_row(
                str(r["id"]),
                report.clock(r["start"]),
                report.clock(r["end"]),
                escape(r["reason"] or ""),
                escape(r["by"] or ""),
                r["at"],
            )
        out.print(table)
        return
    if start is None or end is None:
        raise typer.BadParameter("give the span with --from and --to (or --list)")
    lo, hi = _parse_clock(start, "--from"), _parse_clock(end, "--to")
    if hi <= lo:
        raise typer.BadParameter("--to must be after --from", param_hint="--to")
    done = redaction.redact(state.store, deal, source, lo, hi, reason=reason, by=by)
    out.print(
        f"source {source} {report.clock(done.start)}–{report.clock(done.end)} redacted: "
        f"{done.segments} segment(s) hidden"
    )
    if done.clamped:
        out.print(f"note: --to was past the end of source {source}; the span ends there")
    try:
        result = pipeline.process_deal(
            state.store, state.blobs, state.settings, deal, progress=_RichProgress()
        )
    except Conflict:
        # A worker or another `process` holds the deal: the source waits in the queue.
        out.print(f"{slug} is being processed now; its items are derived again after that run")
        return
    if result.failed:
        raise typer.Exit(1)


# -- processing ------------------------------------------------------------------------


class _RichProgress(pipeline.Progress):
    def __init__(self) -> None:
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:>6.0f}/{task.total:.0f} s of audio"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=False,
        )
        self.tasks: dict[int, int] = {}

    def source_started(self, source: Row) -> None:
        if source["kind"] == SourceKind.RECORDING:
            if not self.bar.live.is_started:
                self.bar.start()
            self.tasks[source["id"]] = self.bar.add_task(
                f"transcribing {escape(source['filename'])}", total=source["duration"] or 1.0
            )

    def audio_progress(self, source: Row, done: float, total: float) -> None:
        task = self.tasks.get(source["id"])
        if task is not None:
            self.bar.update(task, completed=done, total=total)

    def source_finished(self, result: pipeline.SourceResult) -> None:
        task = self.tasks.pop(result.source_id, None)
        if task is not None:
            total = self.bar.tasks[self.bar.task_ids.index(task)].total
            self.bar.update(task, completed=total)
        if not self.tasks and self.bar.live.is_started:
            self.bar.stop()
        if result.error:
            err.print(f"error: source {result.source_id}: {escape(result.error)}")
        else:
            found = "clauses" if result.kind == SourceKind.SCOPE else "items found"
            out.print(
                f"source {result.source_id} {escape(result.filename)} ({result.kind}): "
                f"{result.segments} segments, {result.found} {found}"
            )

    def deal_step(self, deal: Row, step: str) -> None:
        err.print(f"[dim]{deal['slug']}: merging items and tracing them into scope…[/dim]")

    def deal_finished(self, deal: Row, result: pipeline.DealResult) -> None:
        if result.derived is not None:
            d = result.derived
            extra = f", {d.reattached} decision(s) re-attached" if d.reattached else ""
            extra += f", {d.orphaned} orphaned decision(s)" if d.orphaned else ""
            extra += f", {d.suspect} suspect" if d.suspect else ""
            out.print(f"{deal['slug']}: {d.items} items · {_counts_line(d.counts)}{extra}")


@app.command()
def process(
    ctx: typer.Context,
    slug: Annotated[str | None, typer.Argument(help="The deal; or use --all.")] = None,
    all_deals: Annotated[bool, typer.Option("--all", help="Process every deal.")] = False,
    batch: Annotated[
        bool, typer.Option("--batch/--no-batch", help="Batched Whisper inference (faster).")
    ] = True,
    batch_size: Annotated[int, typer.Option(min=1, max=64, help="Batch size.")] = 8,
    vad: Annotated[
        bool,
        typer.Option(
            "--vad/--no-vad",
            help="Skip non-speech with voice activity detection. --no-vad only for "
            "recordings where quiet speech gets dropped: Whisper may invent text in silence.",
        ),
    ] = True,
    hotwords: Annotated[
        bool, typer.Option("--hotwords/--no-hotwords", help="Pass the deal glossary to Whisper.")
    ] = True,
    whisper_model: Annotated[
        Path | None,
        typer.Option(
            help="A CTranslate2 Whisper model directory (e.g. a larger model). "
            "Default: $HANDOVER_WHISPER_MODEL, else the bundled Whisper base.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Do the pending work: transcribe, extract items, trace them into scope.

    Recordings are transcribed (English, CPU, int8); transcripts and notes are
    parsed; commitments and customer phrases are extracted; scope documents are
    split into clauses; then the deal's items are merged across meetings and traced.
    Incremental: finished sources are skipped, failed ones are retried, embeddings
    are cached. Exits 1 if any source failed; the others still complete. With
    --all, a deal another run is processing is skipped (exit 1 at the end).
    """
    if bool(slug) == all_deals:
        raise typer.BadParameter("give a deal SLUG or --all (not both)")
    state = _state(ctx)
    state.settings = state.settings.with_(whisper_model=whisper_model)
    deals = [d for d in state.store.deals()] if all_deals else [state.store.deal(slug or "")]
    options = pipeline.ProcessOptions(
        batched=batch, batch_size=batch_size, vad=vad, hotwords=hotwords
    )
    failed, busy = 0, 0
    for deal in deals:
        try:
            result = pipeline.process_deal(
                state.store, state.blobs, state.settings, deal, options, _RichProgress()
            )
        except Conflict as exc:
            if not all_deals:
                raise
            # Another run has this deal (the worker, a second cron job): leave it to
            # that run and carry on with the others.
            err.print(f"{deal['slug']}: skipped: {exc}")
            busy += 1
            continue
        failed += len(result.failed)
        if not result.sources:
            out.print(f"{deal['slug']}: nothing to do")
    if failed:
        err.print(f"{failed} source(s) failed; fix or remove them, then run process again")
    if failed or busy:
        raise typer.Exit(1)


# -- reading -------------------------------------------------------------------------


@app.command()
def transcript(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The deal.")],
    source: Annotated[int | None, typer.Argument(help="One source; default: all.")] = None,
    fmt: Annotated[
        TranscriptFormat, typer.Option("--format", "-f", help="Output format.")
    ] = TranscriptFormat.text,
) -> None:
    """Print what was said, `[HH:MM:SS] Speaker: text` a line.

    Without SOURCE, every recording, transcript and note of the deal in meeting order.
    """
    state = _state(ctx)
    deal = state.store.deal(slug)
    if source is not None:
        rows = [state.store.source(deal["id"], source)]
    else:
        rows = [r for r in state.store.sources(deal["id"]) if r["kind"] != SourceKind.SCOPE]
    parts = [(r, state.store.segments(r["id"])) for r in rows]
    unprocessed = [r for r in rows if r["stage"] != "done"]
    for r in unprocessed:
        err.print(f"note: source {r['id']} is {r['stage']}; run `handover process {slug}`")
    if fmt == TranscriptFormat.json:
        sys.stdout.write(report.transcript_json(deal, parts))
        return
    if fmt == TranscriptFormat.text:
        sys.stdout.write(report.transcript_text(parts))
        return
    timed = [(r, segs) for r, segs in parts if any(s["start"] is not None for s in segs)]
    if len(timed) != 1:
        raise HandoverError(
            f"--format {fmt} needs exactly one source with timings; pass SOURCE "
            f"(see `handover sources {slug}`)"
        )
    segs = timed[0][1]
    sys.stdout.write(
        report.transcript_vtt(segs) if fmt == TranscriptFormat.vtt else report.transcript_srt(segs)
    )


@app.command()
def search(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The deal.")],
    query: Annotated[
        str, typer.Argument(help='Words to find, e.g. "where did we promise training".')
    ],
    limit: Annotated[int, typer.Option(min=1, help="Most results to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Full-text search across everything said and written in a deal.

    Type as you would speak; punctuation and search syntax are taken literally, and
    word forms match (promise, promised, promises).
    """
    state = _state(ctx)
    deal = state.store.deal(slug)
    hits = state.store.search(deal["id"], query, limit)
    if as_json:
        keys = (
            "source_id",
            "title",
            "kind",
            "meeting_date",
            "segment_id",
            "start",
            "end",
            "speaker",
            "side",
            "text",
        )
        out.print_json(
            json.dumps(
                {
                    "schema_version": 1,
                    "deal": slug,
                    "query": query,
                    "hits": [{k: h[k] for k in keys} for h in hits],
                }
            )
        )
        return
    if not hits:
        out.print(f"no matches for {escape(query)!r} in {slug}")
        raise typer.Exit(0)
    for h in hits:
        where = f"source {h['source_id']}" + (
            f" · {report.clock(h['start'])}" if h["start"] is not None else ""
        )
        who = f"{escape(h['speaker'])}: " if h["speaker"] else ""
        out.print(f"[dim]{where}[/dim] {who}{_highlight(h['snippet'])}")


def _highlight(snippet: str) -> str:
    """Bold the [matched] words of an FTS snippet, escaping everything else."""
    return "".join(
        f"[bold]{escape(text)}[/bold]" if matched else escape(text)
        for text, matched in report.snippet_parts(snippet)
    )


# -- items, review, checklist --------------------------------------------------------


def _counts_line(counts: dict[str, int]) -> str:
    shown = [f"{counts.get(str(s), 0)} {s}" for s in Status if counts.get(str(s))]
    return ", ".join(shown) or "no items"


def _parse_clock(value: str, option: str) -> float:
    try:
        return actions.parse_clock(value, option)
    except HandoverError:
        raise typer.BadParameter(
            f"{value!r} is not a time; use HH:MM:SS", param_hint=option
        ) from None


def _write_output(text: str, output: Path | None) -> None:
    """Print, or write the file atomically so a reader never sees half of it."""
    if output is None:
        sys.stdout.write(text)
        return
    output = output.expanduser()
    if not output.parent.is_dir():
        raise HandoverError(f"{output.parent}: no such directory; create it or pick another -o")
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    tmp.replace(output)


class ChecklistFormat(StrEnum):
    html = "html"
    md = "md"
    csv = "csv"
    json = "json"


class FlagFormat(StrEnum):
    text = "text"
    md = "md"
    json = "json"


@app.command()
def items(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The deal.")],
    kind: Annotated[ItemKind | None, typer.Option(help="Only this kind.")] = None,
    status: Annotated[Status | None, typer.Option(help="Only this effective status.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the checklist JSON document (docs/json.md).")
    ] = False,
) -> None:
    """List a deal's commitments and customer phrases, most dangerous first.

    Each line: effective status, item id, kind/subtype, the words, where it was said,
    and the scope clause it traces to (or why it conflicts).
    """
    state = _state(ctx)
    deal = state.store.deal(slug)
    doc = report.checklist_document(state.store, deal, now())
    doc["items"] = [
        i
        for i in doc["items"]
        if (kind is None or i["kind"] == kind) and (status is None or i["status"] == status)
    ]
    if as_json:
        sys.stdout.write(render.checklist_json(doc))
        return
    if doc["stale"]:
        err.print(f"[yellow]note:[/] {slug} changed since it was traced; run `process {slug}`")
    if not doc["items"]:
        out.print(f"{slug}: no items" + (" match" if kind or status else "; run process first"))
        return
    table = Table("status", "id", "what was said", "where", "scope evidence")
    for i in doc["items"]:
        where = ""
        if i["source"]:
            where = i["source"]["name"]
            if i["start"] is not None:
                where += f" {report.clock(i['start'])}"
            if len(i["mentions"]) > 1:
                where += f" (+{len(i['mentions']) - 1})"
        trace = i["trace"]
        scope = ""
        if trace and i["status"] not in ("untraced", "accepted", "dismissed"):
            scope = f"§{trace['section']} {trace['document']}"
            if trace["reason"]:
                scope += f": {trace['reason']}"
        status_text = i["status"] + ("\nsuspect" if i["suspect"] else "")
        said = f"[dim]{i['kind'].replace('_', ' ')}/{i['subtype']}[/dim] {escape(i['text'])}"
        table.add_row(status_text, i["id"], said, escape(where), escape(scope))
    out.print(table)
    out.print(_counts_line(doc["counts"]))


@app.command()
def clauses(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The deal.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """List the clauses of a deal's scope documents, with the ids `review --clause` takes."""
    state = _state(ctx)
    deal = state.store.deal(slug)
    rows = state.store.deal_clauses(deal["id"])
    if as_json:
        keys = ("id", "document", "section", "heading", "category", "text", "sha256")
        out.print_json(
            json.dumps(
                {
                    "schema_version": 1,
                    "deal": slug,
                    "clauses": [{k: r[k] for k in keys} for r in rows],
                }
            )
        )
        return
    if not rows:
        out.print(
            f"{slug}: no clauses; add a scope document with `handover add {slug} FILE "
            "--as scope` and run process"
        )
        return
    table = Table("id", "document", "section", "category", "text")
    for r in rows:
        table.add_row(
            str(r["id"]), escape(r["document"]), r["section"], r["category"], escape(r["text"])
        )
    out.print(table)


@app.command("review")
def review_cmd(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The deal.")],
    item: Annotated[str, typer.Argument(help="The item id (see `handover items SLUG`).")],
    decision: Annotated[
        str,
        typer.Option(
            help="confirmed (it is in scope) | not-a-commitment | accepted-gap (a known gap "
            "someone owns) | linked (to --clause) | reopen (back to the machine's verdict).",
            show_default=False,
        ),
    ],
    by: Annotated[str, typer.Option(help="Who decides (kept in the audit trail).")],
    clause: Annotated[
        int | None, typer.Option(help="With --decision linked: the clause id.")
    ] = None,
    note: Annotated[str | None, typer.Option(help="Why, for the audit trail.")] = None,
) -> None:
    """Record a review decision on an item. Decisions are appended, never edited;
    the latest one sets the item's effective status.

    Example: handover review acme-crm c-3f9a1b2c4d --decision accepted-gap --by "Lee Chen"
    --note "agreed with the customer on 14 Nov"
    """
    if not by.strip():
        raise typer.BadParameter("say who decides", param_hint="--by")
    store = _state(ctx).store
    status = actions.decide(
        store,
        store.deal(slug),
        item,
        decision,
        by=by,
        clause_id=clause,
        note=note,
    )
    out.print(f"{item}: {decision} by {escape(by.strip())} → {status}")


item_app = typer.Typer(help="Add items that extraction missed.", no_args_is_help=True)
app.add_typer(item_app, name="item")


@item_app.command("add")
def item_add(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The deal.")],
    kind: Annotated[ItemKind, typer.Option(help="What it is.")],
    text: Annotated[str, typer.Option(help="The words, as said.")],
    by: Annotated[str, typer.Option(help="Who adds it (kept in the audit trail).")],
    subtype: Annotated[
        str | None,
        typer.Option(
            help="firm|hedged|negative for a commitment (default firm); "
            "need|goal|success|concern|term for a customer phrase (default need).",
            show_default=False,
        ),
    ] = None,
    source: Annotated[int | None, typer.Option(help="The source it was said in.")] = None,
    at: Annotated[str | None, typer.Option(help="When in that source, HH:MM:SS.")] = None,
) -> None:
    """Add a commitment or customer phrase by hand; it is traced like the others and
    marked manual.

    Example: handover item add acme-crm --kind commitment --text "We'll host the
    kickoff on site" --source 1 --at 00:12:40 --by "Lee Chen"
    """
    from handover import manual

    state = _state(ctx)
    deal = state.store.deal(slug)
    seconds = _parse_clock(at, "--at") if at is not None else None
    item_id = manual.add_item(
        state.store,
        deal,
        kind=str(kind),
        text=text,
        subtype=subtype,
        source_id=source,
        at=seconds,
        by=by,
    )
    result = pipeline.retrace(state.store, state.settings, deal)
    row = state.store.item(deal["id"], item_id)
    out.print(f"added {item_id} ({kind}, manual) → {row['auto_status']}")
    out.print(f"{slug}: {_counts_line(result.counts)}")


@app.command()
def sides(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The deal.")],
    source: Annotated[int, typer.Argument(help="The recording or transcript (source id).")],
    side: Annotated[Side, typer.Option(help="vendor or customer.")],
    start: Annotated[str, typer.Option("--from", help="Start of the range, HH:MM:SS.")],
    end: Annotated[str, typer.Option("--to", help="End of the range, HH:MM:SS.")],
    speaker: Annotated[str | None, typer.Option(help="Who speaks in the range.")] = None,
    by: Annotated[str | None, typer.Option(help="Who sets it (audit trail).")] = None,
) -> None:
    """Set who speaks in a time range of a recording (there is no diarization offline),
    then derive the deal's items again.

    Example: handover sides acme-crm 1 --side customer --speaker "Maria Gonzalez"
    --from 00:03:10 --to 00:04:05
    """
    state = _state(ctx)
    if side == Side.UNKNOWN:
        raise typer.BadParameter("use vendor or customer", param_hint="--side")
    lo, hi = _parse_clock(start, "--from"), _parse_clock(end, "--to")
    if hi <= lo:
        raise typer.BadParameter("--to must be after --from", param_hint="--to")
    deal = state.store.deal(slug)
    changed = actions.set_side_range(
        state.store, deal, source, side, lo, hi, speaker=speaker, by=by
    )
    out.print(
        f"source {source} {report.clock(lo)}–{report.clock(hi)}: {changed} segment(s) set to {side}"
    )
    result = pipeline.process_deal(
        state.store, state.blobs, state.settings, deal, progress=_RichProgress()
    )
    if result.failed:
        raise typer.Exit(1)


@app.command()
def checklist(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The deal.")],
    fmt: Annotated[
        ChecklistFormat, typer.Option("--format", "-f", help="html, md, csv or json.")
    ] = ChecklistFormat.html,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
) -> None:
    """The kickoff checklist: conflicts, then untraced, weak, traced, accepted and
    dismissed items, each with its quote, who said it and when, and its evidence.

    Example: handover checklist acme-crm --format html -o kickoff.html
    """
    state = _state(ctx)
    deal = state.store.deal(slug)
    doc = report.checklist_document(state.store, deal, now())
    _write_output(render.render_checklist(doc, str(fmt)), output)
    if output is not None:
        err.print(f"{slug}: {_counts_line(doc['counts'])} → {output}")


@app.command()
def flag(
    ctx: typer.Context,
    slugs: Annotated[list[str] | None, typer.Argument(help="Deals to check; or --all.")] = None,
    all_deals: Annotated[bool, typer.Option("--all", help="Check every deal.")] = False,
    kind: Annotated[
        str | None,
        typer.Option(help="Comma-separated kinds. Default: commitment,customer_phrase."),
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated effective statuses to flag: conflict, untraced, weak, "
            "traced, accepted, dismissed, and suspect. Default: untraced,conflict."
        ),
    ] = None,
    fmt: Annotated[FlagFormat, typer.Option("--format", "-f", help="text, md or json.")] = (
        FlagFormat.text
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only items first seen after this ISO time, or `last` for the previous run."
        ),
    ] = None,
) -> None:
    """The batch job for cron or CI: list the items whose status needs attention.

    Reads stored statuses (no models). Exit status: 0 nothing flagged, 1 items
    flagged, 2 an error (unknown deal, bad option). Each run is recorded, so the
    report marks items that are new since the previous run.

    Example (nightly): handover flag --all --fail-on conflict,untraced --format json
    -o /var/reports/handover-flag.json
    """
    from handover import flag as flagging

    if bool(slugs) == all_deals:
        raise typer.BadParameter("give deal SLUGs or --all (not both)")
    try:
        state = _state(ctx)
        options = flagging.FlagOptions(
            kinds=flagging.parse_list(kind, flagging.DEFAULT_KINDS, "--kind")
            or flagging.DEFAULT_KINDS,
            fail_on=flagging.parse_list(fail_on, flagging.FAIL_ON_CHOICES, "--fail-on")
            or flagging.DEFAULT_FAIL_ON,
            since=_since(since),
        )
        deals = state.store.deals() if all_deals else [state.store.deal(s) for s in slugs or []]
        result = flagging.run(state.store, deals, options)
        _write_output(render.render_flag(result, str(fmt)), output)
    except HandoverError as exc:
        err.print(f"error: {escape(exc.message)}")
        raise typer.Exit(2) from None
    for doc in result["deals"]:
        if doc["stale_reason"]:
            err.print(
                f"warning: {doc['deal']}: {doc['stale_reason']}; "
                f"run `handover process {doc['deal']}`"
            )
    raise typer.Exit(1 if result["total"] else 0)


def _since(value: str | None) -> str | None:
    if value is None or value == "last":
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HandoverError(
            f"--since {value!r} is not an ISO time; use e.g. 2026-11-20T06:00:00Z or `last`"
        ) from None
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- models --------------------------------------------------------------------------


@app.command("eval")
def eval_cmd(
    directory: Annotated[
        Path, typer.Argument(help="A labelled set (data/eval) or one conversation in it.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the stable JSON report.")] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="List every miss, false alarm, status and section error."
        ),
    ] = False,
    workdir: Annotated[
        Path | None,
        typer.Option(
            help="Keep the scratch data directory here and reuse it: recordings are not "
            "transcribed again, extraction and tracing always run afresh. Inspect a deal "
            "with `handover --home DIR items SLUG`. Default: a temporary directory.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
) -> None:
    """Score the real pipeline against labelled conversations (docs/eval.md).

    Every conversation becomes a deal in a scratch home and goes through add and
    process; the items found are matched to the labels by span overlap on the same
    source (word overlap on recordings). Prints precision, recall and F1 for
    commitments, customer phrases and each subtype, trace-status accuracy with its
    confusion matrix, and, first, the count of untraced or conflicting items that
    were reported as traced.

    Example: handover eval data/eval -v;  handover eval data/eval/holdout --json
    """
    import tempfile
    from contextlib import nullcontext

    from handover import evalset, evaluate

    conversations = evalset.load_set(directory)
    scratch = nullcontext(workdir) if workdir else tempfile.TemporaryDirectory(prefix="handover-")
    with scratch as home_dir:
        home = Path(home_dir)
        results = []
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} conversations"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        with bar:
            task = bar.add_task("evaluating", total=len(conversations))
            for conv in conversations:
                bar.update(task, description=f"evaluating {escape(conv.name)}")
                results.append(evaluate.run_conversation(conv, home))
                bar.advance(task)
    for line in (u for r in results for u in evaluate.unlocated(r)):
        err.print(f"warning: quote not found in the parsed text, matched by words: {escape(line)}")
    result = evaluate.score(results, str(directory))
    text = json.dumps(result, indent=2, ensure_ascii=False) + "\n" if as_json else None
    _write_output(text or render.render_eval(result, verbose=verbose), output)


# -- users ---------------------------------------------------------------------------

user_app = typer.Typer(
    help="Web app accounts: seller (own deals), lead (reviews every deal), admin.",
    no_args_is_help=True,
)
app.add_typer(user_app, name="user")

PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of stdin (for scripts) instead of asking.",
    ),
]


def _new_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help='The name decisions show, e.g. "Lee Chen".')],
    role: Annotated[str, typer.Option(help="seller | lead | admin.", show_default=False)],
    password_stdin: PasswordStdin = False,
) -> None:
    """Create an account; asks for the password twice, hidden.

    Passwords need at least 10 characters and are stored only as argon2id hashes.

    Example: handover user add "Lee Chen" --role lead
    """
    from handover import auth

    store = _state(ctx).store
    auth.parse_role(role)  # a typo in the role is refused before the password is asked
    user = auth.add_user(store, name, role, _new_password(password_stdin))
    out.print(f"created {user.role} {escape(user.name)}")


@user_app.command("list")
def user_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """List the accounts with their roles."""
    from handover import auth

    users = auth.users(_state(ctx).store)
    if as_json:
        keys = ("name", "role", "created", "disabled_at")
        docs = [{k: getattr(u, k) for k in keys} for u in users]  # a Role is a str
        out.print_json(json.dumps({"schema_version": 1, "users": docs}))
        return
    if not users:
        out.print("no users yet; create the first with `handover user add NAME --role admin`")
        return
    table = Table("name", "role", "created", "disabled")
    for u in users:
        table.add_row(escape(u.name), str(u.role), u.created, u.disabled_at or "")
    out.print(table)


@user_app.command("passwd")
def user_passwd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The account.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a new password; the account's open sessions end."""
    from handover import auth

    store = _state(ctx).store
    auth.get_user(store, name)  # an unknown name is refused before the password is asked
    user = auth.set_password(store, name, _new_password(password_stdin))
    out.print(f"new password set for {escape(user.name)}; their sessions ended")


@user_app.command("disable")
def user_disable(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The account.")]
) -> None:
    """Stop an account signing in, and end its sessions.

    The account is kept, since its decisions and deals still name it; `user enable`
    undoes this."""
    from handover import auth

    user = auth.disable_user(_state(ctx).store, name)
    out.print(f"disabled {escape(user.name)}; their sessions ended")


@user_app.command("enable")
def user_enable(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The account.")]
) -> None:
    """Let a disabled account sign in again."""
    from handover import auth

    user = auth.enable_user(_state(ctx).store, name)
    out.print(f"enabled {escape(user.name)}")


# -- web ---------------------------------------------------------------------------


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option(
            help="Interface to listen on. Any other than loopback needs an admin account "
            "first (`handover user add NAME --role admin`)."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Start `handover worker` beside the server (--no-worker when one runs "
            "elsewhere, e.g. under systemd).",
        ),
    ] = True,
) -> None:
    """The web app: sellers create deals and drop files; delivery leads review the
    checklist at kickoff. Processing runs in a separate, lower-priority worker
    process, so uploads never wait for transcription.

    Example: handover serve --port 8000, then open http://127.0.0.1:8000/
    """
    from handover import auth, web

    auth.check_listen_host(_state(ctx).store, host)
    web.serve(_state(ctx).settings, host=host, port=port, worker_process=worker)


@app.command("worker")
def worker_cmd(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Process what is queued now, then exit (for cron).")
    ] = False,
    poll: Annotated[
        float, typer.Option(min=0.1, help="Seconds between looks at an empty queue.")
    ] = 1.0,
    parent: Annotated[
        int | None,
        typer.Option(
            hidden=True, help="Stop when this process (the `serve` that started us) is gone."
        ),
    ] = None,
) -> None:
    """Process queued sources in the background, at lower priority; `serve` starts one.

    The queue is the database: sources wait in stage pending, so a restarted worker
    carries on where the last stopped. Failed sources wait for a retry from the web
    page or `handover process SLUG`. One worker per home.
    """
    from handover import worker as background

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s", stream=sys.stderr
    )
    background.lower_priority()
    import os

    # A `serve` killed with SIGKILL cannot stop its worker: the worker notices instead.
    orphaned = (lambda: os.getppid() != parent) if parent else (lambda: False)
    stats = background.run(_state(ctx).settings, once=once, poll=poll, should_stop=orphaned)
    err.print(f"worker stopped: {stats.deals} deal run(s), {stats.failed_sources} failed source(s)")


@app.command()
def models(
    ctx: typer.Context,
    check: Annotated[
        bool, typer.Option("--check", help="Assemble Whisper if needed and load all three models.")
    ] = False,
) -> None:
    """Show where the models come from; --check assembles and loads them (make install does)."""
    from handover import models as m

    settings = _state(ctx).settings
    out.print(f"whisper:    {m.whisper_dir(settings.whisper_model, settings.cache)}")
    out.print(f"spacy:      {settings.spacy_model}")
    out.print(f"embeddings: {m.embed_model_dir(settings.embed_model)}")
    if check:
        m.load_whisper(
            settings.whisper_model,
            settings.cache,
            device=settings.device,
            compute_type=settings.compute_type,
        )
        m.load_spacy(settings.spacy_model)
        m.load_embedder(settings.embed_model)
        out.print("all three models load offline")


# -- operations: doctor, backup, restore ------------------------------------------------


@app.command("doctor")
def doctor_cmd(
    ctx: typer.Context,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="First repair what is safe to repair (findings marked fixable: stale "
            "leases, leftover drafts and temp files, orphan blobs and rows), then check.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Check this home: database integrity, every original against its sha256, orphans.

    Read-only unless --fix; safe while serve, the worker or process run. Exit status
    0: no problem (warnings allowed); 1: a problem was found.
    """
    settings = _state(ctx).settings
    if fix:
        for line in doctor.repair(settings):
            err.print(f"fixed: {escape(line)}")
    found = doctor.examine(settings)
    if as_json:
        out.print_json(json.dumps(found.as_json(now()), ensure_ascii=False))
    else:
        _print_checkup(found)
    raise typer.Exit(0 if found.ok else 1)


def _print_checkup(found: doctor.Report) -> None:
    out.print(f"doctor: {escape(str(found.home))}")
    for name, summary in found.checks.items():
        if found.status(name) == "ok":
            out.print(f"  [green]ok[/]       {name:<13} {escape(summary)}")
        for f in (f for f in found.findings if f.check == name):
            problem = f.severity == doctor.Severity.PROBLEM
            label = "[red]PROBLEM[/]" if problem else "[yellow]warning[/]"
            out.print(f"  {label}  {name:<13} {escape(f.message)}")
            out.print(f"  {'':<8} {'':<13} → {escape(f.fix)}")
    problems, warnings = len(found.problems), len(found.warnings)
    out.print(
        f"{problems} problem(s), {warnings} warning(s)"
        + ("" if problems else ": this home is intact")
    )


@contextlib.contextmanager
def _bytes_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar in bytes on a terminal (nothing on a pipe: stderr stays one line
    per error); yields the callback to feed it (bytes done, bytes in all)."""
    if not err.is_terminal:
        yield lambda done, total: None
        return
    from rich.progress import DownloadColumn, TransferSpeedColumn

    bar = Progress(
        TextColumn(description),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@app.command("backup")
def backup_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A new directory to write the backup into.")],
) -> None:
    """Back up this home: the database (SQLite's online backup, safe while serve, the
    worker or process write), the originals it refers to, and a manifest of sha256s.

    Written to PATH.partial and renamed to PATH when complete; PATH must be new or
    empty. Example: handover backup /srv/backups/handover-2026-11-24
    """
    from handover import backup

    with _bytes_bar("backing up") as progress:
        result = backup.create(_state(ctx).settings, path, progress)
    out.print(
        f"backup {escape(str(path))}: {result.deals} deal(s), {result.sources} "
        f"source(s), {result.blobs} original(s), {result.bytes / 1e6:.1f} MB in "
        f"{result.seconds:.2f} s (schema {result.schema_version})"
    )


@app.command("restore")
def restore_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A directory `handover backup` wrote.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Bring a backup back into this home.

    Every file is checked against the manifest first; a damaged backup changes
    nothing. Refused while serve, a worker or process runs here. The
    current database and its originals are kept in HOME/before-restore-TIME. Ends
    with `handover doctor` (exit 1 if it finds a problem).
    """
    from handover import backup

    settings = _state(ctx).settings
    if (
        settings.db_path.is_file()
        and not yes
        and not typer.confirm(
            f"Replace the database in {settings.home} with the backup {path}? "
            "(the current one is kept in a folder beside it)",
            err=True,
        )
    ):
        raise typer.Exit(1)
    with _bytes_bar("verifying and restoring") as progress:
        result = backup.restore(settings, path, progress)
    out.print(
        f"restored the backup of {result.created_at}: {result.blobs_copied} original(s) "
        f"copied, {result.blobs_kept} already here"
    )
    if result.previous_home:
        kept = escape(str(result.previous_home))
        out.print(f"the previous database and its originals are kept in {kept} (a home: --home it)")
    _print_checkup(result.report)
    if not result.report.ok:
        raise typer.Exit(1)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user-fixable errors become one line and a non-zero exit."""
    # pypdf logs repairs of damaged files to stderr; our own error line says what matters.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        app(args=argv, prog_name="handover")
    except HandoverError as exc:
        err.print(f"error: {escape(exc.message)}")
        sys.exit(exc.exit_code)

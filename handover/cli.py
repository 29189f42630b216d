"""The ``handover`` command: a thin layer that parses options, calls the library, prints.

Errors the user can fix are printed as one line, ``error: …``, with exit status 1
(2 for usage mistakes). Human output goes to stdout; progress goes to stderr so
``--format json`` output stays clean for pipes.
"""

from __future__ import annotations

import json
import logging
import re
import sys
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

from handover import pipeline, report
from handover.blobs import BlobStore
from handover.config import Settings
from handover.errors import HandoverError
from handover.ingest import add_file
from handover.people import parse_people
from handover.store import Row, Store
from handover.types import Side, SourceKind

app = typer.Typer(
    name="handover",
    help=(
        "Keep sales promises from falling out between the sale and the delivery.\n\n"
        "Typical flow: [bold]deal add[/] → [bold]people[/] → [bold]add[/] files → "
        "[bold]process[/] → [bold]transcript[/] / [bold]search[/]."
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

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


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
) -> None:
    """Create a deal. Fails if the slug is taken.

    Example: handover deal add acme-crm --name "Acme CRM rollout" --customer Acme
    --vendor Northwind --owner "Dana Whitfield"
    """
    if not _SLUG.match(slug):
        raise HandoverError(
            f"slug {slug!r} must be lowercase letters, digits and dashes (e.g. acme-crm)"
        )
    deal = _state(ctx).store.create_deal(slug, name, customer, vendor, owner)
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
        state.store.upsert_participants(deal["id"], given)
        changed = pipeline.resolve_sides(state.store, deal)
        out.print(f"{len(given)} people set; {changed} segment sides updated")
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
    out.print(f"purged source {source}; its original and text are deleted")


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
            out.print(
                f"source {result.source_id} {escape(result.filename)} ({result.kind}): "
                f"{result.segments} segments"
            )


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
    """Do the pending work: parse text sources and transcribe recordings.

    Incremental: finished sources are skipped, failed ones are retried. Speech is
    transcribed in English on the CPU (int8). Exits 1 if any source failed; the
    others still complete.
    """
    if bool(slug) == all_deals:
        raise typer.BadParameter("give a deal SLUG or --all (not both)")
    state = _state(ctx)
    state.settings = state.settings.with_(whisper_model=whisper_model)
    deals = [d for d in state.store.deals()] if all_deals else [state.store.deal(slug or "")]
    options = pipeline.ProcessOptions(
        batched=batch, batch_size=batch_size, vad=vad, hotwords=hotwords
    )
    failed = 0
    for deal in deals:
        result = pipeline.process_deal(
            state.store, state.blobs, state.settings, deal, options, _RichProgress()
        )
        failed += len(result.failed)
        if not result.sources:
            out.print(f"{deal['slug']}: nothing to do")
    if failed:
        err.print(f"{failed} source(s) failed; fix or remove them, then run process again")
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
    parts = re.split(r"(\[[^\[\]]*\])", snippet)
    return "".join(
        f"[bold]{escape(p[1:-1])}[/bold]" if p.startswith("[") and p.endswith("]") else escape(p)
        for p in parts
    )


# -- models --------------------------------------------------------------------------


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


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user-fixable errors become one line and a non-zero exit."""
    # pypdf logs repairs of damaged files to stderr; our own error line says what matters.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        app(args=argv, prog_name="handover")
    except HandoverError as exc:
        err.print(f"error: {escape(exc.message)}")
        sys.exit(exc.exit_code)

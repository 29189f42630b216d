"""`handover flag --all` on many deals, against the floor: sqlite3 + json in a bare process.

    .venv/bin/python bench/flag.py [--deals 100 300 1000] [--items 50] [--repeat 2]
                                   [--profile] [--cache DIR] [--rebuild]

For each size, a home with that many synthetic deals of ``--items`` items each is
built directly through ``handover.store`` (a transcript source with 60 segments, a
scope document with 30 clauses, items with 1-2 mentions and up to three traces each,
statuses 10 % conflict, 40 % untraced, 20 % weak, 30 % traced, a few review
decisions) and cached in ``.cache/bench/flag-<deals>x<items>/`` (``--rebuild`` makes
it again). Then, side by side, round-robin, best of ``--repeat`` after one warm-up
(so there is a previous run, as under cron):

* ``handover flag``: ``.venv/bin/handover --home HOME flag --all --format json`` as a
  subprocess, stdout captured (exit status 1: items flagged).
* ``floor``: ``python -c SCRIPT HOME/handover.db``: the standard ``sqlite3`` module
  reads the rows flag reads (deals, sources, clauses, decisions, items, mentions,
  rank-0 traces), keeps items whose status is untraced or conflict after the latest
  decision, and prints them per deal as JSON.

Process start is included on both sides. Target: flag within 3x the floor at 1,000
deals. The growth over 100 / 300 / 1,000 deals shows whether cost is linear.

It also runs flag once with ``-X importtime`` and fails loudly if torch, spaCy,
faster-whisper, CTranslate2, transformers or sentence-transformers were imported
(``flag`` must load no model), and prints the slowest imports. ``--profile`` runs
flag once under ``python -m cProfile`` at the largest size.

Building the 1,000-deal home takes a minute or two the first time; a full run a few
minutes on a 2-core machine. Never run by the tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pstats
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CACHE, machine, round_robin

HANDOVER = Path(sys.executable).parent / "handover"
HEAVY = ("torch", "spacy", "thinc", "faster_whisper", "ctranslate2", "transformers")
HEAVY += ("sentence_transformers", "onnxruntime", "av")
STATUSES = ("conflict",) * 10 + ("untraced",) * 40 + ("weak",) * 20 + ("traced",) * 30

FLOOR = r"""
import json, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.row_factory = sqlite3.Row
def rows(sql):
    return [dict(r) for r in conn.execute(sql)]
deals = rows("SELECT * FROM deals ORDER BY slug")
sources = {r["id"]: r for r in rows("SELECT * FROM sources")}
clauses = {r["id"]: r for r in rows("SELECT * FROM clauses")}
latest = {}
for d in rows("SELECT * FROM decisions ORDER BY id"):
    latest[d["item_id"]] = d
mentions = {}
for m in rows("SELECT * FROM mentions ORDER BY source_id, start"):
    mentions.setdefault(m["item_id"], []).append(m)
traces = {t["item_id"]: t for t in rows("SELECT * FROM traces WHERE rank = 0")}
effective = {"accepted-gap": "accepted", "not-a-commitment": "dismissed",
             "confirmed": "traced", "linked": "traced"}
by_deal = {}
for item in rows("SELECT * FROM items ORDER BY deal_id, created_at, id"):
    decision = latest.get(item["id"])
    status = effective.get(decision["decision"], item["auto_status"]) if decision \
        else item["auto_status"]
    if status not in ("untraced", "conflict"):
        continue
    trace = traces.get(item["id"])
    clause = clauses.get(trace["clause_id"]) if trace else None
    item["status"] = status
    item["decision"] = decision
    item["mentions"] = [
        {**m, "source": sources[m["source_id"]]["filename"]} for m in mentions.get(item["id"], [])
    ]
    item["trace"] = {**trace, "clause": clause} if trace else None
    by_deal.setdefault(item["deal_id"], []).append(item)
out = [{"deal": d["slug"], "owner": d["owner"], "items": by_deal.get(d["id"], [])} for d in deals]
print(json.dumps({"deals": out}, indent=2, ensure_ascii=False))
"""


# --- the synthetic homes -----------------------------------------------------------------


def _hex(*parts: object) -> str:
    return hashlib.sha256("-".join(map(str, parts)).encode()).hexdigest()


def build_home(deals: int, items: int, cache: Path, rebuild: bool) -> Path:
    """A home with ``deals`` deals of ``items`` items each (cached; built via the store)."""
    from handover.store import Store
    from handover.types import Category, Clause, Segment, Side, Stage

    home = cache / f"flag-{deals}x{items}"
    marker = home / "ready"
    if marker.exists() and not rebuild:
        return home
    shutil.rmtree(home, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".flag-{deals}x{items}-", dir=cache))
    started = time.perf_counter()
    rng = random.Random(deals)
    store = Store.open(tmp / "handover.db")
    people = [("Dana Whitfield", Side.VENDOR), ("Raj Patel", Side.VENDOR)]
    people += [("Maria Gonzalez", Side.CUSTOMER), ("Tom Becker", Side.CUSTOMER)]
    side_of = {name: side for name, side in people}.get
    for d in range(deals):
        slug = f"deal-{d:04d}"
        deal = store.create_deal(
            slug, f"Customer {d} - modernisation", f"Customer {d}", "Northwind", "Dana Whitfield"
        )
        deal_id = deal["id"]
        store.upsert_participants(deal_id, [(n, s, None) for n, s in people])
        transcript = store.add_source(
            deal_id,
            kind="transcript",
            fmt="vtt",
            filename="discovery-call.vtt",
            sha256=_hex(d, "vtt"),
            size=40_000,
            mime="text/vtt",
            meeting_date="2026-11-02",
            title="Discovery call",
        )
        scope = store.add_source(
            deal_id,
            kind="scope",
            fmt="docx",
            filename="sow.docx",
            sha256=_hex(d, "sow"),
            size=60_000,
            mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            meeting_date="2026-11-12",
            title="Statement of Work",
        )
        segments = [
            Segment(
                n,
                f"We'll take care of the dispatch workflow item {n} for depot {d}, by next month.",
                start=n * 12.0,
                end=n * 12.0 + 10,
                speaker=people[n % 4][0],
            )
            for n in range(60)
        ]
        store.replace_segments(transcript, segments, lambda s: side_of(s or "", Side.UNKNOWN))
        categories = [Category.SCOPE] * 20 + [Category.EXCLUSION] * 5 + [Category.ASSUMPTION] * 5
        clauses = [
            (
                Clause(
                    n,
                    f"{n // 10 + 2}.{n % 10 + 1}",
                    {"scope": "2 Scope", "exclusion": "5 Out of scope"}.get(
                        str(cat), "6 Assumptions"
                    ),
                    f"The Supplier will configure module {n} of the dispatch platform for "
                    f"up to {n + 3} depots of customer {d}.",
                    cat,
                ),
                _hex(d, "clause", n),
            )
            for n, cat in enumerate(categories)
        ]
        store.replace_clauses(scope, clauses)
        for source in (transcript, scope):
            store.set_stage(source, Stage.DONE)
        seg_ids = [row["id"] for row in store.segments(transcript)]
        clause_rows = store.deal_clauses(deal_id)
        item_rows, mentions, traces = [], [], []
        for i in range(items):
            commitment = i % 3 != 2
            item_id = ("c-" if commitment else "p-") + _hex(d, "item", i)[:10]
            text = (
                f"We'll migrate {i + 2} years of shipment history for depot {d}"
                if commitment
                else f"We need one view of every truck in region {i}, in real time"
            )
            status = rng.choice(STATUSES)
            item_rows.append(
                {
                    "id": item_id,
                    "kind": "commitment" if commitment else "customer_phrase",
                    "subtype": "firm" if commitment else "need",
                    "text": text,
                    "norm": text.lower(),
                    "side": "vendor" if commitment else "customer",
                    "side_inferred": 0,
                    "owner": None,
                    "due": "2027-03-31" if i % 5 == 0 else None,
                    "due_text": "by the end of March" if i % 5 == 0 else None,
                    "quantities": json.dumps([f"{i + 2} years"]),
                    "confidence": 0.8,
                    "rule": "we'll + verb",
                    "manual": 0,
                    "created_by": None,
                    "created_at": "2026-11-20T06:00:00Z",
                    "auto_status": status,
                    "score": round(rng.random(), 4),
                    "suspect": int(i % 25 == 0),
                    "suspect_reason": "its clause changed" if i % 25 == 0 else None,
                }
            )
            for m in range(1 + (i % 2)):
                seg = (i + m * 7) % 60
                mentions.append(
                    {
                        "item_id": item_id,
                        "source_id": transcript,
                        "segment_id": seg_ids[seg],
                        "speaker": people[seg % 4][0],
                        "start": seg * 12.0,
                        "end": seg * 12.0 + 10,
                        "quote": text,
                        "char_start": 0,
                        "char_end": len(text),
                    }
                )
            for rank in range(0 if status == "untraced" else 3):
                clause = clause_rows[(i + rank * 11) % len(clause_rows)]
                traces.append(
                    {
                        "item_id": item_id,
                        "rank": rank,
                        "clause_id": clause["id"],
                        "clause_sha256": clause["sha256"],
                        "score": round(rng.random(), 4),
                        "matched_terms": json.dumps(["dispatch", "depots"]),
                        "reason": "in 5 Out of scope" if status == "conflict" else None,
                    }
                )
        store.save_items(deal_id, item_rows, mentions, traces, [])
        for i in range(0, items, 10):  # a few review decisions per deal
            store.add_decision(
                deal_id,
                item_id=item_rows[i]["id"],
                original_item_id=item_rows[i]["id"],
                decision="accepted-gap" if i % 20 else "not-a-commitment",
                by="Lee Chen",
                note="agreed with the customer",
                item_text=item_rows[i]["text"],
            )
    store.close()
    (tmp / "ready").write_text(f"{deals} deals x {items} items\n")
    tmp.rename(home)
    print(f"# built {home.name} in {time.perf_counter() - started:.0f} s", flush=True)
    return home


# --- checks ------------------------------------------------------------------------------


def flag_command(home: Path, python_flags: tuple[str, ...] = ()) -> list[str]:
    if python_flags or not HANDOVER.exists():
        return [sys.executable, *python_flags, "-m", "handover", "--home", str(home), "flag",
                "--all", "--format", "json"]  # fmt: skip
    return [str(HANDOVER), "--home", str(home), "flag", "--all", "--format", "json"]


def run(command: list[str], allowed: tuple[int, ...] = (0, 1)) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode not in allowed:
        raise RuntimeError(f"{command[:4]} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return done


def import_check(home: Path) -> None:
    done = run(flag_command(home, ("-X", "importtime")))
    cumulative: dict[str, int] = {}
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            cumulative[m[4]] = int(m[2])
    heavy = sorted({n for n in cumulative if n.split(".")[0] in HEAVY})
    top = sorted(((us, name) for name, us in cumulative.items() if "." not in name), reverse=True)[
        :8
    ]
    total = sum(us for name, us in cumulative.items() if "." not in name)
    print(
        f"\nimports of `handover flag` (-X importtime): {len(cumulative)} modules, "
        f"top-level total {total / 1000:.0f} ms; slowest: "
        + ", ".join(f"{name} {us / 1000:.0f} ms" for us, name in top)
    )
    print(
        "heavy modules imported: "
        + (", ".join(heavy) if heavy else "none (no torch, spacy, faster_whisper, ...): OK")
    )
    if heavy:
        print("FAIL: flag imports model libraries")


def profile_flag(home: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "flag.prof"
        run(flag_command(home, ("-m", "cProfile", "-o", str(out))))
        for sort, top in (("tottime", 20), ("cumtime", 30)):
            stats = pstats.Stats(str(out))
            print(f"\n### cProfile of `handover flag --all --format json`, top {top} by {sort}\n")
            stats.sort_stats(sort).print_stats(top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deals", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--items", type=int, default=50, help="items per deal")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs (default 2)")
    parser.add_argument("--profile", action="store_true", help="cProfile flag at the largest size")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached homes")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)

    print(machine(("sqlite-utils", "typer", "rich", "jinja2")))
    homes = {n: build_home(n, args.items, args.cache, args.rebuild) for n in sorted(args.deals)}
    started = time.perf_counter()
    run([sys.executable, "-c", "pass"], (0,))
    bare_start = time.perf_counter() - started
    print(
        f"# {args.items} items per deal; subprocesses, process start included; 1 warm-up, best "
        f"of {args.repeat} round-robin; `python -c pass` takes {bare_start * 1000:.0f} ms here\n"
    )
    print("| deals | items | flag s | floor s | flag / floor | flag ms per deal | JSON MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    results: dict[int, float] = {}
    floors: dict[int, float] = {}
    sizes: dict[int, float] = {}
    for n, home in homes.items():
        db = str(home / "handover.db")

        def flag(home: Path = home, n: int = n) -> None:
            sizes[n] = len(run(flag_command(home)).stdout) / 1e6

        def floor(db: str = db) -> None:
            run([sys.executable, "-c", FLOOR, db], (0,))

        times = round_robin([("flag", flag), ("floor", floor)], args.repeat)
        f, fl = min(times["flag"]), min(times["floor"])
        results[n], floors[n] = f, fl
        print(
            f"| {n:,} | {n * args.items:,} | {f:.2f} | {fl:.2f} | {f / fl:.2f}x | "
            f"{f / n * 1000:.1f} | {sizes[n]:.1f} |",
            flush=True,
        )
    largest = max(homes)
    ratio = results[largest] / min(results.values())
    within = results[largest] / floors[largest]
    print(
        f"\nflag / floor at {largest:,} deals = {within:.2f}x (target <= 3x: "
        f"{'met' if within <= 3 else 'NOT met'}); flag at {largest:,} deals / at "
        f"{min(homes):,} deals = {ratio:.1f}x "
        f"for {largest / min(homes):.0f}x the deals"
    )
    import_check(homes[largest])
    if args.profile:
        profile_flag(homes[largest])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

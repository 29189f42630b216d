"""Fault injection: `handover process` is SIGKILLed at fixed points inside
transcription, extraction, tracing and the database writes, and at seeded random
moments; a run to completion afterwards must leave exactly what a clean run leaves.
Two runs started at once must not both do the work.

Real processes (``python -m handover``), real kills, the real models, a short deal
(a VTT, a scope document and the 20 s dialogue.ogg). ``HANDOVER_TEST_KILL_AT``
(handover/faults.py) names the point; the stage each kill actually hit is read from
the database it left behind, and `doctor` must find nothing but a stale lease and
sources stopped mid-stage.

The fixed points on a fresh deal run as one series in one home: each run is killed
at the next point, so every run after the first also recovers from the kill before
it (a crash during recovery), and a last run completes. The kills on a deal that
already has a decision, and the random kills, each start from a copy of a prepared
home and end with a run to completion. Homes run two at a time.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from handover import doctor
from handover.config import Settings
from tests.conftest import AUDIO

SLUG = "acme"
CALL = """WEBVTT

00:00:01.000 --> 00:00:05.000
<v Ana Ruiz>We will migrate all twelve mailboxes over the weekend.

00:00:06.000 --> 00:00:10.000
<v Ben Ode>Our biggest worry is losing calendar invites.
"""
SOW = """# Scope

## 1 Services

1.1 Migration of 12 mailboxes over one weekend.

1.2 A project manager is assigned for the rollout.

## 2 Out of scope

2.1 Training of supervisors.
"""
SEED = 20261124

# The canonical dump a recovered run must equal. Surrogate ids that a redo may
# legitimately renumber (segments, extractions, mentions) are replaced by what they
# point at; item and clause ids are stable and compared as they are.
DUMP = {
    "sources": "SELECT id, stage, error FROM sources ORDER BY id",
    "items": """SELECT id, kind, subtype, text, side, owner, due, auto_status, suspect, manual
                FROM items ORDER BY id""",
    "mentions": """SELECT m.item_id, m.source_id, g.ordinal, m.quote, m.char_start, m.char_end,
                          m.start FROM mentions m LEFT JOIN segments g ON g.id = m.segment_id
                   ORDER BY 1, 2, 3, 5, 4""",
    "traces": """SELECT t.item_id, t.rank, t.clause_id, t.clause_sha256, t.matched_terms,
                        t.reason FROM traces t ORDER BY 1, 2""",
    "decisions": """SELECT id, deal_id, item_id, original_item_id, decision, by, note
                    FROM decisions ORDER BY id""",
    "segments": """SELECT source_id, ordinal, start, "end", speaker, side, text, "offset"
                   FROM segments ORDER BY 1, 2""",
    "clauses": """SELECT id, source_id, ordinal, section, text, category, sha256 FROM clauses
                  ORDER BY id""",
    "extractions": """SELECT e.source_id, e.ordinal, g.ordinal, e.kind, e.subtype, e.text,
                             e.side, e.char_start, e.char_end, e.due, e.quantities
                      FROM extractions e LEFT JOIN segments g ON g.id = e.segment_id
                      ORDER BY 1, 2, 8, 6""",
    "drafts": "SELECT count(*) FROM segment_drafts",
    "locks": "SELECT count(*) FROM locks",
}
SCORES = "SELECT item_id, rank, score FROM traces UNION ALL SELECT id, -1, score FROM items"


def _env(home: Path, kill_at: str | None = None) -> dict[str, str]:
    env = {**os.environ, "HANDOVER_HOME": str(home)}
    env.pop("HANDOVER_TEST_KILL_AT", None)
    env.pop("HANDOVER_TEST_STOP_AT", None)
    if kill_at:
        env["HANDOVER_TEST_KILL_AT"] = kill_at
    return env


def _run(home: Path, *args: str, kill_at: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "handover", *args],
        env=_env(home, kill_at),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _ok(home: Path, *args: str) -> str:
    done = _run(home, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _query(home: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(home / "handover.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def dump(home: Path) -> dict[str, list[tuple]]:
    return {name: _query(home, sql) for name, sql in DUMP.items()}


def scores(home: Path) -> dict[tuple[str, int], float]:
    return {(i, r): s for i, r, s in _query(home, SCORES)}


@dataclass(frozen=True)
class State:
    """What a killed run left: each source's stage and how much of each kind of row."""

    stages: dict[int, str]
    segments: dict[int, int]
    drafts: dict[int, int]
    extractions: dict[int, int]
    clauses: int
    items: int
    embeddings: int
    decisions: int
    leases: list[str]


def state(home: Path) -> State:
    def per_source(table: str) -> dict[int, int]:
        return dict(_query(home, f"SELECT source_id, count(*) FROM {table} GROUP BY 1"))

    def count(table: str) -> int:
        return _query(home, f"SELECT count(*) FROM {table}")[0][0]

    return State(
        stages=dict(_query(home, "SELECT id, stage FROM sources ORDER BY id")),
        segments=per_source("segments"),
        drafts=per_source("segment_drafts"),
        extractions=per_source("extractions"),
        clauses=count("clauses"),
        items=count("items"),
        embeddings=count("embeddings"),
        decisions=count("decisions"),
        leases=[name for (name,) in _query(home, "SELECT name FROM locks")],
    )


def stage_hit(s: State) -> str:
    """Name the place a kill hit, from the state it left (for random kills)."""
    live = {source: stage for source, stage in s.stages.items() if stage != "done"}
    stages = set(live.values())
    if not live:
        return "after the run (all done)"
    if "transcribing" in stages:
        return f"transcribing ({sum(s.drafts.values())} drafts)"
    if "extracting" in stages:
        return "extracting"
    if stages == {"tracing"}:
        return "tracing"
    if "tracing" in stages:
        return "between sources"
    if any(s.segments.get(source) for source in live):
        return "parsing text"
    return "start-up (nothing written yet)"


# -- the prepared homes and their clean runs ------------------------------------------


def _people_and_text(home: Path) -> None:
    (home / "in").mkdir(parents=True, exist_ok=True)
    (home / "in" / "call.vtt").write_text(CALL)
    (home / "in" / "sow.md").write_text(SOW)
    _ok(home, "deal", "add", SLUG, "--name", "A", "--customer", "C", "--vendor", "V")
    _ok(home, "people", SLUG, "--vendor", "Ana Ruiz", "--customer", "Ben Ode")
    _ok(home, "add", SLUG, str(home / "in" / "call.vtt"), "--date", "2026-11-02")
    _ok(home, "add", SLUG, str(home / "in" / "sow.md"), "--as", "scope", "--date", "2026-11-03")


@dataclass
class Prepared:
    home: Path  # copied for every series; never processed itself
    clean: dict[str, list[tuple]]  # the dump of a clean run from it
    scores: dict[tuple[str, int], float]
    seconds: float  # how long that clean run took
    items_before: int = 0  # items already there before the run (the decided home)


def _prepare(root: Path, name: str) -> Prepared:
    home = root / name
    _people_and_text(home)
    if name == "decided":
        _ok(home, "process", SLUG)
        doc = json.loads(_ok(home, "items", SLUG, "--json"))
        item = doc["items"][0]["id"]
        _ok(home, "review", SLUG, item, "--decision", "accepted-gap", "--by", "Lee Chen")
    items_before = _query(home, "SELECT count(*) FROM items")[0][0]
    _ok(home, "add", SLUG, str(AUDIO / "dialogue.ogg"), "--date", "2026-11-04")
    clean = root / f"{name}-clean"
    shutil.copytree(home, clean)
    started = time.monotonic()
    _ok(clean, "process", SLUG)
    seconds = time.monotonic() - started
    assert not doctor.examine(Settings.load(clean)).findings
    return Prepared(home, dump(clean), scores(clean), seconds, items_before)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> dict[str, Prepared]:
    """Two homes, each with the dump of one clean run from it: `fresh` (three sources
    added, nothing processed) and `decided` (the text processed, a decision made on
    an item, then the recording added)."""
    root = tmp_path_factory.mktemp("faults")
    with ThreadPoolExecutor(max_workers=2) as pool:
        names = ["fresh", "decided"]
        out = dict(zip(names, pool.map(_prepare, [root] * 2, names), strict=True))
    assert out["fresh"].clean["items"] and out["fresh"].clean["drafts"] == [(0,)]
    assert [d[4] for d in out["decided"].clean["decisions"]] == ["accepted-gap"]
    return out


# -- the cases -----------------------------------------------------------------------

Expect = Callable[[State, Prepared], None]


@dataclass(frozen=True)
class Case:
    name: str
    home: str  # "fresh" or "decided"
    kill_at: str | None = None  # a fault point; None: SIGKILL after a delay
    expect: Expect | None = None
    after: str = ""  # random kills: wait until the run enters this (see _entered) …
    delay: float = 0.0  # … then this many seconds more


def _stages(*stages: str) -> Expect:
    def check(s: State, p: Prepared) -> None:
        assert tuple(s.stages.values()) == stages

    return check


def _all(*checks: Expect) -> Expect:
    def check(s: State, p: Prepared) -> None:
        for one in checks:
            one(s, p)

    return check


def _rows(**want: Any) -> Expect:
    def check(s: State, p: Prepared) -> None:
        for key, value in want.items():
            got = getattr(s, key)
            value = value(p) if callable(value) else value
            assert got == value, f"{key}: {got} != {value}"

    return check


def _clean(table: str, source: int) -> Callable[[Prepared], int]:
    """How many rows of a table the clean run has for one source."""
    return lambda p: sum(1 for row in p.clean[table] if row[0] == source)


def _per_source(table: str, *sources: int) -> Callable[[Prepared], dict[int, int]]:
    return lambda p: {s: _clean(table, s)(p) for s in sources}


# Sources: 1 call.vtt, 2 sow.md (scope), 3 dialogue.ogg. Text is parsed first. Each
# point is reached by the run after the kill before it.
P, T, X, TR, D = "pending", "transcribing", "extracting", "tracing", "done"
SERIES = [
    # Parsing and extracting the text sources.
    Case("segments.write", "fresh", "segments.write", _all(_stages(P, P, P), _rows(segments={}))),
    Case("extract.write", "fresh", "extract.write", _all(_stages(X, P, P), _rows(extractions={}))),
    Case(
        "extract",
        "fresh",
        "extract",
        _all(_stages(X, P, P), _rows(extractions=_per_source("extractions", 1))),
    ),
    Case(
        "transcribed:2",
        "fresh",
        "transcribed:2",
        _all(_stages(TR, P, P), _rows(segments=_per_source("segments", 1, 2), clauses=0)),
    ),
    Case("clauses.write", "fresh", "clauses.write", _all(_stages(TR, X, P), _rows(clauses=0))),
    Case(
        "extract:2",
        "fresh",
        "extract:2",
        _all(_stages(TR, X, P), _rows(clauses=lambda p: len(p.clean["clauses"]))),
    ),
    # Transcribing the recording.
    Case("transcribe:2", "fresh", "transcribe:2", _all(_stages(TR, TR, T), _rows(drafts={}))),
    Case("transcribe:5", "fresh", "transcribe:5", _all(_stages(TR, TR, T), _rows(drafts={3: 4}))),
    Case(
        "publish",
        "fresh",
        "publish",
        _all(_stages(TR, TR, T), _rows(drafts=_per_source("segments", 3))),
    ),
    Case(
        "publish.write",
        "fresh",
        "publish.write",
        _all(
            _stages(TR, TR, T),
            _rows(drafts=_per_source("segments", 3), segments=_per_source("segments", 1, 2)),
        ),
    ),
    Case(
        "transcribed:3",
        "fresh",
        "transcribed:3",
        _all(_stages(TR, TR, T), _rows(drafts={}, segments=_per_source("segments", 1, 2, 3))),
    ),
    # Extracting from the recording (the second extraction write of the run).
    Case(
        "extract.write:2",
        "fresh",
        "extract.write:2",
        _all(_stages(TR, TR, X), _rows(extractions=_per_source("extractions", 1))),
    ),
    Case(
        "extract:3",
        "fresh",
        "extract:3",
        _all(_stages(TR, TR, X), _rows(extractions=_per_source("extractions", 1, 3))),
    ),
    # Tracing: the embedding cache, after the embeddings, before and inside the save,
    # and after the save before the sources are marked done.
    Case(
        "embeddings.write",
        "fresh",
        "embeddings.write",
        _all(_stages(TR, TR, TR), _rows(embeddings=0, items=0)),
    ),
    Case("trace", "fresh", "trace", _all(_stages(TR, TR, TR), _rows(items=0))),
    Case("derive", "fresh", "derive", _all(_stages(TR, TR, TR), _rows(items=0))),
    Case("items.write", "fresh", "items.write", _all(_stages(TR, TR, TR), _rows(items=0))),
    Case(
        "traced",
        "fresh",
        "traced",
        _all(_stages(TR, TR, TR), _rows(items=lambda p: len(p.clean["items"]))),
    ),
]
# A deal already processed and decided on; the recording is added and the re-process
# is killed once: the decision must survive.
DECIDED = [
    Case(
        "decided transcribe:5",
        "decided",
        "transcribe:5",
        _all(_stages(D, D, T), _rows(drafts={3: 4}, items=lambda p: p.items_before)),
    ),
    Case(
        "decided extract.write",
        "decided",
        "extract.write",
        _all(_stages(D, D, X), _rows(extractions=_per_source("extractions", 1))),
    ),
    Case(
        "decided items.write",
        "decided",
        "items.write",
        _all(_stages(D, D, TR), _rows(items=lambda p: p.items_before)),
    ),
    Case(
        "decided traced",
        "decided",
        "traced",
        _all(_stages(D, D, TR), _rows(items=lambda p: len(p.clean["items"]))),
    ),
]
# Random kills: a seeded random delay counted from the moment the run is seen
# entering a stage (so the kills spread over the stages, whatever the machine's
# speed), or from its start.
_rng = random.Random(SEED)
RANDOM = [
    Case(f"random {home} {after}", home, after=after, delay=round(_rng.uniform(0.0, 1.5), 2))
    for home in ("fresh", "decided")
    for after in ("start", "extracting", "transcribing", "tracing")
]


def _entered(stages: list[str], after: str) -> bool:
    if after == "start":
        return True
    if after == "tracing":  # every source waits for the deal-level step: it runs
        return "tracing" in stages and set(stages) <= {"tracing", "done"}
    return after in stages


@dataclass
class Kill:
    """One killed run and what it left."""

    case: Case
    code: int
    seconds: float
    left: State
    findings: list[doctor.Finding]
    delay: float | None
    transcript: list[dict] | None = None  # the recording's, as `transcript --format json`

    @property
    def killed(self) -> bool:
        return self.code == -signal.SIGKILL

    @property
    def problems(self) -> list[doctor.Finding]:
        return [f for f in self.findings if f.severity == doctor.Severity.PROBLEM]


@dataclass
class Outcome:
    """A home: one or more killed runs, then a run to completion."""

    kills: list[Kill]
    code: int
    err: str
    seconds: float
    final: dict[str, list[tuple]]
    final_scores: dict[tuple[str, int], float]
    final_findings: list[doctor.Finding]


def _kill(case: Case, home: Path, prepared: Prepared) -> Kill:
    started = time.monotonic()
    delay = None
    if case.kill_at:
        code = _run(home, "process", SLUG, kill_at=case.kill_at).returncode
    else:
        run = subprocess.Popen(
            [sys.executable, "-m", "handover", "process", SLUG],
            env=_env(home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while run.poll() is None:
            stages = [s for (s,) in _query(home, "SELECT stage FROM sources")]
            if _entered(stages, case.after):
                break
            time.sleep(0.02)
        delay = time.monotonic() - started + case.delay
        try:
            run.wait(timeout=case.delay)
        except subprocess.TimeoutExpired:
            run.send_signal(signal.SIGKILL)
        code = run.wait()
    seconds = time.monotonic() - started
    kill = Kill(
        case, code, seconds, state(home), doctor.examine(Settings.load(home)).findings, delay
    )
    if (case.kill_at or "").startswith("publish"):  # what a reader sees of a half-run
        shown = json.loads(_ok(home, "transcript", SLUG, "3", "--format", "json"))
        kill.transcript = shown["sources"][0]["segments"]
    return kill


def _series(cases: list[Case], prepared: Prepared, root: Path) -> Outcome:
    home = root / cases[0].name.replace(" ", "-").replace(":", "-")
    shutil.copytree(prepared.home, home)
    kills = [_kill(case, home, prepared) for case in cases]
    started = time.monotonic()
    again = _run(home, "process", SLUG)
    return Outcome(
        kills,
        again.returncode,
        again.stderr,
        time.monotonic() - started,
        dump(home),
        scores(home),
        doctor.examine(Settings.load(home)).findings,
    )


@pytest.fixture(scope="module")
def outcomes(prepared, tmp_path_factory) -> dict[str, Outcome]:
    """The series of fixed kills, and every single kill, two homes at a time."""
    root = tmp_path_factory.mktemp("kills")
    jobs = {"series": SERIES, **{c.name: [c] for c in DECIDED + RANDOM}}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(_series, cases, prepared[cases[0].home], root)
            for name, cases in jobs.items()
        }
        return {name: future.result() for name, future in futures.items()}


def _assert_stage(kill: Kill, prepared: Prepared) -> None:
    """The fixed point was reached, left the state it should, and nothing worse than
    what the next run copes with (a stale lease, sources stopped mid-stage)."""
    assert kill.killed, f"exit {kill.code}: {kill.case.kill_at} was not reached"
    assert kill.case.expect is not None
    kill.case.expect(kill.left, prepared)
    assert kill.left.leases == [f"process:{SLUG}"]  # held by a process that is gone
    assert kill.problems == []
    assert {f.check for f in kill.findings} == {"leases"}


def _assert_recovered(outcome: Outcome, prepared: Prepared) -> None:
    assert outcome.code == 0, outcome.err
    assert outcome.final == prepared.clean  # same ids, statuses, decisions; no duplicates
    assert outcome.final_scores.keys() == prepared.scores.keys()
    for key, score in prepared.scores.items():
        assert outcome.final_scores[key] == pytest.approx(score, abs=1e-3), key
    assert outcome.final_findings == []  # doctor: integrity, blobs, orphans, leases


@pytest.mark.slow
@pytest.mark.parametrize("step", range(len(SERIES)), ids=[c.name for c in SERIES])
def test_each_kill_of_the_series_hits_its_point(step: int, outcomes, prepared) -> None:
    kill = outcomes["series"].kills[step]
    _assert_stage(kill, prepared["fresh"])
    if kill.transcript is not None:
        assert kill.transcript == []  # every draft written, none shown


@pytest.mark.slow
def test_after_the_series_of_kills_a_run_gives_the_clean_result(outcomes, prepared) -> None:
    _assert_recovered(outcomes["series"], prepared["fresh"])


@pytest.mark.slow
@pytest.mark.parametrize("case", DECIDED, ids=[c.name for c in DECIDED])
def test_a_decision_survives_a_kill(case: Case, outcomes, prepared) -> None:
    outcome, home = outcomes[case.name], prepared["decided"]
    (kill,) = outcome.kills
    _assert_stage(kill, home)
    assert kill.left.decisions == 1
    _assert_recovered(outcome, home)  # the decision dump included


@pytest.mark.slow
@pytest.mark.parametrize("case", RANDOM, ids=[c.name for c in RANDOM])
def test_kill_at_a_random_moment_recovers(case: Case, outcomes, prepared) -> None:
    outcome, home = outcomes[case.name], prepared[case.home]
    (kill,) = outcome.kills
    left = kill.left
    if kill.killed:
        assert kill.problems == []
        # Nothing half-written: a source with drafts has no segments of its own yet.
        for source, n in left.drafts.items():
            assert left.stages[source] == "transcribing" and n > 0
            assert source not in left.segments
    else:
        assert kill.code == 0  # it finished before the delay ran out
    if case.home == "decided":
        assert left.decisions == 1
    _assert_recovered(outcome, home)


@pytest.mark.slow
def test_kill_report(outcomes, prepared, capsys) -> None:
    """Print what each kill hit and how long the runs took (for docs/reliability.md)."""
    hits: dict[str, int] = {}
    lines = [
        f"clean runs: fresh {prepared['fresh'].seconds:.1f} s, "
        f"decided {prepared['decided'].seconds:.1f} s"
    ]
    kills = [k for o in outcomes.values() for k in o.kills]
    for name, outcome in outcomes.items():
        for k in outcome.kills:
            hit = stage_hit(k.left) if k.killed else "not killed (finished first)"
            if k.case.kill_at is None:
                hits[hit] = hits.get(hit, 0) + 1
            when = (
                f"{k.case.after} +{k.case.delay:.2f} s" if k.delay is not None else k.case.kill_at
            )
            lines.append(f"{k.case.name:<27} {when:<20} hit: {hit:<32} run {k.seconds:5.1f} s")
        lines.append(f"{name:<27} then a run to completion: {outcome.seconds:5.1f} s")
    killed = sum(k.killed for k in kills)
    lines.append(f"{killed} of {len(kills)} runs killed; the random kills hit: {hits}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert killed >= 20


# -- two runs at once ----------------------------------------------------------------


@pytest.mark.slow
def test_two_runs_at_once_one_works_the_other_names_the_holder(prepared, tmp_path) -> None:
    """Fail fast rather than wait: the second run exits 1 with one line naming the
    run that holds the deal, and the work is done once."""
    home = tmp_path / "both"
    shutil.copytree(prepared["fresh"].home, home)
    argv = [sys.executable, "-m", "handover", "process", SLUG]
    runs = [
        subprocess.Popen(argv, env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    results = [(run, *run.communicate(timeout=300)) for run in runs]
    assert sorted(run.returncode for run, _, _ in results) == [0, 1]
    (winner,) = [run for run, _, _ in results if run.returncode == 0]
    (refused,) = [err.decode() for run, _, err in results if run.returncode == 1]
    assert refused.count("\n") == 1, refused
    assert refused.startswith(f"error: processing of deal {SLUG} is already running")
    assert f"pid {winner.pid}" in refused and "wait for it to finish" in refused
    assert dump(home) == prepared["fresh"].clean  # no duplicate items, nothing lost
    assert doctor.examine(Settings.load(home)).findings == []

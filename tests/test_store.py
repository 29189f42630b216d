from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from handover.errors import Conflict, NotFound
from handover.store import MIGRATIONS, SCHEMA_VERSION, Duplicate, Store, fts_query
from handover.types import Segment, Side


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "h.db")


def _source(store: Store, deal_id: int, sha: str = "a" * 64, **extra) -> int:
    fields = dict(
        kind="transcript",
        fmt="vtt",
        filename="call.vtt",
        sha256=sha,
        size=10,
        mime="text/vtt",
        meeting_date="2026-11-02",
        title="call",
    )
    fields.update(extra)
    return store.add_source(deal_id, **fields)


def test_fresh_database_is_at_latest_version_with_foreign_keys(store: Store) -> None:
    assert store.version == SCHEMA_VERSION == len(MIGRATIONS)
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = set(store.db.table_names())
    assert {
        "deals",
        "participants",
        "sources",
        "segments",
        "segments_fts",
        "clauses",
        "items",
        "mentions",
        "traces",
        "decisions",
        "embeddings",
        "glossary",
        "side_overrides",
        "locks",
        "events",
    } <= tables
    assert store.integrity_ok()


def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    first = Store.open(tmp_path / "h.db")
    first.create_deal("acme", "Acme", "Acme", "Us", None)
    first.close()
    again = Store.open(tmp_path / "h.db")
    assert again.version == SCHEMA_VERSION
    assert again.deal("acme")["name"] == "Acme"


def test_newer_database_is_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "h.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(Exception, match="newer than this handover"):
        Store.open(tmp_path / "h.db")


def test_failed_migration_leaves_nothing_behind(tmp_path: Path, monkeypatch) -> None:
    def broken(conn) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    monkeypatch.setattr("handover.store.MIGRATIONS", [*MIGRATIONS, broken])
    monkeypatch.setattr("handover.store.SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(RuntimeError):
        Store.open(tmp_path / "h.db")
    conn = sqlite3.connect(tmp_path / "h.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "half_done" not in names and "deals" in names


def test_deal_slug_is_unique_and_unknown_deal_is_not_found(store: Store) -> None:
    store.create_deal("acme", "Acme", "Acme", "Us", "Dana")
    with pytest.raises(Conflict, match="already exists"):
        store.create_deal("acme", "Other", None, None, None)
    with pytest.raises(NotFound, match=r"unknown deal 'nope'.*deal list"):
        store.deal("nope")


def test_participants_merge_case_insensitively(store: Store) -> None:
    deal = store.create_deal("acme", "Acme", "Acme", "Us", None)
    store.upsert_participants(deal["id"], [("Maria Gonzalez", Side.CUSTOMER, None)])
    store.upsert_participants(
        deal["id"], [("maria gonzalez", Side.VENDOR, "m@x.com"), ("Raj", Side.VENDOR, None)]
    )
    people = store.participants(deal["id"])
    assert [(p["name"], p["side"], p["email"]) for p in people] == [
        ("Raj", "vendor", None),
        ("maria gonzalez", "vendor", "m@x.com"),
    ]


def test_same_sha_twice_in_a_deal_is_rejected_by_the_schema(store: Store) -> None:
    deal = store.create_deal("acme", "Acme", None, None, None)
    first = _source(store, deal["id"])
    with pytest.raises(Duplicate) as raised:
        _source(store, deal["id"])
    assert raised.value.source_id == first
    row = store.db.execute("SELECT * FROM sources WHERE id = ?", [first]).fetchone()
    with pytest.raises(sqlite3.IntegrityError):  # and the schema backs the check
        store.db.execute("INSERT INTO sources SELECT NULL" + ", ?" * (len(row) - 1), list(row[1:]))
    other = store.create_deal("beta", "Beta", None, None, None)
    assert _source(store, other["id"])  # the same file may belong to another deal


def test_segments_replace_atomically_and_are_searchable(store: Store) -> None:
    deal = store.create_deal("acme", "Acme", None, None, None)
    sid = _source(store, deal["id"])
    segs = [
        Segment(0, "The board wants us to re-assess & reinvigorate processes.", 1.0, 4.0, "Maria"),
        Segment(1, "We will train twenty supervisors.", 5.0, 8.0, "Dana"),
    ]
    store.replace_segments(sid, segs, lambda s: Side.CUSTOMER if s == "Maria" else Side.VENDOR)
    rows = store.segments(sid)
    assert [(r["speaker"], r["side"]) for r in rows] == [("Maria", "customer"), ("Dana", "vendor")]
    hits = store.search(deal["id"], "re-assess & reinvigorate?")
    assert [h["ordinal"] for h in hits] == [0]
    assert "[reinvigorate]" in hits[0]["snippet"]
    assert [h["ordinal"] for h in store.search(deal["id"], "trained supervisor")] == [1]
    # Spoken "and" vs written "&" still finds it.
    assert store.search(deal["id"], "re-assess and reinvigorate")
    store.replace_segments(sid, segs[:1], lambda s: Side.UNKNOWN)
    assert len(store.segments(sid)) == 1
    assert store.search(deal["id"], "supervisors") == []  # FTS follows deletes


def test_removed_sources_are_hidden_from_search_and_lists(store: Store) -> None:
    deal = store.create_deal("acme", "Acme", None, None, None)
    sid = _source(store, deal["id"])
    store.replace_segments(sid, [Segment(0, "weekly status reports")], lambda s: Side.UNKNOWN)
    store.remove_source(deal["id"], sid, None)
    assert store.search(deal["id"], "weekly") == []
    assert store.sources(deal["id"]) == []
    with pytest.raises(NotFound):
        store.source(deal["id"], sid)
    assert store.source(deal["id"], sid, include_removed=True)["removed_at"]


def test_purge_deletes_text_and_reports_unreferenced_blob(store: Store) -> None:
    deal = store.create_deal("acme", "Acme", None, None, None)
    sid = _source(store, deal["id"])
    store.replace_segments(sid, [Segment(0, "secret pricing")], lambda s: Side.UNKNOWN)
    row, unreferenced = store.purge_source(deal["id"], sid, "ops")
    assert unreferenced and row["sha256"] == "a" * 64
    assert store.segments(sid) == []
    assert store.search(deal["id"], "secret") == []
    with pytest.raises(NotFound):
        store.source(deal["id"], sid, include_removed=True)
    assert [e["action"] for e in store.events(deal["id"])][-1] == "source.purge"
    # A purged file can be added again later.
    assert _source(store, deal["id"])


def test_drafts_publish_in_one_step_and_clear(store: Store) -> None:
    deal = store.create_deal("acme", "Acme", None, None, None)
    sid = _source(store, deal["id"], kind="recording", fmt="audio")
    store.add_drafts(sid, [Segment(0, "hello", 0.0, 1.0), Segment(1, "there", 1.0, 2.0)])
    assert store.segments(sid) == [] and store.draft_count(sid) == 2
    assert store.publish_drafts(sid, lambda s: Side.UNKNOWN) == 2
    assert [r["text"] for r in store.segments(sid)] == ["hello", "there"]
    assert store.draft_count(sid) == 0


def test_lock_refuses_a_live_holder_and_takes_over_a_dead_one(store: Store, tmp_path) -> None:
    store.acquire_lock("process:acme")
    store.acquire_lock("process:acme")  # re-entrant for the same process
    other = Store.open(tmp_path / "h.db")
    other.db.execute("UPDATE locks SET pid = 1 WHERE name = 'process:acme'")  # pid 1 is alive
    with pytest.raises(Conflict, match="already running"):
        store.acquire_lock("process:acme")
    other.db.execute("UPDATE locks SET pid = 999999999 WHERE name = 'process:acme'")
    store.acquire_lock("process:acme")  # stale: taken over
    store.release_lock("process:acme")
    assert store.db.execute("SELECT count(*) FROM locks").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("typed", "query"),
    [
        ("re-assess & reinvigorate?", '("re assess" OR "reassess") AND "reinvigorate"'),
        ('"unbalanced', '"unbalanced"'),
        ("NEAR(a b) OR c*", '"NEAR" AND "b" AND "c"'),
        ("col:value ^start", '"col" AND "value" AND "start"'),
        ("the and", '"the" AND "and"'),
        ("?!&", None),
    ],
)
def test_fts_query_never_passes_syntax_through(typed: str, query: str | None) -> None:
    assert fts_query(typed) == query


def test_search_with_syntax_characters_does_not_raise(store: Store) -> None:
    deal = store.create_deal("acme", "Acme", None, None, None)
    for typed in ['"', "*", "AND", "a OR", "(", "x:y", "-", "NEAR(", "^"]:
        assert store.search(deal["id"], typed) == []


def test_a_change_in_the_same_second_as_the_trace_or_during_it_leaves_the_deal_stale(
    store: Store,
) -> None:
    # Event ids order changes that whole-second timestamps cannot: a source removed in
    # the second its deal was traced, or while the trace ran, must still re-trace.
    deal = store.create_deal("acme", "Acme", None, None, None)["id"]
    kept, dropped = _source(store, deal, "a" * 64), _source(store, deal, "b" * 64)
    for source in (kept, dropped):
        store.set_stage(source, "done")
    assert store.stale_reason(deal) == "sources changed since the last trace"

    store.save_items(deal, [], [], [], [], store.change_mark())
    assert store.stale_reason(deal) is None
    assert store.deals_with_work() == []

    store.remove_source(deal, dropped, "me")  # very likely the same second as the trace
    assert store.stale_reason(deal) == "sources changed since the last trace"
    assert [d["slug"] for d in store.deals_with_work()] == ["acme"]

    seen = store.change_mark()  # a trace starts reading here ...
    store.restore_source(deal, dropped, "me")  # ... a change lands while it runs ...
    store.save_items(deal, [], [], [], [], seen)  # ... and it saves what it read
    assert store.stale_reason(deal) == "sources changed since the last trace"

    store.save_items(deal, [], [], [], [], store.change_mark())
    assert store.stale_reason(deal) is None

"""The SQLite database: schema, migrations and every query the stages need.

This is the only module that writes SQL. It speaks in plain dicts (rows) and the
dataclasses from ``types.py``; it holds no product rules (what a side is, what a
transcript looks like) beyond integrity.

Schema changes are migrations: append a function to ``MIGRATIONS``, never edit one
that has shipped. ``PRAGMA user_version`` records how far a database has come.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from handover.errors import Conflict, HandoverError, NotFound
from handover.faults import fault_point
from handover.types import Candidate, Clause, Segment, Side, SourceKind, Stage

Row = dict[str, Any]


class Duplicate(Conflict):
    """The deal already has a source with these bytes."""

    def __init__(self, source_id: int) -> None:
        super().__init__(f"the deal already has these bytes as source {source_id}")
        self.source_id = source_id


def now() -> str:
    """UTC timestamp with seconds, ISO 8601: sortable and unambiguous in JSON."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


_V1 = """
CREATE TABLE deals (
    id        INTEGER PRIMARY KEY,
    slug      TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    customer  TEXT,
    vendor    TEXT,
    owner     TEXT,              -- the seller who owns the deal
    created   TEXT NOT NULL
);

CREATE TABLE participants (
    id       INTEGER PRIMARY KEY,
    deal_id  INTEGER NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    side     TEXT NOT NULL CHECK (side IN ('vendor', 'customer')),
    email    TEXT
);
CREATE UNIQUE INDEX participants_deal_name ON participants(deal_id, name COLLATE NOCASE);

CREATE TABLE sources (
    id            INTEGER PRIMARY KEY,
    deal_id       INTEGER NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('recording', 'transcript', 'notes', 'scope')),
    fmt           TEXT NOT NULL,     -- audio | vtt | srt | text | md | txt | docx | pdf
    filename      TEXT NOT NULL,     -- the original name, for people; never used as a path
    sha256        TEXT NOT NULL,     -- the blob: blobs/<sha[:2]>/<sha[2:]>
    size          INTEGER NOT NULL,
    mime          TEXT NOT NULL,
    duration      REAL,              -- seconds, recordings only
    meeting_date  TEXT NOT NULL,     -- YYYY-MM-DD
    title         TEXT NOT NULL,
    added_at      TEXT NOT NULL,
    stage         TEXT NOT NULL DEFAULT 'pending' CHECK (stage IN
                  ('pending', 'transcribing', 'extracting', 'tracing', 'done', 'failed')),
    progress      REAL NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    error         TEXT,
    processed_at  TEXT,
    replaces      INTEGER REFERENCES sources(id),
    removed_at    TEXT,              -- hidden from every output; blob kept
    purged_at     TEXT               -- blob and text deleted for a data-deletion request
);
CREATE INDEX sources_deal ON sources(deal_id);
CREATE INDEX sources_stage ON sources(stage);
CREATE UNIQUE INDEX sources_deal_sha ON sources(deal_id, sha256) WHERE purged_at IS NULL;

CREATE TABLE segments (
    id         INTEGER PRIMARY KEY,
    source_id  INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    ordinal    INTEGER NOT NULL,
    start      REAL,
    "end"      REAL,
    speaker    TEXT,
    side       TEXT NOT NULL DEFAULT 'unknown' CHECK (side IN ('vendor', 'customer', 'unknown')),
    text       TEXT NOT NULL,
    "offset"   INTEGER,              -- character offset in the decoded document (notes, scope)
    UNIQUE (source_id, ordinal)
);

-- Transcription streams here while it runs; one transaction moves the rows into
-- segments when the source is complete, so a killed run leaves nothing half-written.
CREATE TABLE segment_drafts (
    source_id  INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    ordinal    INTEGER NOT NULL,
    start      REAL,
    "end"      REAL,
    speaker    TEXT,
    text       TEXT NOT NULL,
    PRIMARY KEY (source_id, ordinal)
);

CREATE VIRTUAL TABLE segments_fts USING fts5(
    text, speaker, content='segments', content_rowid='id', tokenize='porter unicode61'
);
CREATE TRIGGER segments_ai AFTER INSERT ON segments BEGIN
    INSERT INTO segments_fts(rowid, text, speaker) VALUES (new.id, new.text, new.speaker);
END;
CREATE TRIGGER segments_ad AFTER DELETE ON segments BEGIN
    INSERT INTO segments_fts(segments_fts, rowid, text, speaker)
        VALUES ('delete', old.id, old.text, old.speaker);
END;
CREATE TRIGGER segments_au AFTER UPDATE OF text, speaker ON segments BEGIN
    INSERT INTO segments_fts(segments_fts, rowid, text, speaker)
        VALUES ('delete', old.id, old.text, old.speaker);
    INSERT INTO segments_fts(rowid, text, speaker) VALUES (new.id, new.text, new.speaker);
END;

-- Sides set by hand for a time range of a recording (there is no offline diarization).
CREATE TABLE side_overrides (
    id         INTEGER PRIMARY KEY,
    source_id  INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    start      REAL NOT NULL,
    "end"      REAL NOT NULL,
    side       TEXT NOT NULL CHECK (side IN ('vendor', 'customer')),
    speaker    TEXT,
    by         TEXT NOT NULL,
    at         TEXT NOT NULL,
    CHECK (start <= "end")
);
CREATE INDEX side_overrides_source ON side_overrides(source_id);

CREATE TABLE glossary (
    id        INTEGER PRIMARY KEY,
    deal_id   INTEGER NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
    term      TEXT NOT NULL,
    added_by  TEXT,
    added_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX glossary_deal_term ON glossary(deal_id, term COLLATE NOCASE);

-- Filled by the tracing stage: numbered pieces of scope documents.
CREATE TABLE clauses (
    id         INTEGER PRIMARY KEY,
    source_id  INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    ordinal    INTEGER NOT NULL,
    section    TEXT NOT NULL,            -- "3.2.1", or a generated number
    heading    TEXT NOT NULL DEFAULT '',
    text       TEXT NOT NULL,
    category   TEXT NOT NULL DEFAULT 'scope'
               CHECK (category IN ('scope', 'exclusion', 'assumption')),
    sha256     TEXT NOT NULL,            -- of the normalised text: a change makes traces suspect
    UNIQUE (source_id, ordinal)
);

-- Filled by the extraction stage. ids are stable hashes of deal, kind and normalised text.
CREATE TABLE items (
    id             TEXT PRIMARY KEY,
    deal_id        INTEGER NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('commitment', 'customer_phrase')),
    subtype        TEXT NOT NULL,
    text           TEXT NOT NULL,
    norm           TEXT NOT NULL,        -- normalised text used for ids and de-duplication
    side           TEXT NOT NULL DEFAULT 'unknown'
                   CHECK (side IN ('vendor', 'customer', 'unknown')),
    side_inferred  INTEGER NOT NULL DEFAULT 0,
    owner          TEXT,
    due            TEXT,                 -- ISO date or NULL
    due_text       TEXT,
    quantities     TEXT NOT NULL DEFAULT '[]',   -- JSON list of strings
    confidence     REAL NOT NULL DEFAULT 0,
    rule           TEXT NOT NULL DEFAULT '',
    manual         INTEGER NOT NULL DEFAULT 0,
    created_by     TEXT,
    created_at     TEXT NOT NULL,
    auto_status    TEXT CHECK (auto_status IN ('traced', 'weak', 'untraced', 'conflict')),
    score          REAL,
    suspect        INTEGER NOT NULL DEFAULT 0,
    traced_at      TEXT
);
CREATE INDEX items_deal ON items(deal_id);

CREATE TABLE mentions (
    id          INTEGER PRIMARY KEY,
    item_id     TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    source_id   INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    segment_id  INTEGER REFERENCES segments(id) ON DELETE SET NULL,
    speaker     TEXT,
    start       REAL,
    "end"       REAL,
    quote       TEXT NOT NULL,
    char_start  INTEGER,                 -- span of the quote inside the segment text
    char_end    INTEGER
);
CREATE INDEX mentions_item ON mentions(item_id);
CREATE INDEX mentions_source ON mentions(source_id);

-- The best clauses for an item, rank 0 first; the evidence behind auto_status.
CREATE TABLE traces (
    item_id        TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    rank           INTEGER NOT NULL,
    clause_id      INTEGER REFERENCES clauses(id) ON DELETE SET NULL,
    clause_sha256  TEXT,                 -- the clause as it was when traced
    score          REAL NOT NULL,
    matched_terms  TEXT NOT NULL DEFAULT '[]',   -- JSON list
    reason         TEXT,                 -- for a conflict, why in words
    PRIMARY KEY (item_id, rank)
);

-- Append-only review decisions; the latest per item wins. item_id is not a foreign
-- key on purpose: a decision outlives the item it was made on, and re-attaches.
CREATE TABLE decisions (
    id                INTEGER PRIMARY KEY,
    deal_id           INTEGER NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
    item_id           TEXT NOT NULL,     -- the item it applies to now
    original_item_id  TEXT NOT NULL,     -- the item it was made on
    decision          TEXT NOT NULL CHECK (decision IN
                      ('confirmed', 'not-a-commitment', 'accepted-gap', 'linked', 'reopen')),
    clause_id         INTEGER REFERENCES clauses(id) ON DELETE SET NULL,
    by                TEXT NOT NULL,
    at                TEXT NOT NULL,
    note              TEXT
);
CREATE INDEX decisions_item ON decisions(item_id);
CREATE INDEX decisions_deal ON decisions(deal_id);

CREATE TABLE embeddings (
    text_sha256  TEXT NOT NULL,
    model        TEXT NOT NULL,
    dim          INTEGER NOT NULL,
    vector       BLOB NOT NULL,          -- float32, little-endian
    PRIMARY KEY (text_sha256, model)
);

-- Leases that keep two runs of the same job apart (process per deal, flag).
CREATE TABLE locks (
    name         TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    acquired_at  TEXT NOT NULL
);

-- The audit trail: who did what to which deal, for things that are not rows of their own.
CREATE TABLE events (
    id       INTEGER PRIMARY KEY,
    deal_id  INTEGER REFERENCES deals(id) ON DELETE CASCADE,
    at       TEXT NOT NULL,
    actor    TEXT,
    action   TEXT NOT NULL,
    detail   TEXT NOT NULL DEFAULT '{}'   -- JSON object
);
CREATE INDEX events_deal ON events(deal_id);
"""

# v2: extraction results per source (so a deal's items are rebuilt without
# re-reading unchanged sources), what a decision saw, and when a deal was traced.
_V2 = """
CREATE TABLE extractions (
    id             INTEGER PRIMARY KEY,
    source_id      INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    segment_id     INTEGER REFERENCES segments(id) ON DELETE SET NULL,
    ordinal        INTEGER NOT NULL,     -- the segment's ordinal
    kind           TEXT NOT NULL CHECK (kind IN ('commitment', 'customer_phrase')),
    subtype        TEXT NOT NULL,
    text           TEXT NOT NULL,
    speaker        TEXT,
    side           TEXT NOT NULL CHECK (side IN ('vendor', 'customer', 'unknown')),
    side_inferred  INTEGER NOT NULL DEFAULT 0,
    start          REAL,
    "end"          REAL,
    char_start     INTEGER NOT NULL,
    char_end       INTEGER NOT NULL,
    owner          TEXT,
    due            TEXT,
    due_text       TEXT,
    quantities     TEXT NOT NULL DEFAULT '[]',
    confidence     REAL NOT NULL,
    rule           TEXT NOT NULL
);
CREATE INDEX extractions_source ON extractions(source_id);
ALTER TABLE decisions ADD COLUMN clause_sha256 TEXT;   -- the clause it confirmed or linked
ALTER TABLE decisions ADD COLUMN item_text TEXT;       -- the item's words when decided
ALTER TABLE items ADD COLUMN suspect_reason TEXT;
ALTER TABLE deals ADD COLUMN traced_at TEXT;
"""

# v3: access (users, their sign-in sessions, who owns a deal, who decided) and
# redactions (spans of a source hidden from every output and from extraction).
_V3 = """
CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role           TEXT NOT NULL CHECK (role IN ('seller', 'lead', 'admin')),
    password_hash  TEXT NOT NULL,          -- argon2id, never the password
    created        TEXT NOT NULL,
    disabled_at    TEXT
);

-- The cookie holds a random token; only its sha256 is stored, so a copy of the
-- database (a backup) does not sign anyone in.
CREATE TABLE sessions (
    token_sha256  TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf          TEXT NOT NULL,
    created       TEXT NOT NULL,
    expires       TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

ALTER TABLE deals ADD COLUMN owner_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE decisions ADD COLUMN user_id INTEGER REFERENCES users(id) ON DELETE SET NULL;

-- A time span of a source hidden from every output and from extraction. Segments
-- that overlap it are blanked (segments.redacted = 1) each time the source publishes;
-- the original upload stays untouched in the blob store.
CREATE TABLE redactions (
    id         INTEGER PRIMARY KEY,
    source_id  INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    start      REAL NOT NULL,
    "end"      REAL NOT NULL,
    reason     TEXT,
    by         TEXT,
    at         TEXT NOT NULL,
    CHECK (start >= 0 AND start < "end")
);
CREATE INDEX redactions_source ON redactions(source_id);
ALTER TABLE segments ADD COLUMN redacted INTEGER NOT NULL DEFAULT 0;

-- The last audit event a deal's latest trace had seen. A change logged after it (a
-- source added, removed, restored or purged, an item added by hand) makes the deal
-- stale. Event ids, unlike second-resolution times, also order a change made in the
-- same second as the trace, or while the trace ran.
ALTER TABLE deals ADD COLUMN traced_event INTEGER;
UPDATE deals SET traced_event = (SELECT coalesce(max(e.id), 0) FROM events e
                                 WHERE e.at <= deals.traced_at)
    WHERE traced_at IS NOT NULL;
"""

MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    lambda conn: conn.executescript(_V1),
    lambda conn: conn.executescript(_V2),
    lambda conn: conn.executescript(_V3),
]
SCHEMA_VERSION = len(MIGRATIONS)

# Logged changes that make a deal's trace out of date (see deals.traced_event).
_CHANGES = ("source.add", "source.remove", "source.restore", "source.purge", "item.add")
_CHANGED_SINCE_TRACE = f"""e.deal_id = d.id AND e.action IN ({", ".join(repr(a) for a in _CHANGES)})
    AND e.id > coalesce(d.traced_event, 0)"""

# A source that counts: not removed, not purged, and not replaced by a live newer version.
_LIVE = """s.removed_at IS NULL AND s.purged_at IS NULL AND NOT EXISTS (
    SELECT 1 FROM sources r WHERE r.replaces = s.id AND r.removed_at IS NULL
    AND r.purged_at IS NULL)"""


def _overlaps(row: str) -> str:
    """SQL: the time range (start, "end") of ``row`` overlaps redaction ``r``. Touching
    ends do not count (a span typed from a cue's start leaves the cue before it); a
    segment without an end is a point."""
    return (
        f'{row}.start IS NOT NULL AND {row}.start < r."end" AND '
        f'(coalesce({row}."end", {row}.start) > r.start OR {row}.start >= r.start)'
    )


# Words that add nothing to a full-text query but would make an AND query miss:
# people type "re-assess & reinvigorate" while the transcript says "and".
_QUERY_STOPWORDS = frozenset("a an and or the of to in on for with at by is are be & it".split())


def fts_query(text: str) -> str | None:
    """Turn what a person typed into a safe FTS5 query (AND of quoted terms).

    FTS5 syntax characters (quotes, ``*``, ``-``, ``:``, ``^``, parentheses, ``AND``)
    in user input are never interpreted: every word becomes a quoted string, and
    hyphenated words become quoted phrases ("re assess"), which is how the
    tokenizer indexed them.
    """
    words = re.findall(r"\w+(?:[-'\u2019]\w+)*", text)
    terms = [w for w in words if w.casefold() not in _QUERY_STOPWORDS] or words
    if not terms:
        return None
    out = []
    for term in terms:
        parts = re.findall(r"\w+", term)
        if len(parts) > 1:
            # "re-assess" is indexed as "re" "assess", but speech-to-text often writes
            # "reassess": match either spelling.
            out.append(f'("{" ".join(parts)}" OR "{"".join(parts)}")')
        elif parts:
            out.append(f'"{parts[0]}"')
    return " AND ".join(out) or None


class Store:
    """A handover home's database. Open with ``Store.open(path)``."""

    def __init__(self, db: sqlite_utils.Database, path: Path) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: Path, *, any_thread: bool = False) -> Store:
        """Open (and migrate) the database. ``any_thread`` lets a connection that one
        caller uses at a time move between threads (a web request's dependency, its
        endpoint and its teardown may each run on a different pool thread); never share
        one store between concurrent callers."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(
                path, timeout=30, isolation_level=None, check_same_thread=not any_thread
            )
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA busy_timeout = 30000")
            # Deleted and blanked text (a purge, a redaction) is overwritten with zeros,
            # not left readable in free pages of the file.
            conn.execute("PRAGMA secure_delete = ON")
        except sqlite3.DatabaseError as exc:
            raise HandoverError(
                f"{path}: cannot open the database ({exc}); check the path, or run "
                "`handover doctor` if it was copied mid-write"
            ) from exc
        store = cls(sqlite_utils.Database(conn), path)
        store.migrate()
        return store

    def close(self) -> None:
        self.db.conn.close()

    # -- transactions ------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic write. IMMEDIATE takes the write lock up front, so two writers
        wait on each other instead of failing half-way with SQLITE_BUSY."""
        conn = self.db.conn
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        cursor = self.db.execute(sql, tuple(params))
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([c[0] for c in cursor.description], row, strict=True))

    def _all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        cursor = self.db.execute(sql, tuple(params))
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # -- schema ------------------------------------------------------------------

    @property
    def version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        version = self.version
        if version > SCHEMA_VERSION:
            raise HandoverError(
                f"{self.path} has schema version {version}, newer than this handover "
                f"({SCHEMA_VERSION}); upgrade handover"
            )
        conn = self.db.conn
        for number in range(version, SCHEMA_VERSION):
            # executescript commits first; wrapping the script keeps each migration atomic.
            conn.execute("BEGIN IMMEDIATE")
            try:
                if self.version == number:  # another process may have migrated meanwhile
                    MIGRATIONS[number](_NoCommit(conn))
                    conn.execute(f"PRAGMA user_version = {number + 1}")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def integrity_ok(self) -> bool:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # -- deals -------------------------------------------------------------------

    def create_deal(
        self,
        slug: str,
        name: str,
        customer: str | None,
        vendor: str | None,
        owner: str | None,
        owner_user_id: int | None = None,
    ) -> Row:
        with self.transaction():
            if self._one("SELECT id FROM deals WHERE slug = ?", [slug]):
                raise Conflict(f"deal {slug!r} already exists; pick another slug")
            self.db["deals"].insert(
                {
                    "slug": slug,
                    "name": name,
                    "customer": customer,
                    "vendor": vendor,
                    "owner": owner,
                    "owner_user_id": owner_user_id,
                    "created": now(),
                }
            )
            self._event_in_tx(self.deal(slug)["id"], "deal.create", owner, {"slug": slug})
        return self.deal(slug)

    def deal(self, slug: str) -> Row:
        row = self._one("SELECT * FROM deals WHERE slug = ?", [slug])
        if row is None:
            raise NotFound(f"unknown deal {slug!r}; see `handover deal list` for the slugs")
        return row

    def deals(self) -> list[Row]:
        return self._all(
            """
            SELECT d.*,
              (SELECT count(*) FROM sources s WHERE s.deal_id = d.id
                 AND s.removed_at IS NULL AND s.purged_at IS NULL) AS sources,
              (SELECT count(*) FROM sources s WHERE s.deal_id = d.id AND s.stage = 'failed'
                 AND s.removed_at IS NULL AND s.purged_at IS NULL) AS failed,
              (SELECT max(processed_at) FROM sources s WHERE s.deal_id = d.id) AS last_processed
            FROM deals d ORDER BY d.slug
            """
        )

    # -- participants ------------------------------------------------------------

    def participants(self, deal_id: int) -> list[Row]:
        return self._all(
            "SELECT name, side, email FROM participants WHERE deal_id = ? ORDER BY side, name",
            [deal_id],
        )

    def upsert_participants(
        self, deal_id: int, people: Iterable[tuple[str, Side, str | None]]
    ) -> None:
        """Merge people into the deal: new names are added, known names change side/email."""
        with self.transaction():
            for name, side, email in people:
                existing = self._one(
                    "SELECT id, email FROM participants"
                    " WHERE deal_id = ? AND name = ? COLLATE NOCASE",
                    [deal_id, name],
                )
                if existing:
                    self.db.execute(
                        "UPDATE participants SET name = ?, side = ?, email = ? WHERE id = ?",
                        [name, str(side), email or existing["email"], existing["id"]],
                    )
                else:
                    self.db["participants"].insert(
                        {"deal_id": deal_id, "name": name, "side": str(side), "email": email}
                    )

    def deal_speakers(self, deal_id: int) -> list[str]:
        rows = self.db.execute(
            """SELECT DISTINCT g.speaker FROM segments g JOIN sources s ON s.id = g.source_id
               WHERE s.deal_id = ? AND g.speaker IS NOT NULL""",
            [deal_id],
        ).fetchall()
        return [r[0] for r in rows]

    def set_speaker_sides(self, deal_id: int, sides: dict[str, Side]) -> int:
        """Rewrite the side of every segment of the deal from a speaker → side map."""
        changed = 0
        with self.transaction():
            for speaker, side in sides.items():
                cursor = self.db.execute(
                    """UPDATE segments SET side = ? WHERE speaker = ? AND side != ? AND source_id IN
                       (SELECT id FROM sources WHERE deal_id = ?)""",
                    [str(side), speaker, str(side), deal_id],
                )
                changed += cursor.rowcount
        return changed

    # -- sources -----------------------------------------------------------------

    def source_by_sha(self, deal_id: int, sha256: str) -> Row | None:
        return self._one(
            "SELECT * FROM sources WHERE deal_id = ? AND sha256 = ? AND purged_at IS NULL",
            [deal_id, sha256],
        )

    def add_source(self, deal_id: int, **fields: Any) -> int:
        """Insert a source row; raises ``Duplicate`` when the same bytes won a race to
        this deal first (two browsers dropping the same file at once)."""
        with self.transaction():
            held = self._one(
                "SELECT id FROM sources WHERE deal_id = ? AND sha256 = ? AND purged_at IS NULL",
                [deal_id, fields.get("sha256")],
            )
            if held is not None:
                raise Duplicate(held["id"])
            table = self.db["sources"].insert(
                {
                    "deal_id": deal_id,
                    "added_at": now(),
                    "stage": str(Stage.PENDING),
                    "progress": 0.0,
                    **fields,
                }
            )
            source_id = int(table.last_pk)
            self._event_in_tx(
                deal_id,
                "source.add",
                None,
                {"source": source_id, "filename": fields.get("filename")},
            )
        return source_id

    def source(self, deal_id: int, source_id: int, *, include_removed: bool = False) -> Row:
        row = self._one("SELECT * FROM sources WHERE id = ? AND deal_id = ?", [source_id, deal_id])
        if row is None or row["purged_at"] or (row["removed_at"] and not include_removed):
            raise NotFound(
                f"deal {self._slug(deal_id)!r} has no source {source_id}; "
                "see `handover sources SLUG` for the ids"
            )
        return row

    def sources(self, deal_id: int, *, include_removed: bool = False) -> list[Row]:
        hidden = "" if include_removed else " AND removed_at IS NULL"
        return self._all(
            f"""SELECT * FROM sources WHERE deal_id = ? AND purged_at IS NULL{hidden}
                ORDER BY meeting_date, added_at, id""",
            [deal_id],
        )

    def sources_to_process(self, deal_id: int) -> list[Row]:
        """Sources with work left: never finished, failed, or interrupted mid-stage."""
        return self._all(
            """SELECT * FROM sources WHERE deal_id = ? AND purged_at IS NULL
               AND removed_at IS NULL AND stage != 'done'
               ORDER BY meeting_date, added_at, id""",
            [deal_id],
        )

    def deals_with_work(self) -> list[Row]:
        """Deals the worker should take up: a live source that is neither done nor
        failed, or a change since the last trace (a source added, removed or purged,
        an item added by hand). Failed sources wait for a person to retry them."""
        return self._all(
            f"""
            SELECT d.* FROM deals d
            WHERE EXISTS (SELECT 1 FROM sources s WHERE s.deal_id = d.id
                    AND s.removed_at IS NULL AND s.purged_at IS NULL
                    AND s.stage NOT IN ('done', 'failed'))
               OR EXISTS (SELECT 1 FROM events e WHERE {_CHANGED_SINCE_TRACE})
            ORDER BY d.id
            """
        )

    def retry_source(self, deal_id: int, source_id: int, actor: str | None) -> None:
        """Send a failed source back to the queue."""
        row = self.source(deal_id, source_id)
        if row["stage"] != Stage.FAILED:
            raise Conflict(f"source {source_id} has not failed (it is {row['stage']})")
        with self.transaction():
            self.db["sources"].update(source_id, {"stage": "pending", "progress": 0, "error": None})
            self._event_in_tx(deal_id, "source.retry", actor, {"source": source_id})

    def set_stage(
        self,
        source_id: int,
        stage: Stage,
        *,
        progress: float | None = None,
        error: str | None = None,
    ) -> None:
        fields: dict[str, Any] = {"stage": str(stage), "error": error}
        if progress is not None:
            fields["progress"] = min(max(progress, 0.0), 1.0)
        if stage == Stage.DONE:
            fields["progress"] = 1.0
            fields["processed_at"] = now()
        with self.transaction():
            self.db["sources"].update(source_id, fields)

    def set_progress(self, source_id: int, progress: float) -> None:
        with self.transaction():
            self.db["sources"].update(source_id, {"progress": min(max(progress, 0.0), 1.0)})

    def remove_source(self, deal_id: int, source_id: int, actor: str | None) -> Row:
        row = self.source(deal_id, source_id)
        with self.transaction():
            self.db["sources"].update(source_id, {"removed_at": now()})
            self._event_in_tx(deal_id, "source.remove", actor, {"source": source_id})
        return row

    def restore_source(self, deal_id: int, source_id: int, actor: str | None) -> None:
        with self.transaction():
            self.db["sources"].update(source_id, {"removed_at": None})
            self._event_in_tx(deal_id, "source.restore", actor, {"source": source_id})

    def purge_source(self, deal_id: int, source_id: int, actor: str | None) -> tuple[Row, bool]:
        """Delete a source's text for good and tombstone its row.

        Returns the row and whether its blob is now unreferenced (the caller deletes
        the file after this commits, so a crash leaves at worst an orphan blob that
        `doctor` finds, never a row pointing at nothing).
        """
        row = self.source(deal_id, source_id, include_removed=True)
        with self.transaction():
            # No quote of it may outlive it: items whose words it held go now (the next
            # trace rebuilds what other sources still say), and so do decisions' copies.
            self.db.execute(
                """UPDATE decisions SET item_text = '' WHERE deal_id = ?
                   AND coalesce(item_text, '') != '' AND EXISTS (SELECT 1 FROM segments g
                   WHERE g.source_id = ? AND instr(lower(g.text), lower(decisions.item_text)))""",
                [deal_id, source_id],
            )
            said = self._all(
                "SELECT id, item_id, quote FROM mentions WHERE source_id = ?", [source_id]
            )
            self._drop_mentions(deal_id, said)
            self.db.execute("DELETE FROM segments WHERE source_id = ?", [source_id])
            self.db.execute("DELETE FROM segment_drafts WHERE source_id = ?", [source_id])
            self.db.execute("DELETE FROM mentions WHERE source_id = ?", [source_id])
            self.db.execute("DELETE FROM extractions WHERE source_id = ?", [source_id])
            self.db.execute("DELETE FROM clauses WHERE source_id = ?", [source_id])
            self.db["sources"].update(
                source_id,
                {
                    "purged_at": now(),
                    "removed_at": row["removed_at"] or now(),
                    "title": "(purged)",
                    "filename": "(purged)",
                    "error": None,
                },
            )
            self._event_in_tx(deal_id, "source.purge", actor, {"source": source_id})
            unreferenced = not self.blob_in_use(row["sha256"])
        self._forget_deleted()
        return row, unreferenced

    def _forget_deleted(self) -> None:
        """After a purge or a redaction: merge the search index, whose older segments
        still hold the deleted words until a merge, and checkpoint the WAL so the
        zeroed pages reach the database file. Best effort: a reader holding the WAL
        only delays the checkpoint to the next one."""
        with self.transaction():
            self.db.execute("INSERT INTO segments_fts(segments_fts) VALUES ('optimize')")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def blob_in_use(self, sha256: str) -> bool:
        return (
            self._one("SELECT 1 FROM sources WHERE sha256 = ? AND purged_at IS NULL", [sha256])
            is not None
        )

    # -- segments ----------------------------------------------------------------

    def replace_segments(
        self, source_id: int, segments: Iterable[Segment], side_of: Callable[[str | None], Side]
    ) -> int:
        """Swap in a source's segments in one transaction (text sources)."""
        with self.transaction():
            self.db.execute("DELETE FROM segments WHERE source_id = ?", [source_id])
            fault_point("segments.write")
            count = self._insert_segments(source_id, segments, side_of)
        return count

    def _insert_segments(
        self, source_id: int, segments: Iterable[Segment], side_of: Callable[[str | None], Side]
    ) -> int:
        rows = (
            {
                "source_id": source_id,
                "ordinal": s.ordinal,
                "start": s.start,
                "end": s.end,
                "speaker": s.speaker,
                "side": str(side_of(s.speaker)),
                "text": s.text,
                "offset": s.offset,
            }
            for s in segments
        )
        count = 0
        for batch in _batches(rows, 500):
            self.db["segments"].insert_all(batch)
            count += len(batch)
        self._apply_overrides(source_id)  # hand-set sides outlive a re-transcription
        self._apply_redactions(source_id)  # so do redactions: the words never come back
        return count

    def clear_drafts(self, source_id: int) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM segment_drafts WHERE source_id = ?", [source_id])

    def add_drafts(self, source_id: int, segments: list[Segment]) -> None:
        if not segments:
            return
        with self.transaction():
            self.db["segment_drafts"].insert_all(
                {
                    "source_id": source_id,
                    "ordinal": s.ordinal,
                    "start": s.start,
                    "end": s.end,
                    "speaker": s.speaker,
                    "text": s.text,
                }
                for s in segments
            )

    def publish_drafts(self, source_id: int, side_of: Callable[[str | None], Side]) -> int:
        """Move a finished transcription from drafts into segments, atomically."""
        with self.transaction():
            self.db.execute("DELETE FROM segments WHERE source_id = ?", [source_id])
            fault_point("publish.write")
            drafts = self.db.execute(
                """SELECT ordinal, start, "end", speaker, text FROM segment_drafts
                   WHERE source_id = ? ORDER BY ordinal""",
                [source_id],
            )
            count = self._insert_segments(
                source_id, (Segment(o, t, st, en, sp) for o, st, en, sp, t in drafts), side_of
            )
            self.db.execute("DELETE FROM segment_drafts WHERE source_id = ?", [source_id])
        return count

    def draft_count(self, source_id: int) -> int:
        return int(
            self.db.execute(
                "SELECT count(*) FROM segment_drafts WHERE source_id = ?", [source_id]
            ).fetchone()[0]
        )

    def segments(self, source_id: int) -> list[Row]:
        return self._all(
            """SELECT id, ordinal, start, "end", speaker, side, text, "offset", redacted
               FROM segments WHERE source_id = ? ORDER BY ordinal""",
            [source_id],
        )

    def deal_texts(self, deal_id: int, kinds: Iterable[SourceKind]) -> list[str]:
        kinds = [str(k) for k in kinds]
        marks = ",".join("?" * len(kinds))
        rows = self.db.execute(
            f"""SELECT g.text FROM segments g JOIN sources s ON s.id = g.source_id
                WHERE s.deal_id = ? AND s.kind IN ({marks}) AND s.removed_at IS NULL
                AND s.purged_at IS NULL ORDER BY s.id, g.ordinal""",
            [deal_id, *kinds],
        )
        return [r[0] for r in rows]

    def search(self, deal_id: int, query: str, limit: int = 20) -> list[Row]:
        match = fts_query(query)
        if match is None:
            return []
        sql = """
            SELECT s.id AS source_id, s.title, s.kind, s.meeting_date, g.id AS segment_id,
                   g.ordinal, g.start, g."end", g.speaker, g.side, g.text,
                   snippet(segments_fts, 0, '[', ']', '…', 24) AS snippet
            FROM segments_fts
            JOIN segments g ON g.id = segments_fts.rowid
            JOIN sources s ON s.id = g.source_id
            WHERE segments_fts MATCH ? AND s.deal_id = ?
              AND s.removed_at IS NULL AND s.purged_at IS NULL AND g.redacted = 0
            ORDER BY bm25(segments_fts), s.meeting_date, g.ordinal
            LIMIT ?"""
        rows = self._all(sql, [match, deal_id, limit])
        if not rows and " " in match:
            # Nothing has every word: fall back to any word, best first.
            any_word = " OR ".join(re.findall(r'\([^()]*\)|"[^"]*"', match))
            rows = self._all(sql, [any_word, deal_id, limit])
        return rows

    # -- extraction --------------------------------------------------------------

    def replace_extractions(self, source_id: int, candidates: Iterable[Candidate]) -> int:
        """Swap in what extraction found in one source, in one transaction."""
        with self.transaction():
            self.db.execute("DELETE FROM extractions WHERE source_id = ?", [source_id])
            fault_point("extract.write")
            segment_ids = dict(
                self.db.execute(
                    "SELECT ordinal, id FROM segments WHERE source_id = ?", [source_id]
                ).fetchall()
            )
            # Checked in this transaction: a redaction made while extraction ran wins.
            hidden = {
                o
                for (o,) in self.db.execute(
                    "SELECT ordinal FROM segments WHERE source_id = ? AND redacted = 1",
                    [source_id],
                )
            }
            rows = [
                {
                    "source_id": source_id,
                    "segment_id": segment_ids.get(c.segment_ordinal),
                    "ordinal": c.segment_ordinal,
                    "kind": str(c.kind),
                    "subtype": str(c.subtype),
                    "text": c.text,
                    "speaker": c.speaker,
                    "side": str(c.side),
                    "side_inferred": int(c.side_inferred),
                    "start": c.start,
                    "end": c.end,
                    "char_start": c.char_start,
                    "char_end": c.char_end,
                    "owner": c.owner,
                    "due": c.due,
                    "due_text": c.due_text,
                    "quantities": json.dumps(list(c.quantities)),
                    "confidence": c.confidence,
                    "rule": c.rule,
                }
                for c in candidates
                if c.segment_ordinal not in hidden
            ]
            if rows:
                self.db["extractions"].insert_all(rows)
        return len(rows)

    def deal_extractions(self, deal_id: int) -> list[Row]:
        """Every extraction of the deal's live sources, oldest meeting first."""
        return self._all(
            f"""SELECT e.*, s.meeting_date, s.filename AS source_name, s.kind AS source_kind
                FROM extractions e JOIN sources s ON s.id = e.source_id
                WHERE s.deal_id = ? AND {_LIVE}
                ORDER BY s.meeting_date, s.added_at, s.id, e.ordinal, e.char_start""",
            [deal_id],
        )

    def deal_segments(self, deal_id: int) -> list[Row]:
        """Every segment of the deal's live conversations (not scope documents)."""
        return self._all(
            f"""SELECT g.*, s.meeting_date FROM segments g JOIN sources s ON s.id = g.source_id
                WHERE s.deal_id = ? AND s.kind != 'scope' AND {_LIVE}
                ORDER BY s.meeting_date, s.added_at, s.id, g.ordinal""",
            [deal_id],
        )

    def live_sources(self, deal_id: int) -> list[Row]:
        """Sources that count: not removed, purged, or replaced by a newer version."""
        return self._all(
            f"SELECT s.* FROM sources s WHERE s.deal_id = ? AND {_LIVE} ORDER BY s.id",
            [deal_id],
        )

    # -- clauses -----------------------------------------------------------------

    def replace_clauses(self, source_id: int, clauses: Iterable[tuple[Clause, str]]) -> int:
        """Store a scope document's clauses with their sha256, keeping the ids of
        clauses whose place in the document is unchanged (decisions point at them)."""
        count = 0
        with self.transaction():
            for clause, sha in clauses:
                self.db.execute(
                    """INSERT INTO clauses(source_id, ordinal, section, heading, text, category,
                                           sha256)
                       VALUES (?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT(source_id, ordinal) DO UPDATE SET section = excluded.section,
                         heading = excluded.heading, text = excluded.text,
                         category = excluded.category, sha256 = excluded.sha256""",
                    [
                        source_id,
                        clause.ordinal,
                        clause.section,
                        clause.heading,
                        clause.text,
                        str(clause.category),
                        sha,
                    ],
                )
                count += 1
            fault_point("clauses.write")
            self.db.execute(
                "DELETE FROM clauses WHERE source_id = ? AND ordinal >= ?", [source_id, count]
            )
        return count

    def deal_clauses(self, deal_id: int, *, live_only: bool = True) -> list[Row]:
        live = f"AND {_LIVE}" if live_only else ""
        return self._all(
            f"""SELECT c.*, s.filename AS document, s.meeting_date AS doc_date,
                       s.removed_at IS NOT NULL OR s.purged_at IS NOT NULL AS gone
                FROM clauses c JOIN sources s ON s.id = c.source_id
                WHERE s.deal_id = ? {live} ORDER BY s.id, c.ordinal""",
            [deal_id],
        )

    def clause(self, deal_id: int, clause_id: int) -> Row:
        row = self._one(
            """SELECT c.*, s.filename AS document FROM clauses c
               JOIN sources s ON s.id = c.source_id WHERE c.id = ? AND s.deal_id = ?""",
            [clause_id, deal_id],
        )
        if row is None:
            raise NotFound(
                f"deal {self._slug(deal_id)!r} has no clause {clause_id}; "
                "see `handover clauses SLUG` for the ids"
            )
        return row

    # -- embeddings --------------------------------------------------------------

    def embeddings(self, shas: Iterable[str], model: str) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        shas = list(dict.fromkeys(shas))
        for start in range(0, len(shas), 500):
            chunk = shas[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for sha, vector in self.db.execute(
                f"SELECT text_sha256, vector FROM embeddings WHERE model = ? "
                f"AND text_sha256 IN ({marks})",
                [model, *chunk],
            ):
                found[sha] = vector
        return found

    def put_embeddings(self, rows: Iterable[tuple[str, int, bytes]], model: str) -> None:
        with self.transaction():
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO embeddings(text_sha256, model, dim, vector) "
                "VALUES (?, ?, ?, ?)",
                [(sha, model, dim, vector) for sha, dim, vector in rows],
            )
            fault_point("embeddings.write")

    # -- items -------------------------------------------------------------------

    def items(self, deal_id: int) -> list[Row]:
        return self._all("SELECT * FROM items WHERE deal_id = ? ORDER BY created_at, id", [deal_id])

    def item(self, deal_id: int, item_id: str) -> Row:
        row = self._one("SELECT * FROM items WHERE deal_id = ? AND id = ?", [deal_id, item_id])
        if row is None:
            raise NotFound(
                f"deal {self._slug(deal_id)!r} has no item {item_id!r}; "
                "see `handover items SLUG` for the ids"
            )
        return row

    def mentions(self, deal_id: int) -> list[Row]:
        return self._all(
            """SELECT m.*, s.filename AS source_name, s.kind AS source_kind, s.meeting_date
               FROM mentions m JOIN items i ON i.id = m.item_id
               JOIN sources s ON s.id = m.source_id
               WHERE i.deal_id = ? ORDER BY s.meeting_date, s.id, m.start, m.char_start""",
            [deal_id],
        )

    def traces(self, deal_id: int) -> list[Row]:
        return self._all(
            """SELECT t.*, c.section, c.heading, c.text AS clause, c.category, c.sha256,
                      s.filename AS document
               FROM traces t JOIN items i ON i.id = t.item_id
               LEFT JOIN clauses c ON c.id = t.clause_id
               LEFT JOIN sources s ON s.id = c.source_id
               WHERE i.deal_id = ? ORDER BY t.item_id, t.rank""",
            [deal_id],
        )

    def save_items(
        self,
        deal_id: int,
        items: list[Row],
        mentions: list[Row],
        traces: list[Row],
        reattached: list[tuple[str, str, float]],
        seen_event: int,
    ) -> None:
        """Replace the deal's derived items, mentions and traces in one transaction.

        ``seen_event`` is ``change_mark()`` taken before the trace read anything: a
        change logged after it leaves the deal stale, so the next run traces again.

        Items keep their ``created_at`` when their id survives; decisions are never
        deleted, only re-pointed (``reattached``: old id, new id, overlap).
        """
        with self.transaction():
            created = dict(
                self.db.execute(
                    "SELECT id, created_at FROM items WHERE deal_id = ?", [deal_id]
                ).fetchall()
            )
            self.db.execute("DELETE FROM items WHERE deal_id = ?", [deal_id])
            fault_point("items.write")
            stamp = now()
            for item in items:
                row = {**item, "deal_id": deal_id, "traced_at": stamp}
                row["created_at"] = created.get(item["id"]) or item.get("created_at") or stamp
                self.db["items"].insert(row)
            if mentions:
                self.db["mentions"].insert_all(mentions)
            if traces:
                self.db["traces"].insert_all(traces)
            for old, new, overlap in reattached:
                self.db.execute(
                    "UPDATE decisions SET item_id = ? WHERE deal_id = ? AND item_id = ?",
                    [new, deal_id, old],
                )
                self._event_in_tx(
                    deal_id,
                    "decision.reattach",
                    None,
                    {"from": old, "to": new, "overlap": round(overlap, 3)},
                )
            self.db.execute(
                "UPDATE deals SET traced_at = ?, traced_event = ? WHERE id = ?",
                [stamp, seen_event, deal_id],
            )
            self._scrub_redacted(deal_id)  # a redaction made while this trace ran wins

    # -- decisions ---------------------------------------------------------------

    def decisions(self, deal_id: int) -> list[Row]:
        return self._all("SELECT * FROM decisions WHERE deal_id = ? ORDER BY id", [deal_id])

    def add_decision(self, deal_id: int, **fields: Any) -> int:
        """Append a decision; a confirm or link clears the item's suspect flag."""
        with self.transaction():
            fields = {"deal_id": deal_id, "at": now(), **fields}
            decision_id = int(self.db["decisions"].insert(fields).last_pk)
            if fields["decision"] in ("confirmed", "linked"):
                self.db.execute(
                    "UPDATE items SET suspect = 0, suspect_reason = NULL WHERE id = ?",
                    [fields["item_id"]],
                )
        return decision_id

    def add_manual_item(self, deal_id: int, item: Row, mention: Row | None, by: str) -> None:
        with self.transaction():
            if self._one("SELECT 1 FROM items WHERE id = ?", [item["id"]]):
                raise Conflict(
                    f"item {item['id']} already exists with these words; "
                    "review it with `handover review`"
                )
            self.db["items"].insert({**item, "deal_id": deal_id, "created_at": now()})
            if mention:
                self.db["mentions"].insert(mention)
            self._event_in_tx(deal_id, "item.add", by, {"item": item["id"]})

    # -- side overrides -----------------------------------------------------------

    def add_side_override(
        self,
        source_id: int,
        start: float,
        end: float,
        side: Side,
        speaker: str | None,
        by: str | None,
    ) -> int:
        """Record a hand-set side for a time range and apply it to the segments in it."""
        with self.transaction():
            self.db["side_overrides"].insert(
                {
                    "source_id": source_id,
                    "start": start,
                    "end": end,
                    "side": str(side),
                    "speaker": speaker,
                    "by": by or "unknown",
                    "at": now(),
                }
            )
            changed = self._apply_overrides(source_id)
            self.db.execute(
                "UPDATE sources SET stage = 'extracting', progress = 0 WHERE id = ?", [source_id]
            )
        return changed

    def _apply_overrides(self, source_id: int) -> int:
        changed = 0
        for o in self._all(
            'SELECT start, "end", side, speaker FROM side_overrides'
            " WHERE source_id = ? ORDER BY id",
            [source_id],
        ):
            # A segment belongs to the range when its middle falls inside it.
            changed += self.db.execute(
                """UPDATE segments SET side = ?, speaker = coalesce(?, speaker)
                   WHERE source_id = ? AND start IS NOT NULL
                   AND (start + coalesce("end", start)) / 2 BETWEEN ? AND ?""",
                [o["side"], o["speaker"], source_id, o["start"], o["end"]],
            ).rowcount
        return changed

    # -- redactions ---------------------------------------------------------------

    def add_redaction(
        self,
        deal_id: int,
        source_id: int,
        start: float,
        end: float,
        reason: str | None,
        by: str | None,
    ) -> tuple[int, int, bool]:
        """Hide a time span of a source: record it, blank the segments it overlaps and
        drop what extraction took from them, in one transaction. Returns the redaction's
        id, how many segments were newly blanked, and whether the source went back to
        extraction (so the deal's items are derived again)."""
        with self.transaction():
            redaction_id = int(
                self.db["redactions"]
                .insert(
                    {
                        "source_id": source_id,
                        "start": start,
                        "end": end,
                        "reason": reason,
                        "by": by,
                        "at": now(),
                    }
                )
                .last_pk
            )
            blanked = self._apply_redactions(source_id)
            scrubbed = self._scrub_redacted(deal_id)
            requeued = bool(blanked or scrubbed) and bool(
                self.db.execute(
                    "UPDATE sources SET stage = 'extracting', progress = 0 WHERE id = ? "
                    "AND stage IN ('tracing', 'done')",
                    [source_id],
                ).rowcount
            )
            self._event_in_tx(
                deal_id,
                "source.redact",
                by,
                {
                    "source": source_id,
                    "redaction": redaction_id,
                    "start": start,
                    "end": end,
                    "reason": reason,
                    "segments": blanked,
                },
            )
        self._forget_deleted()
        return redaction_id, blanked, requeued

    def redactions(self, source_id: int) -> list[Row]:
        return self._all(
            'SELECT id, start, "end", reason, by, at FROM redactions WHERE source_id = ?'
            " ORDER BY start, id",
            [source_id],
        )

    def redacted_times(self, source_id: int) -> list[tuple[float, float]]:
        """The times of the source's blanked segments, which may reach past the spans."""
        rows = self.db.execute(
            'SELECT start, coalesce("end", start) FROM segments WHERE source_id = ?'
            " AND redacted = 1 AND start IS NOT NULL ORDER BY start",
            [source_id],
        )
        return [(float(a), float(b)) for a, b in rows]

    def _apply_redactions(self, source_id: int) -> int:
        """Blank every segment that overlaps a redaction of the source (the FTS trigger
        drops its words from search); returns how many were newly blanked."""
        in_span = (
            "EXISTS (SELECT 1 FROM redactions r WHERE r.source_id = g.source_id "
            f"AND {_overlaps('g')})"
        )
        # A decision keeps the words of the item it was made on: blank them where they
        # were said inside the span (the decision row itself stays).
        self.db.execute(
            f"""UPDATE decisions SET item_text = '' WHERE coalesce(item_text, '') != ''
                AND deal_id = (SELECT deal_id FROM sources WHERE id = ?)
                AND EXISTS (SELECT 1 FROM segments g WHERE g.source_id = ? AND g.redacted = 0
                    AND {in_span} AND instr(lower(g.text), lower(decisions.item_text)) > 0)""",
            [source_id, source_id],
        )
        return self.db.execute(
            f"""UPDATE segments AS g SET text = '', redacted = 1
                WHERE g.source_id = ? AND g.redacted = 0 AND {in_span}""",
            [source_id],
        ).rowcount

    def _scrub_redacted(self, deal_id: int) -> int:
        """Drop what extraction took from redacted spans: extraction rows, mentions, and
        derived items whose words came from there (their decisions keep their rows, with
        ``item_text`` blanked). Items added by hand are a person's own words and stay.
        Returns how many mentions went."""
        if not self._one(
            "SELECT 1 FROM redactions r JOIN sources s ON s.id = r.source_id"
            " WHERE s.deal_id = ? LIMIT 1",
            [deal_id],
        ):
            return 0  # most deals: nothing to look for
        in_span = f"""(x.segment_id IN (SELECT id FROM segments
                WHERE source_id = x.source_id AND redacted = 1)
            OR EXISTS (SELECT 1 FROM redactions r WHERE r.source_id = x.source_id
                AND {_overlaps("x")}))"""
        self.db.execute(
            f"""DELETE FROM extractions AS x
                WHERE x.source_id IN (SELECT id FROM sources WHERE deal_id = ?) AND {in_span}""",
            [deal_id],
        )
        hits = self._all(
            f"""SELECT x.id, x.item_id, x.quote FROM mentions x JOIN items i ON i.id = x.item_id
                WHERE i.deal_id = ? AND i.manual = 0 AND {in_span}""",
            [deal_id],
        )
        self._drop_mentions(deal_id, hits)
        return len(hits)

    def _drop_mentions(self, deal_id: int, hits: list[Row]) -> None:
        """Delete mentions (rows with ``id``, ``item_id``, ``quote``) whose words must go,
        with the derived items whose own words are one of them or that have no mention
        left; the next trace rebuilds those items from what remains. Their decisions keep
        their rows, with ``item_text`` blanked."""
        quotes: dict[str, set[str]] = {}
        for hit in hits:
            self.db.execute("DELETE FROM mentions WHERE id = ?", [hit["id"]])
            quotes.setdefault(hit["item_id"], set()).add(hit["quote"])
        for item_id, said in quotes.items():
            item = self._one("SELECT text, manual FROM items WHERE id = ?", [item_id])
            left = self._one("SELECT 1 FROM mentions WHERE item_id = ? LIMIT 1", [item_id])
            if item is None or item["manual"] or (item["text"] not in said and left):
                continue
            self.db.execute(
                "UPDATE decisions SET item_text = '' WHERE deal_id = ? AND item_id = ?",
                [deal_id, item_id],
            )
            self.db.execute("DELETE FROM items WHERE id = ?", [item_id])

    def finish_traced(self, source_id: int) -> None:
        """Mark a source done after its deal was traced, unless a redaction or a side set
        meanwhile sent it back to extraction: that work must not be skipped."""
        with self.transaction():
            self.db.execute(
                "UPDATE sources SET stage = 'done', progress = 1, error = NULL, processed_at = ?"
                " WHERE id = ? AND stage = 'tracing'",
                [now(), source_id],
            )

    def mark_for_extraction(self, deal_id: int) -> int:
        """Send every finished conversation source back through extraction (sides changed)."""
        with self.transaction():
            return self.db.execute(
                """UPDATE sources SET stage = 'extracting' WHERE deal_id = ? AND stage = 'done'
                   AND kind != 'scope' AND removed_at IS NULL AND purged_at IS NULL""",
                [deal_id],
            ).rowcount

    def stale_reason(self, deal_id: int) -> str | None:
        """Why the deal's stored statuses may be out of date, or None."""
        pending = self._one(
            "SELECT count(*) AS n FROM sources WHERE deal_id = ? AND stage != 'done' "
            "AND removed_at IS NULL AND purged_at IS NULL",
            [deal_id],
        )
        if pending and pending["n"]:
            return f"{pending['n']} source(s) not processed yet"
        changes = {
            row["action"]
            for row in self._all(
                f"SELECT DISTINCT e.action FROM deals d JOIN events e ON {_CHANGED_SINCE_TRACE} "
                "WHERE d.id = ?",
                [deal_id],
            )
        }
        if changes - {"item.add"}:
            return "sources changed since the last trace"
        if changes:
            return "items added by hand since the last trace"
        return None

    # -- glossary ----------------------------------------------------------------

    def glossary(self, deal_id: int) -> list[str]:
        rows = self.db.execute(
            "SELECT term FROM glossary WHERE deal_id = ? ORDER BY term COLLATE NOCASE", [deal_id]
        )
        return [r[0] for r in rows]

    def add_glossary(self, deal_id: int, terms: Iterable[str], by: str | None) -> list[str]:
        added = []
        with self.transaction():
            for term in terms:
                cursor = self.db.execute(
                    "INSERT OR IGNORE INTO glossary(deal_id, term, added_by, added_at) "
                    "VALUES (?, ?, ?, ?)",
                    [deal_id, term, by, now()],
                )
                if cursor.rowcount:
                    added.append(term)
        return added

    def remove_glossary(self, deal_id: int, terms: Iterable[str]) -> int:
        removed = 0
        with self.transaction():
            for term in terms:
                removed += self.db.execute(
                    "DELETE FROM glossary WHERE deal_id = ? AND term = ? COLLATE NOCASE",
                    [deal_id, term],
                ).rowcount
        return removed

    # -- users and sessions (the rules about them live in auth.py) -----------------

    def add_user(self, name: str, role: str, password_hash: str) -> Row:
        with self.transaction():
            if self.user(name) is not None:
                raise Conflict(
                    f"user {name!r} already exists; pick another name, or change the password "
                    f"with `handover user passwd '{name}'`"
                )
            self.db["users"].insert(
                {"name": name, "role": role, "password_hash": password_hash, "created": now()}
            )
            row = self.user(name)
        assert row is not None  # just inserted, in this transaction
        return row

    def user(self, name: str) -> Row | None:
        return self._one("SELECT * FROM users WHERE name = ?", [name])

    def users(self) -> list[Row]:
        return self._all("SELECT * FROM users ORDER BY name")

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE users SET password_hash = ? WHERE id = ?", [password_hash, user_id]
            )

    def set_user_disabled(self, user_id: int, disabled_at: str | None) -> None:
        with self.transaction():
            self.db.execute("UPDATE users SET disabled_at = ? WHERE id = ?", [disabled_at, user_id])

    def enabled_admins(self) -> int:
        row = self._one(
            "SELECT count(*) AS n FROM users WHERE role = 'admin' AND disabled_at IS NULL"
        )
        return int(row["n"]) if row else 0

    def add_session(self, token_sha256: str, user_id: int, csrf: str, expires: str) -> None:
        with self.transaction():
            stamp = now()
            self.db.execute("DELETE FROM sessions WHERE expires <= ?", [stamp])
            self.db["sessions"].insert(
                {
                    "token_sha256": token_sha256,
                    "user_id": user_id,
                    "csrf": csrf,
                    "created": stamp,
                    "expires": expires,
                }
            )

    def session(self, token_sha256: str) -> Row | None:
        """A session with its user's columns (``name``, ``role``, ``disabled_at``)."""
        return self._one(
            """
            SELECT s.token_sha256, s.csrf, s.created, s.expires, u.id AS user_id, u.name,
                   u.role, u.disabled_at, u.created AS user_created
            FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_sha256 = ?
            """,
            [token_sha256],
        )

    def end_sessions(self, *, token_sha256: str | None = None, user_id: int | None = None) -> int:
        with self.transaction():
            if token_sha256 is not None:
                sql, param = "DELETE FROM sessions WHERE token_sha256 = ?", token_sha256
            else:
                sql, param = "DELETE FROM sessions WHERE user_id = ?", user_id
            return self.db.execute(sql, [param]).rowcount

    def count_events(self, action: str, actor: str, since: str) -> int:
        row = self._one(
            "SELECT count(*) AS n FROM events WHERE action = ? AND actor = ? COLLATE NOCASE "
            "AND at >= ?",
            [action, actor, since],
        )
        return int(row["n"]) if row else 0

    # -- locks -------------------------------------------------------------------

    def acquire_lock(self, name: str) -> None:
        """Take a named lease for this process, or raise Conflict naming the holder.

        A lease whose process is gone (same host, pid not alive) is stale and taken over,
        so a run killed with SIGKILL never blocks the next one.
        """
        host, pid = socket.gethostname(), os.getpid()
        with self.transaction():
            held = self._one("SELECT * FROM locks WHERE name = ?", [name])
            mine = held and held["host"] == host and held["pid"] == pid
            if held and not mine and (held["host"] != host or _pid_alive(held["pid"])):
                job = name.partition(":")[2] if name.startswith("process:") else ""
                what = f"processing of deal {job}" if job else name
                raise Conflict(
                    f"{what} is already running (pid {held['pid']} on {held['host']} since "
                    f"{held['acquired_at']}); wait for it to finish, it holds the lease {name}"
                )
            self.db.execute(
                "INSERT OR REPLACE INTO locks(name, host, pid, acquired_at) VALUES (?, ?, ?, ?)",
                [name, host, pid, now()],
            )

    def lock_holder(self, name: str) -> Row | None:
        """The live holder of a lease, or None when it is free or its process is gone."""
        held = self._one("SELECT * FROM locks WHERE name = ?", [name])
        if held and held["host"] == socket.gethostname() and not _pid_alive(held["pid"]):
            return None
        return held

    def release_lock(self, name: str) -> None:
        with self.transaction():
            self.db.execute(
                "DELETE FROM locks WHERE name = ? AND host = ? AND pid = ?",
                [name, socket.gethostname(), os.getpid()],
            )

    # -- events ------------------------------------------------------------------

    def _event_in_tx(
        self, deal_id: int | None, action: str, actor: str | None, detail: dict[str, Any]
    ) -> None:
        self.db["events"].insert(
            {
                "deal_id": deal_id,
                "at": now(),
                "actor": actor,
                "action": action,
                "detail": json.dumps(detail, sort_keys=True),
            }
        )

    def add_event(
        self, deal_id: int | None, action: str, actor: str | None, detail: dict[str, Any]
    ) -> None:
        with self.transaction():
            self._event_in_tx(deal_id, action, actor, detail)

    def change_mark(self) -> int:
        """The newest audit event's id: what a trace has seen when it starts."""
        row = self._one("SELECT coalesce(max(id), 0) AS id FROM events")
        return int(row["id"]) if row else 0

    def last_event(self, action: str) -> Row | None:
        return self._one("SELECT * FROM events WHERE action = ? ORDER BY id DESC LIMIT 1", [action])

    def events(self, deal_id: int) -> list[Row]:
        return self._all("SELECT * FROM events WHERE deal_id = ? ORDER BY id", [deal_id])

    def _slug(self, deal_id: int) -> str:
        row = self._one("SELECT slug FROM deals WHERE id = ?", [deal_id])
        return row["slug"] if row else str(deal_id)


class _NoCommit:
    """A connection view for migrations whose executescript runs statement by statement.

    ``sqlite3.Connection.executescript`` issues a COMMIT first, which would end the
    migration's transaction early; splitting the script keeps it atomic.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def executescript(self, script: str) -> None:
        buffer = ""
        for line in script.splitlines(keepends=True):
            buffer += line
            if sqlite3.complete_statement(buffer):
                self._conn.execute(buffer)
                buffer = ""
        if buffer.strip():
            self._conn.execute(buffer)

    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, tuple(params))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch

"""Decisions, effective status and the flag job's exit codes, on a stored deal.

The items here are written straight into a real database (what a trace would have
stored), so these tests need no models; the end-to-end tests trace real inputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handover.review import effective_status
from handover.store import Store
from handover.types import Clause

SLUG = "acme-it"


def _item(item_id, text, auto_status, kind="commitment", subtype="firm"):
    return {
        "id": item_id,
        "kind": kind,
        "subtype": subtype,
        "text": text,
        "norm": text.lower(),
        "side": "vendor",
        "side_inferred": 0,
        "owner": "vendor",
        "due": None,
        "due_text": None,
        "quantities": "[]",
        "confidence": 0.9,
        "rule": "we-will",
        "manual": 0,
        "auto_status": auto_status,
        "score": 0.5,
        "suspect": 0,
        "suspect_reason": None,
    }


@pytest.fixture
def deal(cli, home: Path):
    assert (
        cli(
            "deal",
            "add",
            SLUG,
            "--name",
            "Acme IT",
            "--customer",
            "Acme",
            "--vendor",
            "Us",
            "--owner",
            "Sam Lee",
        ).code
        == 0
    )
    store = Store.open(home / "handover.db")
    row = store.deal(SLUG)
    source = store.add_source(
        row["id"],
        kind="scope",
        fmt="md",
        filename="sow.md",
        sha256="0" * 64,
        size=1,
        mime="text/markdown",
        meeting_date="2026-11-01",
        title="SOW",
    )
    store.set_stage(source, "done")
    store.replace_clauses(source, [(Clause(0, "2.1", "Services", "Monthly patching."), "a" * 64)])
    items = [
        _item("c-1", "we will patch monthly", "traced"),
        _item("c-2", "we will migrate the mail", "untraced"),
        _item("c-3", "we will train 40 people", "conflict"),
        _item("p-4", "we need fewer outages", "untraced", "customer_phrase", "need"),
    ]
    store.save_items(row["id"], items, [], [], [], store.change_mark())
    yield store
    store.close()


def test_effective_status_follows_the_latest_decision():
    assert effective_status("untraced", None) == "untraced"
    assert effective_status("untraced", {"decision": "confirmed"}) == "traced"
    assert effective_status("conflict", {"decision": "linked"}) == "traced"
    assert effective_status("untraced", {"decision": "accepted-gap"}) == "accepted"
    assert effective_status("traced", {"decision": "not-a-commitment"}) == "dismissed"
    assert effective_status("conflict", {"decision": "reopen"}) == "conflict"


def test_flag_exit_codes(cli, deal):
    res = cli("flag", SLUG, "--format", "json")
    assert res.code == 1
    report = json.loads(res.out)
    ids = [i["id"] for d in report["deals"] for i in d["items"]]
    assert sorted(ids) == ["c-2", "c-3", "p-4"]
    assert report["deals"][0]["owner"] == "Sam Lee"
    assert ids[0] == "c-3"  # conflicts first
    assert cli("flag", SLUG, "--kind", "commitment", "--fail-on", "weak").code == 0
    assert cli("flag", "no-such-deal").code == 2
    assert cli("flag").code == 2
    assert cli("flag", SLUG, "--fail-on", "bogus").code == 2
    assert cli("flag", "--all", "--kind", "customer_phrase", "--format", "json").code == 1


def test_flag_marks_new_items_since_the_previous_run(cli, deal):
    first = json.loads(cli("flag", SLUG, "--format", "json").out)
    assert all(i["new"] for i in first["deals"][0]["items"])
    second = json.loads(cli("flag", SLUG, "--format", "json").out)
    assert second["previous_run"] is not None
    assert not any(i["new"] for i in second["deals"][0]["items"])
    assert json.loads(cli("flag", SLUG, "--format", "json", "--since", "last").out)["total"] == 0


def test_decisions_override_status_and_keep_history(cli, deal):
    assert cli("review", SLUG, "c-2", "--decision", "accepted-gap", "--by", "Lee").code == 0
    assert cli("review", SLUG, "p-4", "--decision", "not-a-commitment", "--by", "Lee").code == 0
    doc = json.loads(cli("items", SLUG, "--json").out)
    by_id = {i["id"]: i for i in doc["items"]}
    assert by_id["c-2"]["status"] == "accepted" and by_id["c-2"]["auto_status"] == "untraced"
    assert by_id["p-4"]["status"] == "dismissed"
    res = cli("flag", SLUG, "--format", "json")
    assert [i["id"] for d in json.loads(res.out)["deals"] for i in d["items"]] == ["c-3"]
    # reopen brings the machine's verdict back; the history keeps both decisions
    assert cli("review", SLUG, "c-2", "--decision", "reopen", "--by", "Kim").code == 0
    doc = json.loads(cli("items", SLUG, "--json").out)
    c2 = next(i for i in doc["items"] if i["id"] == "c-2")
    assert c2["status"] == "untraced"
    assert [h["decision"] for h in c2["history"]] == ["accepted-gap", "reopen"]
    assert c2["decision"]["by"] == "Kim"


def test_linking_a_clause_traces_the_item(cli, deal):
    clause_id = deal.deal_clauses(deal.deal(SLUG)["id"])[0]["id"]
    res = cli(
        "review",
        SLUG,
        "c-3",
        "--decision",
        "linked",
        "--clause",
        str(clause_id),
        "--by",
        "Lee",
        "--note",
        "patching covers it",
    )
    assert res.code == 0, res.err
    doc = json.loads(cli("items", SLUG, "--json").out)
    c3 = next(i for i in doc["items"] if i["id"] == "c-3")
    assert c3["status"] == "traced"
    assert c3["trace"]["clause_id"] == clause_id and c3["trace"]["section"] == "2.1"
    assert c3["decision"]["note"] == "patching covers it"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["c-404", "--decision", "confirmed"], "no item 'c-404'"),
        (["c-2", "--decision", "approve"], "unknown decision 'approve'"),
        (["c-2", "--decision", "linked"], "needs --clause"),
        (["c-2", "--decision", "linked", "--clause", "999"], "no clause 999"),
        (["c-2", "--decision", "confirmed", "--clause", "1"], "only goes with"),
    ],
)
def test_bad_reviews_get_one_line_errors(cli, deal, args, message):
    res = cli("review", SLUG, *args, "--by", "Lee")
    assert res.code == 1
    assert message in res.err
    assert len(res.err.strip().splitlines()) == 1
    assert deal.decisions(deal.deal(SLUG)["id"]) == []


def test_flag_output_file_and_module_entry(cli, deal, home, tmp_path):
    target = tmp_path / "flag.md"
    assert cli("flag", SLUG, "--format", "md", "-o", target).code == 1
    assert "c-3" in target.read_text()
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.flag_untraced",
            "--home",
            str(home),
            SLUG,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["total"] == 3


def test_flag_says_when_inputs_changed_since_the_trace(cli, deal, tmp_path):
    first = json.loads(cli("flag", SLUG, "--format", "json").out)
    assert first["deals"][0]["stale"] is False
    assert all(i["deal_owner"] == "Sam Lee" for i in first["deals"][0]["items"])
    notes = tmp_path / "notes.md"
    notes.write_text("# Call\n\n- We will migrate the mail.\n")
    assert cli("add", SLUG, notes).code == 0
    res = cli("flag", SLUG, "--format", "json")
    assert res.code == 1
    assert json.loads(res.out)["deals"][0]["stale"] is True
    assert f"run `handover process {SLUG}`" in res.err

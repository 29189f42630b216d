"""Access: accounts, passwords, sessions and roles (auth.py), and how the web app and the
CLI apply them: sign-in, CSRF, who sees which deal, who decides, where `serve` listens.

No model is loaded here: items are added by hand, which is enough to decide on them.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, Type
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from handover import auth
from handover.config import Settings
from handover.errors import Conflict, HandoverError, InputError, NotFound
from handover.store import Store
from handover.web import CSRF_HEADER, SESSION_COOKIE, _safe_next, create_app

from .test_web import CALL_VTT, PASSWORD, quick_hashing, session_client

LEAD, ADMIN = "Lee Chen", "Ada Admin"
DANA, SAM = "Dana Whitfield", "Sam Seller"
JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html,application/xhtml+xml"}
PRODUCTION_HASHER = auth.HASHER


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from quick_hashing(monkeypatch)


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings.load(home)


@pytest.fixture
def store(settings: Settings):
    opened = Store.open(settings.db_path)
    yield opened
    opened.close()


def _rows(settings: Settings, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(settings.db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# -- accounts and passwords ----------------------------------------------------------------


def test_a_password_is_stored_only_as_an_argon2id_hash(store: Store, settings: Settings) -> None:
    secret = "tangerine-walrus-42"
    user = auth.add_user(store, "  Lee   Chen ", "lead", secret)
    assert (user.name, user.role) == (LEAD, auth.Role.LEAD)
    stored = store.user(LEAD)["password_hash"]
    assert stored.startswith("$argon2id$") and secret not in stored
    assert auth.HASHER.verify(stored, secret)
    store.close()  # checkpoints the WAL, so every byte is in the one file
    assert secret.encode() not in settings.db_path.read_bytes()
    assert _rows(settings, "SELECT action, actor FROM events") == [("user.add", LEAD)]


def test_production_hashes_are_argon2id_at_rfc_9106_cost() -> None:
    hasher = PRODUCTION_HASHER
    assert (hasher.type, hasher.time_cost, hasher.memory_cost) == (Type.ID, 3, 65536)
    assert hasher.hash("x" * 12).startswith("$argon2id$v=19$m=65536,t=3,p=4$")


@pytest.mark.parametrize(
    ("name", "role", "password", "error"),
    [
        ("Lee Chen", "lead", "too short", "at least 10 characters"),
        ("Lee Chen", "boss", "long enough password", "unknown role 'boss'"),
        ("", "lead", "long enough password", "user name ''"),
        ("<script>", "lead", "long enough password", "must be 1-64 letters"),
        ("x" * 65, "lead", "long enough password", "must be 1-64 letters"),
    ],
)
def test_names_roles_and_passwords_are_checked(
    store: Store, name: str, role: str, password: str, error: str
) -> None:
    with pytest.raises(InputError, match=re.escape(error)):
        auth.add_user(store, name, role, password)
    assert store.users() == []


def test_a_name_is_taken_whatever_its_case(store: Store) -> None:
    auth.add_user(store, LEAD, "lead", PASSWORD)
    with pytest.raises(Conflict, match="already exists"):
        auth.add_user(store, "lee chen", "admin", PASSWORD)
    assert [u.name for u in auth.users(store)] == [LEAD]


def test_authenticate(store: Store) -> None:
    auth.add_user(store, LEAD, "lead", PASSWORD)
    assert auth.authenticate(store, "lee  chen", PASSWORD).name == LEAD
    assert auth.authenticate(store, LEAD, PASSWORD + "!") is None
    assert auth.authenticate(store, "Nobody", PASSWORD) is None
    assert auth.authenticate(store, "", PASSWORD) is None
    assert auth.authenticate(store, LEAD, "x" * (auth.MAX_PASSWORD + 1)) is None
    auth.disable_user(store, LEAD)
    assert auth.authenticate(store, LEAD, PASSWORD) is None  # the right password, disabled
    auth.enable_user(store, LEAD)
    assert auth.authenticate(store, LEAD, PASSWORD) is not None
    actions = [r["action"] for r in store._all("SELECT action FROM events ORDER BY id")]
    assert actions.count("user.signin") == 2
    assert actions.count("user.signin_failed") == 5


def test_an_unknown_name_costs_a_password_check_too(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Timing is not asserted (no timed tests); what makes it even is that an unknown
    # name is verified against a real argon2 hash, as a known one is.
    checked: list[str] = []
    verify = auth._verify
    monkeypatch.setattr(
        auth, "_verify", lambda stored, pw: checked.append(stored) or verify(stored, pw)
    )
    auth.add_user(store, LEAD, "lead", PASSWORD)
    assert auth.authenticate(store, "Nobody", PASSWORD) is None
    assert auth.authenticate(store, LEAD, "wrong password") is None
    assert len(checked) == 2 and all(h.startswith("$argon2id$") for h in checked)


def test_an_old_hash_is_upgraded_at_sign_in(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    monkeypatch.setattr(auth, "HASHER", weak)
    auth.add_user(store, LEAD, "lead", PASSWORD)
    monkeypatch.setattr(auth, "HASHER", PasswordHasher())
    before = store.user(LEAD)["password_hash"]
    assert "m=8192,t=1,p=1" in before
    assert auth.authenticate(store, LEAD, PASSWORD) is not None
    after = store.user(LEAD)["password_hash"]
    assert after != before and not PasswordHasher().check_needs_rehash(after)
    assert auth.authenticate(store, LEAD, PASSWORD) is not None


def test_failed_sign_ins_are_throttled_per_name(store: Store) -> None:
    auth.add_user(store, LEAD, "lead", PASSWORD)
    auth.add_user(store, DANA, "seller", PASSWORD)
    for _ in range(auth.THROTTLE_FAILURES):
        assert auth.authenticate(store, LEAD, "wrong password") is None
    with pytest.raises(auth.Throttled, match="wait 15 minutes"):
        auth.authenticate(store, LEAD, PASSWORD)  # even the right password
    assert auth.authenticate(store, DANA, PASSWORD) is not None  # other names are not
    # Failures older than the window stop counting.
    store.db.execute("UPDATE events SET at = '2020-01-01T00:00:00Z'")
    assert auth.authenticate(store, LEAD, PASSWORD) is not None


# -- sessions ------------------------------------------------------------------------------


def test_a_session_is_stored_as_the_sha256_of_its_token(store: Store) -> None:
    user = auth.add_user(store, LEAD, "lead", PASSWORD)
    token, csrf = auth.start_session(store, user)
    assert len(token) >= 40 and len(csrf) >= 40 and token != csrf
    stored = store._all("SELECT * FROM sessions")
    assert [r["token_sha256"] for r in stored] == [hashlib.sha256(token.encode()).hexdigest()]
    session = auth.session_for(store, token)
    assert session.user.name == LEAD and session.csrf == csrf
    assert auth.session_for(store, stored[0]["token_sha256"]) is None  # the hash is no token
    assert auth.session_for(store, "") is None


def test_a_session_ends_when_it_expires_or_the_user_changes(store: Store) -> None:
    user = auth.add_user(store, LEAD, "lead", PASSWORD)
    expired, _ = auth.start_session(store, user)
    store.db.execute("UPDATE sessions SET expires = '2020-01-01T00:00:00Z'")
    assert auth.session_for(store, expired) is None
    assert store._all("SELECT * FROM sessions") == []  # and it is gone
    for end in (
        lambda _token: auth.disable_user(store, LEAD),
        lambda _token: auth.set_password(store, LEAD, "a brand new password"),
        lambda token: auth.end_session(store, token),  # signing out
    ):
        auth.enable_user(store, LEAD)
        token, _ = auth.start_session(store, user)
        assert auth.session_for(store, token) is not None
        end(token)
        assert auth.session_for(store, token) is None


# -- the rules -------------------------------------------------------------------------------


def test_who_may_do_what() -> None:
    seller = auth.User(1, DANA, auth.Role.SELLER, "")
    other = auth.User(2, SAM, auth.Role.SELLER, "")
    lead = auth.User(3, LEAD, auth.Role.LEAD, "")
    admin = auth.User(4, ADMIN, auth.Role.ADMIN, "")
    dana_deal, nobodys = {"owner_user_id": 1}, {"owner_user_id": None}
    assert auth.can_see_deal(seller, dana_deal) and auth.can_upload(seller, dana_deal)
    assert not auth.can_see_deal(other, dana_deal) and not auth.can_upload(other, dana_deal)
    assert not auth.can_see_deal(seller, nobodys)
    for user in (lead, admin):
        assert auth.can_see_deal(user, dana_deal) and auth.can_see_deal(user, nobodys)
        assert auth.can_upload(user, dana_deal) and auth.can_decide(user)
    assert not auth.can_decide(seller)
    assert [auth.can_manage_users(u) for u in (seller, lead, admin)] == [False, False, True]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("handover.example", False),
    ],
)
def test_which_hosts_are_loopback(host: str, loopback: bool) -> None:
    assert auth.is_loopback(host) is loopback


def test_serve_needs_an_enabled_admin_for_another_host(store: Store) -> None:
    auth.check_listen_host(store, "127.0.0.1")  # no user at all: fine on loopback
    auth.add_user(store, LEAD, "lead", PASSWORD)
    with pytest.raises(HandoverError, match="user add NAME --role admin"):
        auth.check_listen_host(store, "0.0.0.0")
    auth.add_user(store, ADMIN, "admin", PASSWORD)
    auth.check_listen_host(store, "0.0.0.0")
    auth.disable_user(store, ADMIN)
    with pytest.raises(HandoverError):
        auth.check_listen_host(store, "0.0.0.0")


def test_the_web_server_itself_refuses_another_host_without_an_admin(settings: Settings) -> None:
    from handover import web

    # Checked again where uvicorn is started, whoever calls it; nothing starts here.
    with pytest.raises(HandoverError, match="no admin exists yet"):
        web.serve(settings, host="0.0.0.0", port=9, worker_process=False)


# -- the CLI -------------------------------------------------------------------------------


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_user_commands(cli, monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    _stdin(monkeypatch, PASSWORD + "\n")
    added = cli("user", "add", LEAD, "--role", "lead", "--password-stdin")
    assert added.code == 0 and added.out.strip() == f"created lead {LEAD}"
    _stdin(monkeypatch, "short\n")
    short = cli("user", "add", DANA, "--role", "seller", "--password-stdin")
    assert short.code == 1
    assert short.err.strip() == "error: the password needs at least 10 characters"
    _stdin(monkeypatch, PASSWORD + "\n")
    assert cli("user", "add", DANA, "--role", "seller", "--password-stdin").code == 0
    listed = cli("user", "list", "--json")
    users = {u["name"]: u for u in json.loads(listed.out)["users"]}
    assert {n: u["role"] for n, u in users.items()} == {DANA: "seller", LEAD: "lead"}
    assert "password" not in listed.out and "argon2" not in listed.out
    _stdin(monkeypatch, "another long password\n")
    assert cli("user", "passwd", DANA, "--password-stdin").code == 0
    disabled = cli("user", "disable", DANA)
    assert disabled.code == 0 and "sessions ended" in disabled.out
    assert json.loads(cli("user", "list", "--json").out)["users"][0]["disabled_at"]
    unknown = cli("user", "disable", "Nobody")
    assert unknown.code == 1 and unknown.err.count("\n") == 1 and "user list" in unknown.err
    store = Store.open(home / "handover.db")
    try:
        assert auth.authenticate(store, DANA, "another long password") is None  # disabled
        auth.enable_user(store, DANA)
        assert auth.authenticate(store, DANA, "another long password").name == DANA
    finally:
        store.close()


def test_deal_add_with_a_seller_account(cli, monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    _stdin(monkeypatch, PASSWORD + "\n")
    cli("user", "add", DANA, "--role", "seller", "--password-stdin")
    _stdin(monkeypatch, PASSWORD + "\n")
    cli("user", "add", LEAD, "--role", "lead", "--password-stdin")
    deal = ["--name", "Acme", "--customer", "Acme", "--vendor", "Northwind"]
    assert cli("deal", "add", "acme", *deal, "--seller", "dana whitfield").code == 0
    not_a_seller = cli("deal", "add", "beta", *deal, "--seller", LEAD)
    assert not_a_seller.code == 1 and "a deal's owner is a seller account" in not_a_seller.err
    rows = _rows(Settings.load(home), "SELECT slug, owner, owner_user_id FROM deals")
    dana_id = _rows(Settings.load(home), "SELECT id FROM users WHERE name = ?", (DANA,))[0][0]
    assert rows == [("acme", DANA, dana_id)]


def test_serve_refuses_another_host_without_an_admin(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from handover import web

    started: list[str] = []
    monkeypatch.setattr(web, "serve", lambda settings, **kw: started.append(kw["host"]))
    refused = cli("serve", "--host", "0.0.0.0", "--no-worker")
    assert refused.code == 1 and started == []
    assert refused.err.strip() == (
        "error: refusing to listen on 0.0.0.0: other machines could reach the app and no admin "
        "exists yet; create one with `handover user add NAME --role admin`, or keep the "
        "default --host 127.0.0.1"
    )
    assert cli("serve", "--no-worker").code == 0 and started == ["127.0.0.1"]
    _stdin(monkeypatch, PASSWORD + "\n")
    cli("user", "add", ADMIN, "--role", "admin", "--password-stdin")
    assert cli("serve", "--host", "0.0.0.0", "--no-worker").code == 0
    assert started == ["127.0.0.1", "0.0.0.0"]


# -- the web app: signing in ---------------------------------------------------------------


def _sign_in(client: TestClient, name: str, password: str = PASSWORD, next: str = "/"):
    """Sign in through the form as a browser does: its page, its token, its post."""
    form = client.get("/signin", params={"next": next}, headers=HTML)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    return client.post(
        "/signin",
        data={"name": name, "password": password, "next": next, "csrf": token},
        headers={**HTML, "Origin": "http://testserver"},
        follow_redirects=False,
    )


@pytest.fixture
def web(settings: Settings, store: Store) -> TestClient:
    for name, role in ((LEAD, "lead"), (DANA, "seller"), (SAM, "seller"), (ADMIN, "admin")):
        auth.add_user(store, name, role, PASSWORD)
    return TestClient(create_app(settings))


def test_the_sign_in_page_says_how_to_create_the_first_user(settings: Settings) -> None:
    page = TestClient(create_app(settings)).get("/signin")
    assert page.status_code == 200
    assert "handover user add NAME --role admin" in page.text


def test_sign_in_sets_an_httponly_samesite_cookie(web: TestClient, settings: Settings) -> None:
    assert "handover user add" not in web.get("/signin").text  # users exist
    answer = _sign_in(web, LEAD)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if SESSION_COOKIE in c)
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= flags
    assert "secure" not in flags  # plain http on loopback
    page = web.get("/")
    assert page.status_code == 200 and f'{LEAD} <span class="role">lead</span>' in page.text
    secure = TestClient(create_app(settings), base_url="https://testserver")
    answer = _sign_in(secure, LEAD)
    cookie = next(c for c in answer.headers.get_list("set-cookie") if SESSION_COOKIE in c)
    assert "secure" in cookie.lower()


def test_a_wrong_password_is_refused_and_repeated_failures_throttled(web: TestClient) -> None:
    wrong = _sign_in(web, LEAD, "not the password")
    assert wrong.status_code == 401 and "wrong name or password" in wrong.text
    assert SESSION_COOKIE not in web.cookies
    unknown = _sign_in(web, "Nobody At All")
    assert unknown.status_code == 401 and unknown.text.count("wrong name or password") == 1
    for _ in range(auth.THROTTLE_FAILURES - 1):
        _sign_in(web, LEAD, "not the password")
    throttled = _sign_in(web, LEAD)
    assert throttled.status_code == 429 and "too many failed sign-ins" in throttled.text


def test_a_browser_is_sent_to_sign_in_and_back(web: TestClient) -> None:
    away = web.get("/deals/acme/checklist?status=conflict", headers=HTML, follow_redirects=False)
    assert away.status_code == 303
    assert (
        away.headers["location"] == "/signin?next=%2Fdeals%2Facme%2Fchecklist%3Fstatus%3Dconflict"
    )
    back = _sign_in(web, LEAD, next="/deals/acme/checklist?status=conflict")
    assert back.headers["location"] == "/deals/acme/checklist?status=conflict"
    # Signed in already: the sign-in page sends the browser on.
    assert web.get("/signin", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/signin?next=//evil.example",
        "/deals\r\nLocation: https://evil.example",
    ],
)
def test_after_sign_in_a_browser_never_leaves_the_site(web: TestClient, target: str) -> None:
    assert _safe_next(target) == "/"
    assert _sign_in(web, LEAD, next=target).headers["location"] == "/"


def test_sign_out_ends_the_session_on_the_server(web: TestClient, settings: Settings) -> None:
    _sign_in(web, LEAD)
    token = web.cookies[SESSION_COOKIE]
    page = web.get("/")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    out = web.post("/signout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/signin"
    assert _rows(settings, "SELECT count(*) FROM sessions") == [(0,)]
    # The old cookie, kept by someone who copied it, no longer works.
    stolen = TestClient(create_app(settings))
    stolen.cookies.set(SESSION_COOKIE, token)
    assert stolen.get("/").status_code == 401
    assert stolen.get("/", headers=HTML, follow_redirects=False).status_code == 303


def test_a_disabled_user_is_signed_out_at_once(web: TestClient, store: Store) -> None:
    _sign_in(web, DANA)
    assert web.get("/").status_code == 200
    auth.disable_user(store, DANA)
    assert web.get("/").status_code == 401


# -- the web app: every route needs a session --------------------------------------------

PUBLIC = {("GET", "/signin"), ("POST", "/signin"), ("GET", "/healthz")}
_SAMPLE = {
    "slug": "acme",
    "source_id": "1",
    "item_id": "c-0123456789",
    "fmt": "json",
    "user_id": "1",
}


def test_every_route_but_sign_in_and_health_needs_a_session(
    web: TestClient, settings: Settings
) -> None:
    with session_client(settings, LEAD) as lead:  # a real deal, so no 404 could pass
        lead.post("/deals", data={"slug": "acme", "name": "A", "customer": "C", "vendor": "V"})
        lead.post("/deals/acme/sources", params={"name": "c.vtt"}, content=CALL_VTT.encode())
    app = web.app
    public = [r for r in app.routes if isinstance(r, APIRoute)]
    assert {(m, r.path) for r in public for m in r.methods} == PUBLIC
    # Besides those: the static files and the private router, nothing else.
    assert len(app.routes) == len(public) + 2
    routes = app.state.private.routes
    checked = set()
    for route in routes:
        path = route.path
        for key, value in _SAMPLE.items():
            path = path.replace("{" + key + "}", value)
        for method in sorted(route.methods):
            if (method, route.path) in PUBLIC:
                continue
            answer = web.request(method, path, params={"name": "x.vtt"}, data=None)
            assert answer.status_code == 401, (method, route.path, answer.status_code)
            assert answer.json() == {"error": "sign in first: open /signin"}
            if method == "GET":
                browser = web.get(path, headers=HTML, follow_redirects=False)
                assert browser.status_code == 303, route.path
                assert browser.headers["location"].startswith("/signin?next=%2F")
            checked.add((method, route.path))
    assert len(checked) >= 20  # the walk saw the app's routes, not an empty list
    assert checked == {(m, r.path) for r in routes for m in r.methods}
    assert web.get("/healthz").json()["ok"] is True
    assert web.get("/static/app.js").status_code == 200
    assert _rows(settings, "SELECT count(*) FROM sources") == [(1,)]  # nothing got through


# -- the web app: CSRF ----------------------------------------------------------------------


def _manual_item(client: TestClient, slug: str, text: str = "We will host the kickoff") -> str:
    added = client.post(
        f"/deals/{slug}/items", data={"kind": "commitment", "text": text}, headers=JSON
    )
    assert added.status_code == 200, added.text
    return added.json()["item_id"]


@pytest.mark.parametrize("sent", [None, "forged-token-of-the-right-length-000000000000", ""])
def test_a_missing_or_forged_csrf_token_is_refused(settings: Settings, sent: str | None) -> None:
    lead = session_client(settings, LEAD)
    lead.post("/deals", data={"slug": "acme", "name": "A", "customer": "C", "vendor": "V"})
    item = _manual_item(lead, "acme")
    before = _rows(
        settings,
        "SELECT (SELECT count(*) FROM deals), (SELECT count(*) FROM sources),"
        " (SELECT count(*) FROM decisions), (SELECT count(*) FROM participants)",
    )
    del lead.headers[CSRF_HEADER]
    headers = {**JSON, **({CSRF_HEADER: sent} if sent is not None else {})}
    form = {"csrf": sent} if sent is not None else {}
    attempts = [
        lead.post(
            f"/deals/acme/items/{item}/decisions",
            data={"decision": "confirmed", **form},
            headers=headers,
        ),
        lead.post(
            "/deals/acme/sources",
            params={"name": "c.vtt"},
            content=CALL_VTT.encode(),
            headers=headers,
        ),
        lead.post(
            "/deals",
            data={"slug": "evil", "name": "A", "customer": "C", "vendor": "V", **form},
            headers=headers,
        ),
        lead.post("/deals/acme/people", data={"vendor": "Mallory", **form}, headers=headers),
        lead.post("/signout", data=form, headers=headers),
    ]
    for answer in attempts:
        assert answer.status_code == 403, answer.request.url
        assert "security token" in answer.json()["error"]
    after = _rows(
        settings,
        "SELECT (SELECT count(*) FROM deals), (SELECT count(*) FROM sources),"
        " (SELECT count(*) FROM decisions), (SELECT count(*) FROM participants)",
    )
    assert after == before
    assert lead.get("/").status_code == 200  # still signed in: the sign-out was refused too


def test_a_token_from_another_session_is_refused(settings: Settings) -> None:
    mine, theirs = session_client(settings, LEAD), session_client(settings, ADMIN, "admin")
    mine.headers[CSRF_HEADER] = theirs.headers[CSRF_HEADER]
    refused = mine.post(
        "/deals", data={"slug": "acme", "name": "A", "customer": "C", "vendor": "V"}, headers=JSON
    )
    assert refused.status_code == 403


def test_the_sign_in_form_has_its_own_token(web: TestClient, settings: Settings) -> None:
    # A page elsewhere cannot sign a browser into an account of its choosing.
    forged = web.post(
        "/signin",
        data={"name": LEAD, "password": PASSWORD, "csrf": "forged"},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert forged.status_code == 403 and SESSION_COOKIE not in web.cookies
    foreign = web.post(
        "/signin",
        data={"name": LEAD, "password": PASSWORD},
        headers={"Origin": "http://evil.example"},
    )
    assert foreign.status_code == 403
    # A script (no Origin, no Referer) signs in and gets its token as JSON.
    script = web.post("/signin", data={"name": LEAD, "password": PASSWORD}, headers=JSON)
    assert script.status_code == 200 and script.json()["user"] == LEAD
    assert len(script.json()["csrf"]) >= 40
    # Signing in again from the same client ends its previous session.
    again = web.post("/signin", data={"name": ADMIN, "password": PASSWORD}, headers=JSON)
    assert again.json()["user"] == ADMIN
    assert _rows(settings, "SELECT u.name FROM sessions JOIN users u ON u.id = user_id") == [
        (ADMIN,)
    ]


# -- the web app: roles ---------------------------------------------------------------------


def _new_deal(client: TestClient, slug: str, **extra: str) -> None:
    made = client.post(
        "/deals",
        data={"slug": slug, "name": f"Deal {slug}", "customer": "C", "vendor": "V", **extra},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text


def test_a_seller_sees_only_their_own_deals(settings: Settings) -> None:
    dana, sam = session_client(settings, DANA, "seller"), session_client(settings, SAM, "seller")
    lead = session_client(settings, LEAD)
    _new_deal(dana, "dana-deal")
    _new_deal(sam, "sam-deal")
    _new_deal(lead, "lead-deal")
    _new_deal(lead, "for-dana", seller=DANA)
    source = dana.post(
        "/deals/dana-deal/sources", params={"name": "c.vtt"}, content=CALL_VTT.encode()
    ).json()["source"]["id"]
    owners = dict(
        _rows(
            settings,
            "SELECT d.slug, u.name FROM deals d LEFT JOIN users u ON u.id = d.owner_user_id",
        )
    )
    assert owners == {"dana-deal": DANA, "sam-deal": SAM, "lead-deal": None, "for-dana": DANA}

    def listed(client: TestClient) -> list[str]:
        return re.findall(r'<tr data-deal="([^"]+)"', client.get("/").text)

    assert listed(dana) == ["dana-deal", "for-dana"]
    assert listed(sam) == ["sam-deal"]
    assert listed(lead) == ["dana-deal", "for-dana", "lead-deal", "sam-deal"]

    unknown = sam.get("/deals/no-such-deal/sources.json").json()["error"]
    gets = [
        "",
        "/checklist",
        "/checklist.html",
        "/checklist.md",
        "/checklist.csv",
        "/checklist.json",
        "/sources.json",
        f"/sources/{source}",
        f"/sources/{source}/original",
        "/search?q=weekly",
    ]
    for tail in gets:
        assert dana.get(f"/deals/dana-deal{tail}").status_code == 200, tail
        hidden = sam.get(f"/deals/dana-deal{tail}", headers=JSON)
        assert hidden.status_code == 404, tail
        # Worded exactly as for a deal that does not exist: existence is not revealed.
        assert hidden.json()["error"] == unknown.replace("no-such-deal", "dana-deal")
    posts = [
        ("/sources", {"params": {"name": "x.md"}, "content": b"# Notes\n\nWe will.\n"}),
        ("/people", {"data": {"vendor": "Sam"}}),
        (f"/sources/{source}/retry", {}),
        (f"/sources/{source}/sides", {"data": {"from": "0:00", "to": "0:05", "side": "vendor"}}),
        ("/items", {"data": {"kind": "commitment", "text": "We will"}}),
    ]
    for tail, kwargs in posts:
        assert sam.post(f"/deals/dana-deal{tail}", headers=JSON, **kwargs).status_code == 404
    assert _rows(settings, "SELECT count(*) FROM sources") == [(1,)]
    assert _rows(settings, "SELECT count(*) FROM participants") == [(0,)]


def test_a_seller_cannot_decide_nor_add_items(settings: Settings) -> None:
    dana, lead = session_client(settings, DANA, "seller"), session_client(settings, LEAD)
    _new_deal(dana, "dana-deal")
    item = _manual_item(lead, "dana-deal")
    for decision in ("confirmed", "accepted-gap", "not-a-commitment", "linked"):
        refused = dana.post(
            f"/deals/dana-deal/items/{item}/decisions",
            data={"decision": decision, "clause_id": "1"},
            headers=JSON,
        )
        assert refused.status_code == 403 and "delivery lead" in refused.json()["error"]
    added = dana.post(
        "/deals/dana-deal/items", data={"kind": "commitment", "text": "We will"}, headers=JSON
    )
    assert added.status_code == 403
    assert _rows(settings, "SELECT count(*) FROM decisions") == [(0,)]
    assert _rows(settings, "SELECT count(*) FROM items") == [(1,)]
    page = dana.get("/deals/dana-deal/checklist").text
    assert 'class="decide"' not in page and "Add a missed item" not in page
    assert 'class="decide"' in lead.get("/deals/dana-deal/checklist").text
    # The seller does what a seller does on their deal.
    people = dana.post("/deals/dana-deal/people", data={"vendor": DANA}, headers=JSON)
    assert people.status_code == 200


def test_a_lead_decides_on_any_deal_as_the_signed_in_user(settings: Settings) -> None:
    dana, sam = session_client(settings, DANA, "seller"), session_client(settings, SAM, "seller")
    _new_deal(dana, "dana-deal")
    _new_deal(sam, "sam-deal")
    users = {}
    for name, role in ((LEAD, "lead"), (ADMIN, "admin")):
        client = session_client(settings, name, role)
        users[name] = _rows(settings, "SELECT id FROM users WHERE name = ?", (name,))[0][0]
        for slug in ("dana-deal", "sam-deal"):
            item = _manual_item(client, slug, f"We will send {name} the plan")
            decided = client.post(
                f"/deals/{slug}/items/{item}/decisions",
                data={"decision": "accepted-gap", "by": "Mallory", "note": "agreed"},
                headers=JSON,
            )
            assert decided.status_code == 200, decided.text
            assert decided.json()["item"]["decision"]["by"] == name
    rows = _rows(
        settings,
        "SELECT d.slug, by, user_id FROM decisions JOIN deals d "
        "ON d.id = deal_id ORDER BY decisions.id",
    )
    assert rows == [
        ("dana-deal", LEAD, users[LEAD]),
        ("sam-deal", LEAD, users[LEAD]),
        ("dana-deal", ADMIN, users[ADMIN]),
        ("sam-deal", ADMIN, users[ADMIN]),
    ]
    # The seller sees who decided on their deal.
    assert LEAD in dana.get("/deals/dana-deal/checklist").text


def test_the_cli_operator_still_decides_with_by(settings: Settings, cli, home: Path) -> None:
    lead = session_client(settings, LEAD)
    _new_deal(lead, "acme")
    item = _manual_item(lead, "acme")
    ran = cli("review", "acme", item, "--decision", "confirmed", "--by", "Operator On Box")
    assert ran.code == 0
    assert _rows(settings, "SELECT by, user_id FROM decisions") == [("Operator On Box", None)]


def test_unknown_things_stay_errors_not_leaks(settings: Settings, store: Store) -> None:
    with pytest.raises(NotFound, match="user list"):
        auth.get_user(store, "Nobody")
    auth.add_user(store, LEAD, "lead", PASSWORD)
    with pytest.raises(InputError, match="is a lead"):
        auth.seller_account(store, LEAD)


# -- the web app: accounts -----------------------------------------------------------------


def test_an_admin_manages_accounts_on_the_web(settings: Settings) -> None:
    admin = session_client(settings, ADMIN, "admin")
    assert 'href="/users"' in admin.get("/").text
    added = admin.post("/users", data={"name": SAM, "role": "seller", "password": PASSWORD})
    assert added.status_code == 200 and SAM in added.text  # redirected to the list
    short = admin.post("/users", data={"name": "Kim", "role": "lead", "password": "short"})
    assert short.status_code == 400 and "at least 10 characters" in short.text
    sam = session_client(settings, SAM, "seller")
    assert sam.get("/").status_code == 200
    sam_id = _rows(settings, "SELECT id FROM users WHERE name = ?", (SAM,))[0][0]
    off = admin.post(f"/users/{sam_id}/disabled", data={"disabled": "true"}, headers=JSON)
    assert off.json() == {"user": SAM, "state": "disabled", "message": f"disabled {SAM}"}
    assert sam.get("/").status_code == 401  # signed out at once
    on = admin.post(f"/users/{sam_id}/disabled", data={"disabled": "false"}, headers=JSON)
    assert on.json()["state"] == "enabled"
    admin_id = _rows(settings, "SELECT id FROM users WHERE name = ?", (ADMIN,))[0][0]
    own = admin.post(f"/users/{admin_id}/disabled", data={"disabled": "true"}, headers=JSON)
    assert own.status_code == 400 and "your own account" in own.json()["error"]


def test_only_an_admin_manages_accounts(settings: Settings) -> None:
    for name, role in ((LEAD, "lead"), (DANA, "seller")):
        client = session_client(settings, name, role)
        assert 'href="/users"' not in client.get("/").text
        assert client.get("/users", headers=JSON).status_code == 403
        made = client.post(
            "/users", data={"name": "Eve", "role": "admin", "password": PASSWORD}, headers=JSON
        )
        assert made.status_code == 403 and "only an admin" in made.json()["error"]
        me = _rows(settings, "SELECT id FROM users WHERE name = ?", (name,))[0][0]
        assert client.post(f"/users/{me}/disabled", data={"disabled": "true"}).status_code == 403
    assert _rows(settings, "SELECT name FROM users ORDER BY name") == [(DANA,), (LEAD,)]

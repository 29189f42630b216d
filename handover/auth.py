"""Who may do what: user accounts, passwords, sign-in sessions and the permission rules.

A library with no web imports: the CLI manages accounts with it, the web app signs
people in and asks it every question of the form "may this user do that". The rules
live here and nowhere else:

* ``seller``: creates deals, uploads to them and sees only the deals they own
  (``deals.owner_user_id``).
* ``lead``: sees every deal and decides on its items.
* ``admin``: everything a lead does, and manages users.

Passwords are hashed with argon2id (argon2-cffi); the password itself is never stored.
A session cookie holds a random token and the database only its sha256, so a copy of
the database signs nobody in.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from handover.errors import HandoverError, InputError, NotFound
from handover.store import Row, Store, now


class Role(StrEnum):
    SELLER = "seller"
    LEAD = "lead"
    ADMIN = "admin"


class SignInRequired(HandoverError):
    """No session, or one that ended (HTTP 401, or the sign-in page for a browser)."""


class Forbidden(HandoverError):
    """Signed in, but the role does not allow this (HTTP 403)."""


class Throttled(HandoverError):
    """Too many failed sign-ins for one name (HTTP 429)."""


SESSION_HOURS = 12
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; this only stops absurd form posts
THROTTLE_FAILURES = 10
THROTTLE_MINUTES = 15
_NAME = re.compile(r"^\w[\w .'@-]{0,63}$")

# RFC 9106's low-memory profile (argon2-cffi's default): about 0.1 s and 64 MiB a hash.
HASHER = PasswordHasher()


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    created: str
    disabled_at: str | None = None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


@dataclass(frozen=True)
class Session:
    """A signed-in browser: who it is and the token its forms must send back."""

    user: User
    csrf: str
    expires: str


# -- accounts ---------------------------------------------------------------------------


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InputError(f"unknown role {value!r}; use one of: {names}") from None


def add_user(store: Store, name: str, role: str, password: str) -> User:
    """Create an account; the name is what decisions show as "by"."""
    name = _check_name(name)
    chosen = parse_role(role)
    _check_password(password)
    row = store.add_user(name, str(chosen), HASHER.hash(password))
    store.add_event(None, "user.add", name, {"role": str(chosen)})
    return _user(row)


def set_password(store: Store, name: str, password: str) -> User:
    """A new password; the user's sessions end, so a stolen cookie stops working."""
    user = get_user(store, name)
    _check_password(password)
    store.set_password_hash(user.id, HASHER.hash(password))
    store.end_sessions(user_id=user.id)
    store.add_event(None, "user.passwd", user.name, {})
    return user


def disable_user(store: Store, name: str) -> User:
    """Stop an account signing in and end its sessions. Kept, not deleted: decisions
    and deals still point at it."""
    user = get_user(store, name)
    store.set_user_disabled(user.id, user.disabled_at or now())
    store.end_sessions(user_id=user.id)
    store.add_event(None, "user.disable", user.name, {})
    return get_user(store, name)


def enable_user(store: Store, name: str) -> User:
    user = get_user(store, name)
    store.set_user_disabled(user.id, None)
    store.add_event(None, "user.enable", user.name, {})
    return get_user(store, name)


def get_user(store: Store, name: str) -> User:
    row = store.user(" ".join(name.split()))
    if row is None:
        raise NotFound(f"no user {name!r}; see `handover user list`")
    return _user(row)


def seller_account(store: Store, name: str) -> User:
    """The enabled seller account that is to own a deal."""
    user = get_user(store, name)
    if user.role != Role.SELLER:
        raise InputError(f"{user.name} is a {user.role}; a deal's owner is a seller account")
    if user.disabled:
        raise InputError(f"{user.name} is disabled; enable the account or pick another seller")
    return user


def users(store: Store) -> list[User]:
    return [_user(row) for row in store.users()]


def has_admin(store: Store) -> bool:
    return store.enabled_admins() > 0


# -- signing in -------------------------------------------------------------------------


def authenticate(
    store: Store, name: str, password: str, *, origin: str | None = None
) -> User | None:
    """The user these credentials belong to, or None.

    None for every failure (unknown name, wrong password, disabled account), and an
    unknown name is verified against a dummy hash, so neither the answer nor its timing
    tells which names exist. Each attempt is an event; after ``THROTTLE_FAILURES``
    failures for a name within ``THROTTLE_MINUTES`` the name is refused with Throttled,
    without looking at the password."""
    name = " ".join(name.split())[:64]
    detail = {"from": origin} if origin else {}
    since = _stamp(datetime.now(UTC) - timedelta(minutes=THROTTLE_MINUTES))
    if store.count_events("user.signin_failed", name, since) >= THROTTLE_FAILURES:
        store.add_event(None, "user.signin_throttled", name, detail)
        raise Throttled(
            f"too many failed sign-ins for {name!r}; wait {THROTTLE_MINUTES} minutes, or ask "
            "an admin for a new password (`handover user passwd NAME`)"
        )
    row = store.user(name) if name else None
    stored = row["password_hash"] if row else _dummy_hash()
    # An over-long password is checked as "" (always wrong) so the work stays the same.
    ok = _verify(stored, password if len(password) <= MAX_PASSWORD else "")
    if row is None or not ok or row["disabled_at"] is not None:
        store.add_event(None, "user.signin_failed", name, detail)
        return None
    if HASHER.check_needs_rehash(stored):
        # The hashing parameters were raised since this password was set.
        store.set_password_hash(row["id"], HASHER.hash(password))
    store.add_event(None, "user.signin", row["name"], detail)
    return _user(row)


def start_session(store: Store, user: User) -> tuple[str, str]:
    """A new session for ``user``: (the cookie's token, the CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = _stamp(datetime.now(UTC) + timedelta(hours=SESSION_HOURS))
    store.add_session(_token_sha256(token), user.id, csrf, expires)
    return token, csrf


def session_for(store: Store, token: str) -> Session | None:
    """The live session a cookie's token names; None when it is unknown, expired, or
    its user is disabled."""
    if not token or len(token) > 200:
        return None
    digest = _token_sha256(token)
    row = store.session(digest)
    if row is None:
        return None
    if row["expires"] <= now() or row["disabled_at"] is not None:
        store.end_sessions(token_sha256=digest)
        return None
    user = User(row["user_id"], row["name"], Role(row["role"]), row["user_created"])
    return Session(user=user, csrf=row["csrf"], expires=row["expires"])


def end_session(store: Store, token: str) -> None:
    session = session_for(store, token)
    store.end_sessions(token_sha256=_token_sha256(token))
    if session is not None:
        store.add_event(None, "user.signout", session.user.name, {})


# -- what a user may do -----------------------------------------------------------------


def can_see_deal(user: User, deal: Row) -> bool:
    """Sellers see the deals they own; leads and admins see all."""
    if user.role == Role.SELLER:
        return deal.get("owner_user_id") == user.id
    return True


def can_upload(user: User, deal: Row) -> bool:
    """Add files, set participants and sides, retry: the owning seller, leads, admins."""
    return can_see_deal(user, deal)


def can_decide(user: User) -> bool:
    """Review decisions, hand-added items and links to clauses."""
    return user.role in (Role.LEAD, Role.ADMIN)


def can_manage_users(user: User) -> bool:
    return user.role == Role.ADMIN


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise Forbidden(message)


# -- where the web app may listen -------------------------------------------------------


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[] ")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def check_listen_host(store: Store, host: str) -> None:
    """Other machines may reach the app only once someone can administer it."""
    if is_loopback(host) or has_admin(store):
        return
    raise HandoverError(
        f"refusing to listen on {host}: other machines could reach the app and no admin "
        "exists yet; create one with `handover user add NAME --role admin`, or keep the "
        "default --host 127.0.0.1"
    )


# -- helpers ----------------------------------------------------------------------------


def _check_name(name: str) -> str:
    name = " ".join(name.split())
    if not _NAME.match(name):
        raise InputError(
            f"user name {name!r} must be 1-64 letters, digits, spaces or . ' @ - _ "
            "(e.g. Lee Chen), starting with a letter or digit"
        )
    return name


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InputError(f"the password may have at most {MAX_PASSWORD} characters")


def _verify(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return HASHER.hash(secrets.token_urlsafe(16))


def _token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _stamp(moment: datetime) -> str:
    # The same shape as store.now(), so stamps compare as strings.
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _user(row: Row) -> User:
    return User(row["id"], row["name"], Role(row["role"]), row["created"], row["disabled_at"])

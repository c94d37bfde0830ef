"""Stage service: who may use the desk, and refusing requests another site makes a browser send.

Tokens come from the `--token-file` (one a line, ``TOKEN`` or ``TOKEN admin``;
``#`` starts a comment). The file is read again when it changes, so a token
is rotated by editing the file, without a restart. A request proves a token
with ``Authorization: Bearer TOKEN`` (the API) or with the session cookie the
desk page's sign-in sets: an HMAC of the token, HttpOnly and SameSite=Strict,
so the token itself is never stored in the browser and rotating it ends every
session made with it. Every comparison is constant-time (`hmac.compare_digest`)::

    >>> tokens = TokenFile(Path("/etc/provenance/tokens"))
    >>> tokens.match("Bearer s3cr3t...")        # -> Token or None

A state-changing request (POST, DELETE) from a browser must come from the
desk's own origin (`Sec-Fetch-Site`, else `Origin`, must agree with `Host`);
a page request signed in by cookie also carries the page's CSRF token in a
header, which another site cannot read. A server with no token answers only
requests addressed to a loopback name or an `--allow-host`, which closes DNS
rebinding (another site's name pointed at 127.0.0.1).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInputError

#: Shortest token accepted, characters (`secrets.token_urlsafe(32)` gives 43).
MIN_TOKEN_CHARS = 16
#: Largest token file read, bytes.
MAX_TOKEN_FILE_BYTES = 64 << 10
#: The desk page's session cookie.
COOKIE = "provenance_session"
#: The header a signed-in page sends its CSRF token in.
CSRF_HEADER = "x-csrf-token"
#: Methods that change something, refused from another site.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The roles a token file line may give; a line without one is a desk token.
ROLES = ("desk", "admin")


@dataclass(frozen=True)
class Token:
    """One token: its secret and whether it may also delete (references, checks)."""

    secret: str
    admin: bool = False

    def derived(self, purpose: str) -> str:
        """An HMAC of the token for `purpose` (the session cookie, the CSRF token): it does not give the token away."""
        return hmac.new(self.secret.encode(), f"provenance desk {purpose}".encode(), hashlib.sha256).hexdigest()


def read_tokens(path: Path) -> tuple[Token, ...]:
    """The tokens of a token file.

    Raises:
        BadInputError: missing, unreadable, too large, empty, a token too short or a role unknown.
    """
    try:
        if not path.is_file():
            raise BadInputError(f"--token-file {path}: not a file; give a file with one token per line")
        if path.stat().st_size > MAX_TOKEN_FILE_BYTES:
            raise BadInputError(f"--token-file {path}: larger than {MAX_TOKEN_FILE_BYTES} bytes; give a token file")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInputError(f"--token-file {path}: cannot be read ({exc.strerror}); check its permissions") from exc
    except UnicodeDecodeError as exc:
        raise BadInputError(f"--token-file {path}: not UTF-8 text; give one token per line") from exc
    tokens = []
    for n, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1] not in ROLES):
            raise BadInputError(f"--token-file {path}, line {n}: write TOKEN or TOKEN admin")
        if len(words[0]) < MIN_TOKEN_CHARS:
            raise BadInputError(
                f"--token-file {path}, line {n}: a token needs {MIN_TOKEN_CHARS} characters or more; "
                "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        tokens.append(Token(words[0], admin=len(words) == 2 and words[1] == "admin"))
    if not tokens:
        raise BadInputError(f"--token-file {path}: no token in it; write one token per line")
    return tuple(tokens)


class TokenFile:
    """The tokens of a file, read again when its modification time or size changes.

    A file that becomes unreadable or empty keeps the last good tokens (and
    the change is logged by the caller's next `problem`), so a half-written
    edit never opens the desk or locks everyone out.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._tokens = read_tokens(path)
        self.problem: str | None = None

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def tokens(self) -> tuple[Token, ...]:
        stamp = self._stat()
        with self._lock:
            if stamp is not None and stamp != self._stamp:
                try:
                    self._tokens = read_tokens(self.path)
                    self.problem = None
                except BadInputError as exc:
                    self.problem = str(exc)
                self._stamp = stamp
            return self._tokens

    def bearer(self, header: str | None) -> Token | None:
        """The token an ``Authorization: Bearer TOKEN`` header proves, or None."""
        if not header or not header[:7].lower() == "bearer ":
            return None
        return _find(self.tokens(), header[7:].strip(), lambda t: t.secret)

    def session(self, cookie: str | None) -> Token | None:
        """The token a session cookie was made from, or None."""
        if not cookie:
            return None
        return _find(self.tokens(), cookie, lambda t: t.derived("session"))

    def given(self, secret: str) -> Token | None:
        """The token typed into the sign-in form, or None."""
        return _find(self.tokens(), secret.strip(), lambda t: t.secret)


def _find(tokens: tuple[Token, ...], given: str, of: object) -> Token | None:
    """The token whose value (`of`) equals `given`, comparing with every token in constant time."""
    found = None
    given_b = given.encode("utf-8", "replace")
    for token in tokens:
        value = of(token)  # type: ignore[operator]
        if hmac.compare_digest(value.encode("utf-8"), given_b):
            found = token
    return found


def host_name(host_header: str) -> str:
    """The name in a Host header, without its port (``[::1]:8080`` -> ``::1``)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def cross_site(method: str, headers: dict[str, str]) -> str | None:
    """Why a state-changing request looks sent by another site's page, or None when it does not.

    Browsers send ``Sec-Fetch-Site`` (all current ones) and ``Origin`` on a
    cross-origin POST; curl and scripts send neither and pass.
    """
    if method.upper() not in UNSAFE_METHODS:
        return None
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return f"a {method} from another site ({site}) is refused; use the desk page itself or the API"
    origin = headers.get("origin")
    if origin is not None and origin != "null":
        origin_host = origin.split("://", 1)[-1].rstrip("/").lower()
        if origin_host != headers.get("host", "").lower():
            return f"a {method} from the page of {origin[:200]} is refused; use the desk page itself or the API"
    elif origin == "null":
        return f"a {method} from an opaque origin is refused; use the desk page itself or the API"
    return None

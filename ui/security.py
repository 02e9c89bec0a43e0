"""Who may use the chat, and what an upload may be called: login pairs, exposure, file names."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from pathlib import Path

from seedqa.errors import SeedqaError
from seedqa.settings import Settings

EXPOSED_WARNING = (
    "WARNING: seedqa chat is listening on {host}, which other machines can reach, and has no "
    "login: anyone who can reach this port can read every indexed document and add or remove "
    "documents. Set SEEDQA_AUTH=\"user:password\" (or SEEDQA_AUTH_FILE) or listen on 127.0.0.1."
)


def login_pairs(settings: Settings) -> list[tuple[str, str]]:
    """(user, password) pairs from SEEDQA_AUTH ("u:p,u2:p2") and SEEDQA_AUTH_FILE (a pair a line)."""
    entries: list[tuple[str, str]] = []
    if settings.auth:
        entries += [("SEEDQA_AUTH", item) for item in settings.auth.split(",") if item.strip()]
    if settings.auth_file:
        try:
            lines = Path(settings.auth_file).read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise SeedqaError(f"Cannot read SEEDQA_AUTH_FILE {settings.auth_file}: "
                              f"{error.strerror}; fix the path or its permissions.") from error
        entries += [(str(settings.auth_file), line) for line in lines
                    if line.strip() and not line.lstrip().startswith("#")]
    pairs = []
    for origin, entry in entries:
        user, sep, password = entry.strip().partition(":")
        if not sep or not user or not password:
            raise SeedqaError(f"{origin}: each login must be user:password (got {user or '?'}:…); "
                              "fix it or unset it.")
        pairs.append((user, password))
    return pairs


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: assume others can reach it


def exposure_warning(host: str, has_login: bool) -> str | None:
    """The loud warning for a chat reachable from other machines without a login, else None."""
    if has_login or is_loopback(host):
        return None
    return EXPOSED_WARNING.format(host=host or "all interfaces")


_UNSAFE = re.compile(r"[^\w.-]+")


def upload_name(original: str, suffix: str) -> str:
    """The name an upload is stored under, built by us from the one the browser sent.

    Only letters, digits, `.`, `_` and `-` survive (in NFKC form); no folder
    part, no leading dot (hidden files), at most 80 characters, and the
    extension we checked. It stays readable, so the documents list shows it;
    uploading a changed file under the same name replaces its earlier version.
    """
    stem = Path(original.replace("\\", "/")).name
    stem = stem[: -len(suffix)] if suffix and stem.lower().endswith(suffix.lower()) else stem
    stem = unicodedata.normalize("NFKC", stem)
    stem = _UNSAFE.sub("_", stem).strip("._-")[:80] or "upload"
    return f"{stem}{suffix.lower()}"

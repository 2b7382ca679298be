"""Master keys as configured: ``keyid:base64url-key`` entries, from a string or a file."""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from referral.security.crypto.errors import KeyConfigurationError

log = logging.getLogger(__name__)

KEY_SIZE: Final = 32
MAX_KEY_ID_LENGTH: Final = 64
_KEY_ID_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_key_id(key_id: str) -> None:
    if not _KEY_ID_RE.fullmatch(key_id):
        raise KeyConfigurationError(
            f"invalid key id {key_id!r}: use 1-{MAX_KEY_ID_LENGTH} characters "
            "from A-Z a-z 0-9 . _ - starting with a letter or digit"
        )


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One named 256-bit key. The key bytes never appear in ``repr``."""

    key_id: str
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        check_key_id(self.key_id)
        if len(self.key) != KEY_SIZE:
            raise KeyConfigurationError(
                f"key {self.key_id!r}: a key must be exactly {KEY_SIZE} bytes, got {len(self.key)}"
            )

    @classmethod
    def parse(cls, entry: str) -> KeyEntry:
        """Parse ``keyid:base64url-key``; errors name the key id, never the key."""
        text = entry.strip()
        if ":" not in text:
            raise KeyConfigurationError(
                "a key entry must look like 'keyid:base64url-key' (no ':' found)"
            )
        key_id, _, encoded = text.partition(":")
        key_id = key_id.strip()
        check_key_id(key_id)
        encoded = encoded.strip()
        if not encoded:
            raise KeyConfigurationError(f"key {key_id!r}: the key part is empty")
        if not re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", encoded):
            raise KeyConfigurationError(
                f"key {key_id!r}: the key must be URL-safe base64 (A-Z a-z 0-9 - _)"
            )
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as exc:
            raise KeyConfigurationError(f"key {key_id!r}: the key is not valid base64") from exc
        if len(raw) != KEY_SIZE:
            raise KeyConfigurationError(
                f"key {key_id!r}: the key must decode to {KEY_SIZE} bytes, got {len(raw)}"
            )
        return cls(key_id, raw)

    def to_entry(self) -> str:
        return f"{self.key_id}:{base64.urlsafe_b64encode(self.key).decode('ascii').rstrip('=')}"


def generate_key_entry(key_id: str | None = None) -> str:
    """Return a fresh ``keyid:base64url-key`` entry (the id defaults to date + random)."""
    if key_id is None:
        key_id = f"k{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"
    return KeyEntry(key_id, AESGCM.generate_key(bit_length=256)).to_entry()


def parse_key_entries(value: str | Sequence[str]) -> list[KeyEntry]:
    """Parse a list of entries or a comma/newline separated string of entries."""
    items: Iterable[str] = re.split(r"[,\n]", value) if isinstance(value, str) else value
    entries: list[KeyEntry] = []
    for item in items:
        if not isinstance(item, str):
            raise KeyConfigurationError("each key entry must be a string 'keyid:key'")
        if item.strip():
            entries.append(KeyEntry.parse(item))
    return entries


def parse_key_file(path: str | os.PathLike[str]) -> list[KeyEntry]:
    """Read one entry per line; blank lines and ``#`` comments are ignored."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeyConfigurationError(f"cannot read key file {p}: {exc.strerror}") from exc
    if os.name == "posix" and p.stat().st_mode & 0o077:
        log.warning("key file %s is readable by group or others; chmod 600 it", p)
    entries: list[KeyEntry] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            entries.append(KeyEntry.parse(stripped))
        except KeyConfigurationError as exc:
            raise KeyConfigurationError(f"{p}, line {lineno}: {exc}") from None
    return entries


def ensure_dev_key_file(path: Path, key_id: str, what: str) -> Path:
    """A development key file: created once with one new entry (mode 0600), then reused."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(f"# development {what}; generated on first run, never commit this file\n")
        fh.write(generate_key_entry(key_id) + "\n")
    log.warning("generated development %s file %s", what, path)
    return path

"""Per-user bearer tokens, stored only as sha256 digests.

A token is shown once when it is issued; the store keeps ``sha256(token)`` and looks users up by
digest (compared in constant time), so neither the store file nor a log ever holds a usable token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from .config import GatewayConfigError, UserConfig

TOKEN_PREFIX = "sc-"


def hash_token(token: str) -> str:
    """The hex sha256 digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random bearer token (256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class TokenStore:
    """Users by token digest; optionally persisted to a JSON file of digests."""

    def __init__(self, users: list[UserConfig] | None = None, path: str | Path | None = None):
        self.path = Path(path) if path else None
        self._configured = list(users or [])
        self._users: dict[str, UserConfig] = {}
        self._mtime: float | None = None
        self._load()

    def _load(self) -> None:
        self._users = {}
        self._mtime = None
        if self.path and self.path.exists():
            self._mtime = self.path.stat().st_mtime
            for user in self._read(self.path):
                self._add(user)
        for user in self._configured:
            self._add(user)

    def refresh(self) -> bool:
        """Re-read the token file if it changed (a user was added or revoked); True if it did."""
        if not self.path:
            return False
        try:
            mtime: float | None = self.path.stat().st_mtime
        except OSError:
            mtime = None
        if mtime == self._mtime:
            return False
        try:
            self._load()
        except GatewayConfigError:
            return False  # a half-written file: keep the users we have
        return True

    @staticmethod
    def _read(path: Path) -> list[UserConfig]:
        try:
            data = json.loads(path.read_text())
            return [UserConfig.model_validate(u) for u in data.get("users", [])]
        except (OSError, ValueError) as exc:
            raise GatewayConfigError(f"token file {path} is unreadable: {exc}") from None

    def _add(self, user: UserConfig) -> None:
        for digest, existing in list(self._users.items()):
            if existing.name == user.name:
                del self._users[digest]
        self._users[user.token_sha256] = user

    def __len__(self) -> int:
        return len(self._users)

    def users(self) -> list[UserConfig]:
        return sorted(self._users.values(), key=lambda u: u.name)

    def authenticate(self, token: str) -> UserConfig | None:
        """The user holding ``token``, or None. Constant-time over the digest comparison.

        An unknown token makes the store re-read its file once, so a user added with
        ``smallcode token add`` is accepted without restarting the gateway.
        """
        digest = hash_token(token)
        found = self._find(digest)
        if found is None and self.refresh():
            found = self._find(digest)
        return found

    def _find(self, digest: str) -> UserConfig | None:
        found: UserConfig | None = None
        for stored, user in self._users.items():
            if hmac.compare_digest(stored, digest):
                found = user
        return found

    def issue(self, name: str, *, max_concurrent: int = 4, token_quota: int | None = None) -> str:
        """Create (or replace) ``name``'s token; returns the token, which is not stored anywhere."""
        token = new_token()
        self._add(UserConfig(name=name, token_sha256=hash_token(token),
                             max_concurrent=max_concurrent, token_quota=token_quota))
        self.save()
        return token

    def revoke(self, name: str) -> bool:
        for digest, user in list(self._users.items()):
            if user.name == name:
                del self._users[digest]
                self.save()
                return True
        return False

    def save(self) -> None:
        if not self.path:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        configured = {u.token_sha256 for u in self._configured}
        payload = {"users": [u.model_dump() for u in self.users()
                             if u.token_sha256 not in configured]}
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(payload, fh, indent=2)
        os.replace(tmp, self.path)
        self._mtime = self.path.stat().st_mtime

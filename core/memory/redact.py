"""Secret redaction for anything written to disk: sessions, logs, exports.

``redact(text)`` replaces API keys, tokens, private key blocks and the values of secret-looking
``KEY=VALUE`` / ``"key": "value"`` pairs with ``[REDACTED]``; ``redact_obj(obj)`` does the same
through nested JSON-like data, and also blanks string values stored under secret-looking keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

REDACTED = "[REDACTED]"

# A key name that holds a secret: ends in one of these words (so ``max_tokens`` or ``token_count``
# are not secrets, while ``GITHUB_TOKEN``, ``api-key``, ``db_password`` are).
_SECRET_NAME = (
    r"(?:[A-Za-z0-9_.-]*[_.-])?"
    r"(?:api[_-]?key|apikey|access[_-]?key(?:[_-]?id)?|secret(?:[_-]?(?:access[_-]?)?key)?|"
    r"client[_-]?secret|token|auth[_-]?token|access[_-]?token|refresh[_-]?token|password|passwd|"
    r"passphrase|pwd|credentials?|private[_-]?key|authorization|session[_-]?key|signing[_-]?key|"
    r"secret[_-]?token|webhook[_-]?secret|dsn|connection[_-]?string)"
)
_SECRET_KEY_RE = re.compile(rf"^{_SECRET_NAME}$", re.IGNORECASE)

_SECRET_WORDS = ("key", "secret", "token", "passw", "pwd", "credential", "authorization", "dsn",
                 "passphrase", "connection")


def _any(*needles: str) -> Callable[[str, str], bool]:
    return lambda text, _lower: any(n in text for n in needles)


def _any_lower(*needles: str) -> Callable[[str, str], bool]:
    return lambda _text, lower: any(n in lower for n in needles)


def _secret_word_and(*marks: str) -> Callable[[str, str], bool]:
    return lambda text, lower: (any(m in text for m in marks)
                                and any(w in lower for w in _SECRET_WORDS))


# (pattern, replacement, cheap test that must pass before the regex runs at all)
_PATTERNS: list[tuple[re.Pattern[str], str, Callable[[str, str], bool]]] = [
    # PEM private key blocks (RSA, EC, OPENSSH, PGP ...), also when unterminated (cut-off output).
    (re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?"
                r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)", re.DOTALL),
     REDACTED, _any("PRIVATE KEY")),
    # Anthropic, OpenAI (sk-, sk-proj-), DeepSeek and similar ``sk-`` keys.
    (re.compile(r"\bsk-(?:ant-)?[A-Za-z0-9_-]{16,}"), REDACTED, _any("sk-")),
    # GitHub tokens: classic (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained.
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), REDACTED,
     _any("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"), REDACTED, _any("github_pat_")),
    # GitLab, Slack, Hugging Face, Google API keys, Stripe.
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), REDACTED, _any("glpat-")),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), REDACTED, _any("xox")),
    (re.compile(r"\bhf_[A-Za-z0-9]{30,}"), REDACTED, _any("hf_")),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), REDACTED, _any("AIza")),
    (re.compile(r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}"), REDACTED, _any("k_live_", "k_test_")),
    # AWS access key ids.
    (re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"), REDACTED,
     _any("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA")),
    # JSON Web Tokens.
    (re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"), REDACTED,
     _any("eyJ")),
    # Authorization headers: keep the scheme, drop the credential.
    (re.compile(r"(?i)\b((?:bearer|basic|token)\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + REDACTED,
     _any_lower("bearer", "basic", "token")),
    # Credentials inside URLs: scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(@)"), r"\1" + REDACTED + r"\2",
     lambda text, _lower: "://" in text and "@" in text),
    # "api_key": "value"  /  'token': 'value'  (JSON, Python dict literals)
    (re.compile(rf"""(?i)(["']{_SECRET_NAME}["']\s*:\s*)(["'])(?!\[REDACTED\])[^"'\n]+\2"""),
     r"\1\2" + REDACTED + r"\2", _secret_word_and(":")),
    # KEY=VALUE and key: value lines (.env files, shell exports, YAML, CLI flags --token=...).
    (re.compile(rf"""(?im)((?:^|[\s;&,(]|--)(?:export\s+)?{_SECRET_NAME}\s*[=:]\s*)"""
                rf"""(["']?)(?!\[REDACTED\])(?!(?:bearer|basic|token)\s)([^\s"',;)]+)\2"""),
     r"\1\2" + REDACTED + r"\2", _secret_word_and("=", ":")),
]


def _redact_uncached(text: str) -> str:
    lower = text.lower()
    for pattern, replacement, may_match in _PATTERNS:
        if may_match(text, lower):
            new = pattern.sub(replacement, text)
            if new != text:
                text, lower = new, new.lower()
    return text


_redact_cached = lru_cache(maxsize=16384)(_redact_uncached)


def redact(text: str) -> str:
    """Return ``text`` with every recognised secret replaced by ``[REDACTED]``.

    Results are memoized: a session is re-saved every turn with mostly the same strings."""
    if not text:
        return text
    if len(text) > 200_000:  # not worth keeping in the memo
        return _redact_uncached(text)
    return _redact_cached(text)


def is_secret_key(name: str) -> bool:
    """True when a mapping key (``api_key``, ``GITHUB_TOKEN``, ``password``...) names a secret."""
    return bool(_SECRET_KEY_RE.match(name))


def redact_obj(obj: Any) -> Any:
    """A redacted deep copy of JSON-like data (dicts, lists, tuples, strings, scalars).

    Strings are passed through :func:`redact`; a non-empty string stored under a secret-looking key
    is replaced entirely. Numbers, booleans and None are kept (``max_tokens: 1024`` stays).
    """
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        out: dict[Any, Any] = {}
        for key, value in obj.items():
            if isinstance(key, str) and isinstance(value, str) and value and is_secret_key(key):
                out[key] = REDACTED
            else:
                out[key] = redact_obj(value)
        return out
    if isinstance(obj, list | tuple):
        return [redact_obj(v) for v in obj]
    return obj


__all__ = ["REDACTED", "is_secret_key", "redact", "redact_obj"]

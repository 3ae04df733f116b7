"""Secret redaction for sessions and logs."""

from __future__ import annotations

import pytest
from smallcode.core.memory.redact import is_secret_key, redact, redact_obj

PEM = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
       "-----END OPENSSH PRIVATE KEY-----")


@pytest.mark.parametrize(("text", "expected"), [
    ("key sk-proj-Ab12Cd34Ef56Gh78Ij90KlMn end", "key [REDACTED] end"),
    ("sk-ant-api03-xyzXYZ0123456789abcdefABCDEF", "[REDACTED]"),
    ("Authorization: Bearer eyJhbGciOi.abc.def-123456", "Authorization: Bearer [REDACTED]"),
    ("token ghp_0123456789abcdefghijABCDEFGHIJ012345", "token [REDACTED]"),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "[REDACTED]"),
    ("aws AKIAIOSFODNN7EXAMPLE here", "aws [REDACTED] here"),
    (f"before\n{PEM}\nafter", "before\n[REDACTED]\nafter"),
    ("OPENAI_API_KEY=abc123def\nDEBUG=true", "OPENAI_API_KEY=[REDACTED]\nDEBUG=true"),
    ("export DB_PASSWORD='hunter2'", "export DB_PASSWORD='[REDACTED]'"),
    ('{"api_key": "s3cr3t-value", "model": "qwen"}', '{"api_key": "[REDACTED]", "model": "qwen"}'),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG", "aws_secret_access_key = [REDACTED]"),
    ("postgres://app:pa55word@db:5432/x", "postgres://app:[REDACTED]@db:5432/x"),
    ("curl --token=abcdef123 https://x", "curl --token=[REDACTED] https://x"),
])
def test_redact_replaces_secrets(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "max_tokens=1024",
    "prompt_tokens: 300",
    "def tokenize(text): return text.split()",
    "the skeleton key idea",
    "sk-short",
    "password reset flow is in auth.py",
])
def test_redact_leaves_ordinary_text_alone(text):
    assert redact(text) == text


def test_redact_is_idempotent():
    once = redact("OPENAI_API_KEY=abc123def sk-ant-api03-xyzXYZ0123456789abcdef")
    assert redact(once) == once


def test_redact_obj_walks_nested_data_and_blanks_secret_keys():
    data = {"messages": [{"role": "user", "content": "use ghp_0123456789abcdefghijABCDEFGHIJ0123"}],
            "settings": {"token": "anything", "max_tokens": 512, "password": "", "headers":
                         {"Authorization": "Basic dXNlcjpwYXNz"}},
            "tuple": ("sk-ant-api03-xyzXYZ0123456789abcdef",)}
    out = redact_obj(data)
    assert out == {"messages": [{"role": "user", "content": "use [REDACTED]"}],
                   "settings": {"token": "[REDACTED]", "max_tokens": 512, "password": "",
                                "headers": {"Authorization": "[REDACTED]"}},
                   "tuple": ["[REDACTED]"]}
    assert data["settings"]["token"] == "anything"  # the input is not modified


def test_secret_key_names():
    assert all(is_secret_key(k) for k in ("api_key", "GITHUB_TOKEN", "db-password", "apiKey",
                                          "client_secret", "Authorization"))
    assert not any(is_secret_key(k) for k in ("max_tokens", "token_count", "tokens", "keyword",
                                              "author"))

"""Escalation to a cloud model after a hard failure.

Opt-in in the strongest sense: with no key configured :meth:`Escalator.can_escalate` is false and
nothing is ever sent. With keys the preference order is Anthropic, OpenAI, DeepSeek. The whole
conversation is converted to the provider's native format — Anthropic: a separate ``system``,
strictly alternating user/assistant turns, ``tool_use`` / ``tool_result`` blocks; OpenAI and
DeepSeek: ``tool_calls`` / ``tool`` messages — and ends with a framing note (a smaller local model
failed; fix it in as few tool calls as possible). The reply comes back as a
:class:`~smallcode.core.model.types.ChatResponse` with OpenAI-shaped ``tool_calls``, so the agent
runs it through its normal tool execution. At most ``max_per_session`` calls per session.

Our history holds tool results two ways: native mode has ``{"role": "tool", "tool_call_id"}``
messages after an assistant message with ``tool_calls``; text mode has the call as JSON inside
the assistant text and the result as a user message ``"[name result]\\n..."``. Both become real
tool-use/result pairs; anything that cannot be paired stays plain text, so a request is always
well-formed (every tool use answered, no orphan results, no empty blocks).

Keys are held as ``SecretStr`` and only read when building request headers; they never appear in
logs, exceptions, reprs or the returned response.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr
from smallcode.core.config import EscalationSettings
from smallcode.core.model.types import ChatResponse, Message, Usage

log = logging.getLogger(__name__)

PROVIDERS: tuple[str, ...] = ("anthropic", "openai", "deepseek")
DEFAULT_MODELS: dict[str, str] = {
    "anthropic": "claude-sonnet-4-5",
    "openai": "gpt-4.1",
    "deepseek": "deepseek-chat",
}
ANTHROPIC_VERSION = "2023-06-01"
FRAMING_NOTE = (
    "A smaller local model was working on this task and failed; the conversation above is what it "
    "did. You are taking over. Fix the problem in as few tool calls as possible, using the tools "
    "provided, and do not redo work that already succeeded. Call finish when it is done."
)
NO_RESULT = "(no result was recorded for this call)"
_RESULT_RE = re.compile(r"^\[([A-Za-z0-9_.\-]+) result\]\n?", re.DOTALL)
_ID_BAD = re.compile(r"[^A-Za-z0-9_-]")


class EscalationError(RuntimeError):
    """Escalation was not possible or the provider failed. The message never holds a key."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------------- canonical turns
@dataclass
class _Call:
    id: str
    name: str
    args: dict[str, Any]


@dataclass
class _Result:
    id: str
    name: str
    content: str


@dataclass
class _Turn:
    role: str  # user | assistant
    text: str = ""
    calls: list[_Call] = field(default_factory=list)
    results: list[_Result] = field(default_factory=list)


def _text_of(content: Any) -> str:
    """Message content as text (strings, or OpenAI content-part lists)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return str(content)


def _args_of(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            val = json.loads(raw) if raw.strip() else {}
        except ValueError:
            try:
                from json_repair import repair_json

                val = repair_json(raw, return_objects=True)
            except Exception:  # noqa: BLE001 - an unparseable argument string stays raw text
                val = None
        if isinstance(val, dict):
            return val
        return {"raw_arguments": raw}
    return {} if raw is None else {"raw_arguments": str(raw)}


def _strip_thinking(text: str) -> str:
    from smallcode.core.model.client import split_thinking

    return split_thinking(text)[0] if "<think>" in text else text


def canonical_turns(messages: list[Message],
                    tool_names: list[str] | None = None) -> tuple[str, list[_Turn]]:
    """(system text, alternating-ready turns) with every tool call paired with its result."""
    system: list[str] = []
    turns: list[_Turn] = []
    open_calls: list[_Call] = []  # calls of the last assistant turn still waiting for a result
    seq = 0

    def close_open() -> None:
        """Answer calls that never got a result, so the provider sees a complete exchange."""
        nonlocal open_calls
        if open_calls:
            user = _user_turn()
            user.results.extend(_Result(c.id, c.name, NO_RESULT) for c in open_calls)
            open_calls = []

    def _user_turn() -> _Turn:
        if turns and turns[-1].role == "user":
            return turns[-1]
        turns.append(_Turn("user"))
        return turns[-1]

    def take(call_id: str | None, name: str | None) -> _Call | None:
        for i, c in enumerate(open_calls):
            if (call_id is not None and c.id == call_id) or (call_id is None and c.name == name):
                return open_calls.pop(i)
        return None

    for m in messages:
        role = m.get("role")
        text = _text_of(m.get("content"))
        if role == "system":
            if text.strip():
                system.append(text.strip())
            continue
        if role == "assistant":
            close_open()
            calls: list[_Call] = []
            for tc in m.get("tool_calls") or []:
                fn = tc.get("function") if isinstance(tc, dict) else None
                if not isinstance(fn, dict) or not fn.get("name"):
                    continue
                seq += 1
                calls.append(_Call(str(tc.get("id") or f"call_{seq}"), str(fn["name"]),
                                   _args_of(fn.get("arguments"))))
            text = _strip_thinking(text)
            if not calls and text.strip() and tool_names is not None:
                from smallcode.core.toolcalls.extraction import extract_tool_calls

                ex = extract_tool_calls(text, known_tools=tool_names)
                if ex.calls:
                    for raw in ex.calls:
                        seq += 1
                        calls.append(_Call(f"call_text_{seq}", raw.name, dict(raw.arguments)))
                    text = ex.text
            if turns and turns[-1].role == "assistant" and not turns[-1].calls:
                turns[-1].text = (turns[-1].text + "\n" + text).strip()
                turns[-1].calls = calls
            else:
                turns.append(_Turn("assistant", text.strip(), calls))
            open_calls = list(calls)
            continue
        if role == "tool":
            call = take(str(m.get("tool_call_id")) if m.get("tool_call_id") else None,
                        m.get("name"))
            if call is not None:
                _user_turn().results.append(_Result(call.id, call.name, text))
            else:  # an orphan result: keep what it said as text
                name = m.get("name") or "tool"
                _append_user_text(_user_turn(), f"[{name} result]\n{text}")
            continue
        # user (and anything unknown) — maybe a text-mode tool result
        match = _RESULT_RE.match(text)
        call = take(None, match.group(1)) if match else None
        if call is not None and match is not None:
            _user_turn().results.append(_Result(call.id, call.name, text[match.end():]))
            continue
        close_open()
        _append_user_text(_user_turn(), text)
    close_open()
    return "\n\n".join(system), turns


def _append_user_text(turn: _Turn, text: str) -> None:
    if text.strip():
        turn.text = (turn.text + "\n\n" + text).strip() if turn.text else text


def _safe_ids(turns: list[_Turn]) -> dict[str, str]:
    """Provider-safe, unique ids (Anthropic: ^[A-Za-z0-9_-]{1,64}$)."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for t in turns:
        for c in t.calls:
            if c.id in mapping:
                continue
            safe = (_ID_BAD.sub("_", c.id) or "call")[:56]
            while safe in used:
                safe = f"{safe[:48]}_{uuid.uuid4().hex[:6]}"
            used.add(safe)
            mapping[c.id] = safe
    return mapping


# --------------------------------------------------------------------------- request bodies
def to_anthropic(messages: list[Message], tools: list[dict[str, Any]] | None, *,
                 model: str = DEFAULT_MODELS["anthropic"], max_tokens: int = 4096,
                 note: str = FRAMING_NOTE) -> dict[str, Any]:
    """The Anthropic Messages API body for this conversation plus the framing note."""
    tool_names = [t["function"]["name"] for t in tools or [] if "function" in t]
    system, turns = canonical_turns(messages, tool_names)
    ids = _safe_ids(turns)
    out: list[dict[str, Any]] = []
    for t in turns:
        blocks: list[dict[str, Any]] = []
        if t.role == "assistant":
            if t.text.strip():
                blocks.append({"type": "text", "text": t.text})
            blocks += [{"type": "tool_use", "id": ids[c.id], "name": c.name, "input": c.args}
                       for c in t.calls]
            if not blocks:
                blocks.append({"type": "text", "text": "(empty reply)"})
        else:
            blocks += [{"type": "tool_result", "tool_use_id": ids[r.id],
                        "content": r.content or "(empty)"} for r in t.results]
            if t.text.strip():
                blocks.append({"type": "text", "text": t.text})
        if blocks:
            out.append({"role": t.role, "content": blocks})
    if not out or out[0]["role"] != "user":
        out.insert(0, {"role": "user", "content": [{"type": "text", "text":
                                                     "(the conversation starts with the reply below)"}]})
    if out[-1]["role"] == "user":
        out[-1]["content"].append({"type": "text", "text": note})
    else:
        out.append({"role": "user", "content": [{"type": "text", "text": note}]})
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": out}
    if system:
        body["system"] = system
    if tools:
        body["tools"] = [{"name": t["function"]["name"],
                          "description": t["function"].get("description", ""),
                          "input_schema": t["function"].get("parameters")
                          or {"type": "object", "properties": {}}}
                         for t in tools if "function" in t]
    return body


def to_openai(messages: list[Message], tools: list[dict[str, Any]] | None, *,
              model: str = DEFAULT_MODELS["openai"], max_tokens: int = 4096,
              note: str = FRAMING_NOTE, max_tokens_key: str = "max_tokens") -> dict[str, Any]:
    """The OpenAI (and DeepSeek) chat-completions body for this conversation plus the note."""
    tool_names = [t["function"]["name"] for t in tools or [] if "function" in t]
    system, turns = canonical_turns(messages, tool_names)
    ids = _safe_ids(turns)
    out: list[dict[str, Any]] = []
    if system:
        out.append({"role": "system", "content": system})
    for t in turns:
        if t.role == "assistant":
            msg: dict[str, Any] = {"role": "assistant", "content": t.text or None}
            if t.calls:
                msg["tool_calls"] = [{"id": ids[c.id], "type": "function",
                                      "function": {"name": c.name,
                                                   "arguments": json.dumps(c.args)}}
                                     for c in t.calls]
            elif not t.text:
                msg["content"] = "(empty reply)"
            out.append(msg)
        else:
            out += [{"role": "tool", "tool_call_id": ids[r.id], "content": r.content}
                    for r in t.results]
            if t.text.strip():
                out.append({"role": "user", "content": t.text})
    out.append({"role": "user", "content": note})
    body: dict[str, Any] = {"model": model, "messages": out, max_tokens_key: max_tokens}
    if tools:
        body["tools"] = tools
    return body


# --------------------------------------------------------------------------- replies
def from_anthropic(data: dict[str, Any]) -> ChatResponse:
    text: list[str] = []
    thinking: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in data.get("content") or []:
        kind = block.get("type")
        if kind == "text":
            text.append(block.get("text", ""))
        elif kind == "thinking":
            thinking.append(block.get("thinking", ""))
        elif kind == "tool_use":
            calls.append({"id": block.get("id") or f"call_{uuid.uuid4().hex[:8]}",
                          "type": "function",
                          "function": {"name": block.get("name", ""),
                                       "arguments": json.dumps(block.get("input") or {})}})
    u = data.get("usage") or {}
    stop = data.get("stop_reason")
    finish = {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length",
              "stop_sequence": "stop"}.get(stop or "", stop)
    return ChatResponse(content="".join(text), reasoning="\n".join(thinking), tool_calls=calls,
                        finish_reason=finish,
                        usage=Usage(prompt_tokens=int(u.get("input_tokens") or 0),
                                    completion_tokens=int(u.get("output_tokens") or 0),
                                    cached_tokens=int(u.get("cache_read_input_tokens") or 0)),
                        model=str(data.get("model") or ""), raw=data)


def from_openai(data: dict[str, Any]) -> ChatResponse:
    choice = (data.get("choices") or [{}])[0]
    msg = choice.get("message") or {}
    u = data.get("usage") or {}
    cached = (u.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    return ChatResponse(content=msg.get("content") or "",
                        reasoning=msg.get("reasoning_content") or "",
                        tool_calls=list(msg.get("tool_calls") or []),
                        finish_reason=choice.get("finish_reason"),
                        usage=Usage(prompt_tokens=int(u.get("prompt_tokens") or 0),
                                    completion_tokens=int(u.get("completion_tokens") or 0),
                                    cached_tokens=int(cached)),
                        model=str(data.get("model") or ""), raw=data)


# --------------------------------------------------------------------------- the escalator
class Escalator:
    """One per session. ``can_escalate()`` before ``escalate()``; counts calls against the cap."""

    def __init__(self, settings: EscalationSettings, *, models: dict[str, str] | None = None,
                 timeout: float = 180.0, max_tokens: int = 4096, max_retries: int = 2,
                 retry_backoff: float = 1.0, used: int = 0,
                 transport: httpx.AsyncBaseTransport | None = None):
        self._keys: dict[str, SecretStr] = {}
        for name in PROVIDERS:
            key = getattr(settings, f"{name}_api_key")
            if key is not None and key.get_secret_value().strip():
                self._keys[name] = key
        self._urls = {"anthropic": settings.anthropic_base_url.rstrip("/"),
                      "openai": settings.openai_base_url.rstrip("/"),
                      "deepseek": settings.deepseek_base_url.rstrip("/")}
        self.models = {**DEFAULT_MODELS, **(models or {})}
        self.max_per_session = settings.max_per_session
        self.timeout = timeout
        self.max_tokens = max_tokens
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.used = used
        self._transport = transport

    def __repr__(self) -> str:
        return (f"Escalator(provider={self.provider!r}, used={self.used}, "
                f"max_per_session={self.max_per_session})")

    @property
    def provider(self) -> str | None:
        """The provider that would be used: the first configured in PROVIDERS order."""
        return next((p for p in PROVIDERS if p in self._keys), None)

    @property
    def remaining(self) -> int:
        return max(0, self.max_per_session - self.used) if self.provider else 0

    def can_escalate(self) -> bool:
        return self.provider is not None and self.used < self.max_per_session

    def build_request(self, messages: list[Message],
                      tools: list[dict[str, Any]] | None) -> tuple[str, dict[str, Any]]:
        """(url, body) for the chosen provider; headers (with the key) are added when sending."""
        provider = self.provider
        if provider is None:
            raise EscalationError("escalation is not configured (no cloud API key)")
        model = self.models[provider]
        if provider == "anthropic":
            return (f"{self._urls[provider]}/v1/messages",
                    to_anthropic(messages, tools, model=model, max_tokens=self.max_tokens))
        key = "max_completion_tokens" if provider == "openai" else "max_tokens"
        return (f"{self._urls[provider]}/chat/completions",
                to_openai(messages, tools, model=model, max_tokens=self.max_tokens,
                          max_tokens_key=key))

    def _headers(self, provider: str) -> dict[str, str]:
        secret = self._keys[provider].get_secret_value()
        if provider == "anthropic":
            return {"x-api-key": secret, "anthropic-version": ANTHROPIC_VERSION,
                    "content-type": "application/json"}
        return {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}

    def _redact(self, text: str) -> str:
        """Remove every key — and any 8+ character piece of one — from text."""
        for secret in self._keys.values():
            key = secret.get_secret_value()
            if not key:
                continue
            text = text.replace(key, "[redacted]")
            n = len(key)
            for size in range(min(n - 1, 24), 7, -1):
                for i in range(n - size + 1):
                    piece = key[i:i + size]
                    if piece in text:
                        text = text.replace(piece, "[redacted]")
        return text

    async def escalate(self, messages: list[Message],
                       tools: list[dict[str, Any]] | None = None) -> ChatResponse:
        """Send the conversation to the cloud model once; returns its reply as a ChatResponse.

        Raises :class:`EscalationError` when not configured, over the session cap, or when the
        provider fails (after bounded retries on 429/5xx/connection errors)."""
        provider = self.provider
        if provider is None:
            raise EscalationError("escalation is not configured (no cloud API key)")
        if self.used >= self.max_per_session:
            raise EscalationError(f"escalation limit reached ({self.max_per_session} per session)")
        url, body = self.build_request(messages, tools)
        self.used += 1
        log.info("escalating to %s (%s), %d of %d this session", provider, body["model"],
                 self.used, self.max_per_session)
        started = time.perf_counter()
        data = await self._post(provider, url, body)
        resp = from_anthropic(data) if provider == "anthropic" else from_openai(data)
        resp.latency_s = time.perf_counter() - started
        resp.model = resp.model or body["model"]
        resp.raw = {**resp.raw, "escalated_to": provider}
        return resp

    async def _post(self, provider: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
        timeout = httpx.Timeout(self.timeout, connect=10.0)
        attempt = 0
        async with httpx.AsyncClient(timeout=timeout, transport=self._transport) as http:
            while True:
                retryable = False
                try:
                    r = await http.post(url, json=body, headers=self._headers(provider))
                    if r.status_code == 200:
                        try:
                            data = r.json()
                        except ValueError:
                            raise EscalationError(self._redact(
                                f"{provider} answered 200 with a body that is not JSON")) from None
                        if isinstance(data, dict):
                            return data
                        raise EscalationError(f"{provider} answered 200 with an unexpected body")
                    retryable = r.status_code == 429 or r.status_code >= 500
                    err = EscalationError(self._redact(
                        f"{provider} answered {r.status_code}: {self._error_detail(r)}"),
                        status=r.status_code)
                except httpx.HTTPError as exc:
                    retryable = isinstance(exc, httpx.TransportError)
                    err = EscalationError(self._redact(
                        f"cannot reach {provider} ({type(exc).__name__}: {exc})"))
                if not retryable or attempt >= self.max_retries:
                    log.warning("escalation failed: %s", err)
                    raise err
                attempt += 1
                await asyncio.sleep(self.retry_backoff * 2 ** (attempt - 1))

    @staticmethod
    def _error_detail(r: httpx.Response) -> str:
        try:
            data = r.json()
        except ValueError:
            return r.text[:300]
        err = data.get("error") if isinstance(data, dict) else None
        if isinstance(err, dict):
            return str(err.get("message") or err)[:300]
        return str(err or data)[:300]


__all__ = ["DEFAULT_MODELS", "FRAMING_NOTE", "PROVIDERS", "EscalationError", "Escalator",
           "canonical_turns", "from_anthropic", "from_openai", "to_anthropic", "to_openai"]

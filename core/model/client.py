"""The one HTTP client for OpenAI-compatible chat servers (llama.cpp, Ollama, LM Studio, vLLM, clouds).

Async httpx, streaming (SSE) and not, connect/read timeouts, bounded retries with backoff on
connection errors, 429 and 5xx, usage per call, the real context window read from the server,
``<think>`` / ``reasoning_content`` separated from the answer, and a reply cut by the token limit
with no answer retried once with more room.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import time
from typing import Any

import httpx

from .profiles import DEFAULT_LOCAL, ModelProfile, ServerKind, profile_for
from .types import ChatResponse, DeltaCallback, Message, ModelError, Usage

THINK_RE = re.compile(r"<think>(.*?)(?:</think>|$)", re.DOTALL)
DEFAULT_WINDOW = 8192


def split_thinking(text: str) -> tuple[str, str]:
    """Return (answer, reasoning) with every <think> block moved out of the answer."""
    if "<think>" not in text:
        return text, ""
    reasoning = "\n".join(m.strip() for m in THINK_RE.findall(text))
    return THINK_RE.sub("", text).strip(), reasoning


def sanitize_messages(messages: list[Message]) -> list[Message]:
    """What goes on the wire: assistant content never null, no reasoning echoed back."""
    out: list[Message] = []
    for m in messages:
        m = dict(m)
        if m.get("role") == "assistant":
            m.pop("reasoning_content", None)
            content = m.get("content")
            if content is None:
                m["content"] = ""
            elif isinstance(content, str) and "<think>" in content:
                m["content"] = split_thinking(content)[0]
        elif m.get("content") is None:
            m["content"] = ""
        out.append(m)
    return out


class OpenAIChatClient:
    """Implements :class:`~smallcode.core.model.types.ChatModel` over HTTP."""

    def __init__(self, base_url: str, *, model: str | None = None, api_key: str | None = None,
                 connect_timeout: float = 5.0, read_timeout: float = 300.0,
                 max_retries: int = 3, context_window: int | None = None,
                 profile: ModelProfile | None = None, default_max_tokens: int = 1024,
                 transport: httpx.AsyncBaseTransport | None = None,
                 extra_headers: dict[str, str] | None = None):
        self.base_url = base_url.rstrip("/")
        if not self.base_url.endswith("/v1"):
            self.base_url += "/v1"
        self.root_url = self.base_url[: -len("/v1")]
        self._model = model
        self._api_key = api_key
        self.timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self.max_retries = max_retries
        self._window_override = context_window
        self._window: int | None = context_window
        self.profile = profile
        self.server_kind: ServerKind = "unknown"
        self.model_path = ""
        self.total_slots = 1  # parallel requests the server runs (llama.cpp /props total_slots)
        self.default_max_tokens = default_max_tokens
        self.total_usage = Usage()
        self.calls = 0
        self.retries = 0
        self._transport = transport
        self._headers = {"Content-Type": "application/json", **(extra_headers or {})}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._client: httpx.AsyncClient | None = None
        self._discovered = False

    # -- ChatModel protocol ------------------------------------------------------------
    @property
    def context_window(self) -> int:
        return self._window or DEFAULT_WINDOW

    @property
    def model_name(self) -> str:
        return self._model or "default"

    def _http(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=self.timeout, transport=self._transport,
                                             headers=self._headers)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- discovery ---------------------------------------------------------------------
    async def discover(self) -> None:
        """Learn the model name, server kind and real context window from the server."""
        if self._discovered:
            return
        http = self._http()
        quick = httpx.Timeout(10.0, connect=self.timeout.connect)
        models: list[dict[str, Any]] = []
        try:
            r = await http.get(f"{self.base_url}/models", timeout=quick)
            if r.status_code == 200:
                models = r.json().get("data") or []
        except (httpx.HTTPError, ValueError) as exc:
            raise ModelError(f"cannot reach the model server at {self.base_url}: {exc}",
                             retryable=True) from None
        if self._model is None and models:
            self._model = str(models[0].get("id"))
        window: int | None = None
        # llama.cpp: /props holds the per-slot n_ctx actually usable by one request
        try:
            r = await http.get(f"{self.root_url}/props", timeout=quick)
            if r.status_code == 200:
                props = r.json()
                gen = props.get("default_generation_settings") or {}
                n_ctx = gen.get("n_ctx") or props.get("n_ctx")
                if n_ctx:
                    window = int(n_ctx)
                    self.server_kind = "llamacpp"
                    self.model_path = str(props.get("model_path") or "")
                    slots = props.get("total_slots")
                    if isinstance(slots, int) and slots > 0:
                        self.total_slots = slots
        except (httpx.HTTPError, ValueError):
            pass
        if window is None and self._model:
            try:  # Ollama: /api/show holds the trained context length; we set num_ctx ourselves
                r = await http.post(f"{self.root_url}/api/show", json={"model": self._model},
                                    timeout=quick)
                if r.status_code == 200:
                    info = r.json().get("model_info") or {}
                    for key, value in info.items():
                        if key.endswith(".context_length"):
                            window = min(int(value), 32768)
                            self.server_kind = "ollama"
                            break
            except (httpx.HTTPError, ValueError):
                pass
        if window is None:
            for m in models:
                if m.get("id") != self._model and len(models) > 1:
                    continue
                meta = m.get("meta") or {}
                for key in ("max_model_len", "context_length", "context_window", "n_ctx"):
                    value = m.get(key) or meta.get(key)
                    if value:
                        window = int(value)
                        self.server_kind = "vllm" if key == "max_model_len" else "lmstudio"
                        break
                if window is None and meta.get("n_ctx_train"):
                    window = int(meta["n_ctx_train"])
                if window:
                    break
        if self._window_override:
            window = self._window_override
        self._window = window or DEFAULT_WINDOW
        if self.profile is None:
            self.profile = profile_for(self.model_name, self.server_kind, self.model_path)
        self._discovered = True

    async def tokenize(self, text: str) -> int | None:
        """Exact token count from llama.cpp's /tokenize, or None when the server has none."""
        if self.server_kind != "llamacpp":
            return None
        try:
            r = await self._http().post(f"{self.root_url}/tokenize", json={"content": text},
                                        timeout=httpx.Timeout(10.0))
            if r.status_code == 200:
                return len(r.json().get("tokens") or [])
        except (httpx.HTTPError, ValueError):
            return None
        return None

    # -- chat ----------------------------------------------------------------------------
    async def chat(self, messages: list[Message], *, tools: list[dict[str, Any]] | None = None,
                   response_format: dict[str, Any] | None = None, max_tokens: int | None = None,
                   temperature: float | None = None,
                   on_delta: DeltaCallback | None = None,
                   seed: int | None = None) -> ChatResponse:
        if not self._discovered:
            await self.discover()
        profile = self.profile or DEFAULT_LOCAL
        body: dict[str, Any] = {
            "model": self.model_name,
            "messages": sanitize_messages(messages),
            "max_tokens": max_tokens or self.default_max_tokens,
            "temperature": profile.temperature if temperature is None else temperature,
        }
        if profile.top_p is not None:
            body["top_p"] = profile.top_p
        if seed is not None:  # reproducible sampling (llama.cpp, vLLM and OpenAI take it)
            body["seed"] = seed
        if tools:
            body["tools"] = tools
        if response_format:
            body["response_format"] = response_format
        if profile.stop:
            body["stop"] = list(profile.stop)
        if self.server_kind == "ollama":
            body["options"] = {"num_ctx": self.context_window}
        body["cache_prompt"] = True if self.server_kind == "llamacpp" else body.get("cache_prompt")
        if body["cache_prompt"] is None:
            del body["cache_prompt"]
        resp = await self._post_with_retries(body, on_delta)
        if resp.finish_reason == "length" and not resp.content.strip() and not resp.tool_calls:
            # the budget went to reasoning (or nothing came out): one retry with more room
            body["max_tokens"] = int(body["max_tokens"]) * 2
            if profile.thinking:
                body["chat_template_kwargs"] = {"enable_thinking": False}
            resp = await self._post_with_retries(body, on_delta)
        return resp

    async def _post_with_retries(self, body: dict[str, Any],
                                 on_delta: DeltaCallback | None) -> ChatResponse:
        attempt = 0
        while True:
            try:
                return await self._post(body, on_delta)
            except ModelError as exc:
                if not exc.retryable or attempt >= self.max_retries:
                    raise
                attempt += 1
                self.retries += 1
                delay = getattr(exc, "retry_after", None) or min(8.0, 0.5 * 2 ** (attempt - 1))
                await asyncio.sleep(delay)

    async def _post(self, body: dict[str, Any], on_delta: DeltaCallback | None) -> ChatResponse:
        url = f"{self.base_url}/chat/completions"
        started = time.perf_counter()
        stream = on_delta is not None
        payload = dict(body, stream=stream)
        if stream:
            payload["stream_options"] = {"include_usage": True}
            if self.server_kind == "llamacpp":
                # token counts in every chunk: a reply the caller ends early still has its usage
                payload["timings_per_token"] = True
        http = self._http()
        try:
            if on_delta is not None:
                async with http.stream("POST", url, json=payload) as r:
                    if r.status_code != 200:
                        await r.aread()
                        raise self._status_error(r)
                    resp = await self._read_stream(r, on_delta)
            else:
                r = await http.post(url, json=payload)
                if r.status_code != 200:
                    raise self._status_error(r)
                resp = self._parse(r.json())
        except httpx.TimeoutException as exc:
            raise ModelError(f"model server timed out ({type(exc).__name__}) at {url}",
                             retryable=isinstance(exc, httpx.ConnectTimeout)) from None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise ModelError(f"cannot reach the model server at {url}: {exc}",
                             retryable=True) from None
        resp.latency_s = time.perf_counter() - started
        self.calls += 1
        self.total_usage.add(resp.usage)
        return resp

    @staticmethod
    def _status_error(r: httpx.Response) -> ModelError:
        try:
            detail = r.json().get("error", {})
            msg = detail.get("message") if isinstance(detail, dict) else str(detail)
        except ValueError:
            msg = r.text[:300]
        err = ModelError(f"model server answered {r.status_code}: {msg}", status=r.status_code,
                         retryable=r.status_code == 429 or r.status_code >= 500)
        ra = r.headers.get("Retry-After")
        if ra:
            try:
                err.retry_after = min(30.0, float(ra))  # type: ignore[attr-defined]
            except ValueError:
                pass
        return err

    def _parse(self, data: dict[str, Any]) -> ChatResponse:
        choice = (data.get("choices") or [{}])[0]
        msg = choice.get("message") or {}
        content, think = split_thinking(msg.get("content") or "")
        reasoning = msg.get("reasoning_content") or msg.get("reasoning") or ""
        return ChatResponse(
            content=content, reasoning=(reasoning + ("\n" + think if think else "")).strip(),
            tool_calls=list(msg.get("tool_calls") or []),
            finish_reason=choice.get("finish_reason"), usage=self._usage(data),
            model=str(data.get("model") or self.model_name), raw=data)

    @staticmethod
    def _usage(data: dict[str, Any], pieces: int = 0) -> Usage:
        """Usage from a reply's ``usage``; in a stream ended early there is none, then from
        llama.cpp's per-chunk timings (prompt = cached + processed), else ``pieces`` deltas."""
        u = data.get("usage") or {}
        timings = data.get("timings") or {}
        details = u.get("prompt_tokens_details") or {}
        cached = details.get("cached_tokens") or timings.get("cache_n") or 0
        processed = timings.get("prompt_n")
        if not u:
            u = {"prompt_tokens": (timings.get("cache_n") or 0) + (processed or 0),
                 "completion_tokens": timings.get("predicted_n") or pieces}
        return Usage(prompt_tokens=int(u.get("prompt_tokens") or 0),
                     completion_tokens=int(u.get("completion_tokens") or 0),
                     cached_tokens=int(cached),
                     prompt_processed=int(processed) if processed is not None else None)

    async def _read_stream(self, r: httpx.Response, on_delta: DeltaCallback) -> ChatResponse:
        content: list[str] = []
        reasoning: list[str] = []
        calls: dict[int, dict[str, Any]] = {}
        finish: str | None = None
        last: dict[str, Any] = {}
        model = self.model_name
        pieces = 0
        stopped = False
        async for line in r.aiter_lines():
            if stopped:
                break
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            try:
                chunk = json.loads(data)
            except json.JSONDecodeError:
                continue
            if chunk.get("usage") or chunk.get("timings"):
                last = chunk
            model = chunk.get("model") or model
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                if delta.get("content"):
                    content.append(delta["content"])
                    pieces += 1
                    res = on_delta(delta["content"])
                    if inspect.isawaitable(res):
                        res = await res
                    if res is True:
                        # the caller has what it needs; leaving the stream closes the
                        # connection and llama.cpp stops the slot
                        stopped = True
                        finish = "stop"
                        break
                rc = delta.get("reasoning_content") or delta.get("reasoning")
                if rc:
                    reasoning.append(rc)
                for tc in delta.get("tool_calls") or []:
                    slot = calls.setdefault(int(tc.get("index", len(calls))),
                                            {"id": "", "type": "function",
                                             "function": {"name": "", "arguments": ""}})
                    if tc.get("id"):
                        slot["id"] = tc["id"]
                    fn = tc.get("function") or {}
                    slot["function"]["name"] += fn.get("name") or ""
                    args = fn.get("arguments")
                    if isinstance(args, dict):
                        args = json.dumps(args)
                    slot["function"]["arguments"] += args or ""
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
        text, think = split_thinking("".join(content))
        return ChatResponse(content=text,
                            reasoning=("".join(reasoning) + ("\n" + think if think else "")).strip(),
                            tool_calls=[calls[i] for i in sorted(calls)], finish_reason=finish,
                            usage=self._usage(last, pieces), model=str(model), raw=last)

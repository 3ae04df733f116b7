"""EmbeddedServer: starts llama-server on a free loopback port, waits for /health, explains an
early death with the log tail, and stops the whole process group (also at interpreter exit).

Most tests run a stand-in ``llama-server`` (a Python script serving /health over real HTTP) so
the process handling is tested without loading a model; the real binary is used where it is
built, and a ``real_model`` test asks the installed 0.5B a question.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from smallcode.core.model.embedded import (
    EmbeddedServer,
    EmbeddedServerError,
    installed_model,
    llama_server_path,
    llama_server_runs,
)
from smallcode.core.model.speculative import SPECULATIVE_DEFAULT, speculative_args

FAKE_SERVER = """\
import http.server, json, os, subprocess, sys, time
argv = sys.argv[1:]
if argv == ["--help"]:
    print(os.environ.get("FAKE_HELP", "usage: llama-server [options]"))
    sys.exit(0)
port = int(argv[argv.index("--port") + 1])
with open(os.environ["FAKE_ARGV_OUT"], "a") as fh:
    fh.write(json.dumps(argv) + "\\n")
with open(os.environ["FAKE_ARGV_OUT"] + ".pid", "w") as fh:
    fh.write(str(os.getpid()))
mode = os.environ.get("FAKE_MODE", "serve")
print("fake llama-server loading", argv[argv.index("-m") + 1], flush=True)
if mode == "die":
    print("gguf_init_from_file: invalid magic characters", flush=True)
    print("error: failed to load model", flush=True)
    sys.exit(3)
if mode == "hang":
    time.sleep(600)
marker = os.environ.get("FAKE_BIND_MARKER")
if mode == "bind-once" and marker and not os.path.exists(marker):
    open(marker, "w").close()
    print("couldn't bind HTTP server socket, hostname: 127.0.0.1, port: %d" % port, flush=True)
    sys.exit(1)
child = subprocess.Popen(["sleep", "300"])
with open(os.environ["FAKE_CHILD_OUT"], "w") as fh:
    fh.write(str(child.pid))
calls = {"health": 0}

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            calls["health"] += 1
            code = 503 if calls["health"] <= 2 else 200  # "loading model" at first
            body = {"status": "ok" if code == 200 else "loading model"}
        else:
            code, body = 200, {"data": [{"id": argv[argv.index("-a") + 1]}]}
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


@pytest.fixture()
def fake_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "bin" / "llama-server"
    path.parent.mkdir()
    path.write_text(f"#!{sys.executable}\n{FAKE_SERVER}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("FAKE_ARGV_OUT", str(tmp_path / "argv.jsonl"))
    monkeypatch.setenv("FAKE_CHILD_OUT", str(tmp_path / "child.pid"))
    return path


@pytest.fixture()
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF not really")
    return path


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); it is gone for our purposes
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def wait_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_starts_on_a_free_port_with_the_documented_flags_and_stops_the_group(
        fake_binary, model_file, tmp_path):
    server = EmbeddedServer(model_file, binary=fake_binary, ctx=4096, parallel=3, threads=1,
                            log_dir=tmp_path / "logs")
    with server:
        assert server.running
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
        models = httpx.get(f"{server.base_url}/models", trust_env=False).json()
        assert models == {"data": [{"id": "local-model"}]}
        argv = json.loads((tmp_path / "argv.jsonl").read_text().splitlines()[-1])
        assert argv == ["-m", str(model_file), "--host", "127.0.0.1", "--port", str(server.port),
                        "-a", "local-model", "-t", "1", "-c", "4096", "-np", "3", "--jinja",
                        "--no-webui", "--offline"]
        leader = server.pid
        child = int((tmp_path / "child.pid").read_text())
        assert leader is not None and pid_alive(child)
        assert server.log_path is not None and server.log_path.parent == tmp_path / "logs"
        assert f"fake llama-server loading {model_file}" in server.log_path.read_text()
    assert not server.running
    assert wait_gone(leader) and wait_gone(child)  # the whole process group went


HELP_WITH_SPEC = """----- speculative params -----
--spec-type none,draft-simple,ngram-simple,ngram-map-k,ngram-mod,ngram-cache
                                        type of speculative decoding to use when no draft model
"""


def _started_argv(server: EmbeddedServer, tmp_path: Path) -> list[str]:
    with server:
        return json.loads((tmp_path / "argv.jsonl").read_text().splitlines()[-1])


def test_n_gram_speculation_is_on_by_default_when_the_binary_lists_it(
        fake_binary, model_file, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_HELP", HELP_WITH_SPEC)
    argv = _started_argv(EmbeddedServer(model_file, binary=fake_binary,
                                        log_dir=tmp_path / "logs"), tmp_path)
    assert argv[-2:] == ["--spec-type", "ngram-mod"]
    assert argv.index("--offline") < argv.index("--spec-type")


@pytest.mark.parametrize(("kind", "help_text"), [
    ("none", HELP_WITH_SPEC),  # asked off
    (None, HELP_WITH_SPEC),
    ("ngram-mod", "usage: llama-server [options]\n--draft-max N"),  # an older build
    ("ngram-cache", "--spec-type none,ngram-simple,ngram-mod"),  # a kind this build lacks
])
def test_no_speculation_flag_when_off_or_the_binary_does_not_list_it(
        fake_binary, model_file, tmp_path, monkeypatch, kind, help_text):
    monkeypatch.setenv("FAKE_HELP", help_text)
    # a new binary file each time: the help text is cached by path and modification time
    argv = _started_argv(EmbeddedServer(model_file, binary=fake_binary, speculative=kind,
                                        log_dir=tmp_path / "logs"), tmp_path)
    assert "--spec-type" not in argv
    assert argv[-1] == "--offline"


def test_a_binary_that_cannot_show_its_help_starts_without_the_flag(tmp_path):
    missing = tmp_path / "no-such-llama-server"
    assert speculative_args(missing, "ngram-mod") == []
    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    assert speculative_args(broken, "ngram-mod") == []


def test_a_server_that_dies_while_loading_raises_with_the_log_tail(
        fake_binary, model_file, monkeypatch, tmp_path):
    monkeypatch.setenv("FAKE_MODE", "die")
    server = EmbeddedServer(model_file, binary=fake_binary, log_dir=tmp_path / "logs")
    with pytest.raises(EmbeddedServerError) as caught:
        server.start()
    message = str(caught.value)
    assert message.startswith(f"llama-server exited with code 3 before it was ready (model "
                              f"{model_file}).\nLast lines of {server.log_path}:\n")
    assert message.endswith("gguf_init_from_file: invalid magic characters\n"
                            "error: failed to load model")
    assert not server.running


def test_a_server_that_never_gets_healthy_times_out_and_is_killed(
        fake_binary, model_file, monkeypatch, tmp_path):
    monkeypatch.setenv("FAKE_MODE", "hang")
    server = EmbeddedServer(model_file, binary=fake_binary, startup_timeout=1.0,
                            log_dir=tmp_path / "logs")
    started = time.monotonic()
    with pytest.raises(EmbeddedServerError, match=r"did not become healthy within 1s"):
        server.start()
    assert time.monotonic() - started < 15
    assert not server.running


def test_a_port_taken_in_the_meantime_is_retried_on_another_port(
        fake_binary, model_file, monkeypatch, tmp_path):
    monkeypatch.setenv("FAKE_MODE", "bind-once")
    monkeypatch.setenv("FAKE_BIND_MARKER", str(tmp_path / "bound-once"))
    with EmbeddedServer(model_file, binary=fake_binary, log_dir=tmp_path / "logs") as server:
        assert httpx.get(f"{server.root_url}/health", trust_env=False).status_code == 200
    assert len((tmp_path / "argv.jsonl").read_text().splitlines()) == 2


def test_missing_model_or_binary_says_to_install(fake_binary, tmp_path):
    with pytest.raises(EmbeddedServerError, match=r"model file not found: .*absent\.gguf; run "
                                                  r"`smallcode model install`"):
        EmbeddedServer(tmp_path / "absent.gguf", binary=fake_binary).start()
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    with pytest.raises(EmbeddedServerError, match=r"llama-server is not built .* run `smallcode "
                                                  r"model install`"):
        EmbeddedServer(model, binary=tmp_path / "nobin" / "llama-server").start()


def test_base_url_before_start_is_an_error(model_file):
    with pytest.raises(EmbeddedServerError, match="has not been started"):
        _ = EmbeddedServer(model_file).base_url


def test_a_server_left_running_is_stopped_at_interpreter_exit(fake_binary, model_file, tmp_path):
    script = textwrap.dedent(f"""
        from pathlib import Path
        from smallcode.core.model.embedded import EmbeddedServer
        s = EmbeddedServer(Path({str(model_file)!r}), binary=Path({str(fake_binary)!r}),
                           log_dir=Path({str(tmp_path / "logs")!r})).start()
        print(s.pid, flush=True)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, env=os.environ.copy(), check=False)
    assert done.returncode == 0, done.stderr
    leader = int(done.stdout.strip())
    child = int((tmp_path / "child.pid").read_text())
    assert wait_gone(leader) and wait_gone(child)


def test_ctrl_c_while_loading_leaves_no_server_behind(fake_binary, model_file, tmp_path):
    # a background job inherits SIGINT ignored (non-interactive shells do that); Ctrl+C in a
    # terminal reaches Python's default handler, so the script restores it
    script = textwrap.dedent(f"""
        import signal
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from pathlib import Path
        from smallcode.core.model.embedded import EmbeddedServer
        try:
            EmbeddedServer(Path({str(model_file)!r}), binary=Path({str(fake_binary)!r}),
                           log_dir=Path({str(tmp_path / "logs")!r})).start()
        except KeyboardInterrupt:
            pid = Path({str(tmp_path / "argv.jsonl.pid")!r}).read_text()
            # checked before interpreter exit, where atexit would stop it anyway
            print("interrupted", "alive" if Path("/proc", pid).exists() else "gone", flush=True)
    """)
    env = {**os.environ, "FAKE_MODE": "hang"}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env=env)
    pid_file = tmp_path / "argv.jsonl.pid"
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    leader = int(pid_file.read_text())
    assert pid_alive(leader)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert out.strip() == "interrupted gone"
    assert wait_gone(leader)


# --------------------------------------------------------------------------- the real binary

REAL_BINARY = llama_server_path()
needs_binary = pytest.mark.skipif(not llama_server_runs(REAL_BINARY).ok,
                                  reason="llama-server is not built (smallcode model install)")


@needs_binary
def test_real_llama_server_given_a_non_gguf_file_fails_with_its_own_words(tmp_path):
    bogus = tmp_path / "notes.gguf"
    bogus.write_text("these are not model weights\n" * 100)
    server = EmbeddedServer(bogus, log_dir=tmp_path / "logs", startup_timeout=60)
    with pytest.raises(EmbeddedServerError) as caught:
        server.start()
    message = str(caught.value)
    assert "before it was ready" in message
    assert "failed to load model" in message or "invalid magic" in message


@needs_binary
def test_the_built_llama_server_has_the_default_n_gram_speculation():
    # the pinned llama.cpp lists it; a rebuild from a version without it would silently lose
    # the speed-up on whole-file edits
    assert speculative_args(REAL_BINARY, SPECULATIVE_DEFAULT) == ["--spec-type", "ngram-mod"]


@pytest.mark.real_model
@needs_binary
def test_real_05b_answers_a_chat_completion(tmp_path):
    model = installed_model("0.5b")
    if model is None:
        pytest.skip("the 0.5b model is not installed (smallcode model install --size 0.5b)")
    with EmbeddedServer(model, ctx=2048, parallel=1, log_dir=tmp_path / "logs") as server:
        reply = httpx.post(f"{server.base_url}/chat/completions", trust_env=False, timeout=120,
                           json={"model": "local-model", "max_tokens": 12, "temperature": 0,
                                 "messages": [{"role": "user",
                                               "content": "What is 2+3? Answer with the number."}]})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert "5" in body["choices"][0]["message"]["content"]
        assert body["usage"]["completion_tokens"] > 0
        props = httpx.get(f"{server.root_url}/props", trust_env=False).json()
        assert props["default_generation_settings"]["n_ctx"] == 2048
        # started with the n-gram drafting that is on by default
        assert "--spec-type" in server.command(server.port or 0)


@pytest.mark.real_model
@needs_binary
def test_the_installed_server_passes_its_start_up_proof_on_this_cpu():
    """The build `smallcode model install` made (reused here) serves a real completion; the
    record says which flags this CPU got and how fast the proof ran."""
    from smallcode.core.model.embedded import build_record, ensure_llama_server, prove_llama_server

    model = installed_model("0.5b") or installed_model("1.5b")
    if model is None:
        pytest.skip("no embedded model is installed (smallcode model install)")
    binary = ensure_llama_server(model=model)
    record = build_record(binary)
    assert record is not None and record.proof is not None and record.proof.ok
    assert "-DGGML_NATIVE=OFF" in record.flags and "-DGGML_AMX_TILE=OFF" in record.flags
    fresh = prove_llama_server(binary, model)  # and it still answers now
    assert fresh.ok, fresh.detail
    assert fresh.gen_tps and fresh.gen_tps > 1
    print(f"start-up proof: {fresh.describe()}; flags: {record.flags}")

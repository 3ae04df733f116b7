"""Gateway policies without HTTP: tokens, quotas, cache, affinity keys, metrics text, config."""

from __future__ import annotations

import json
import stat

import pytest
from smallcode.gateway import (
    AffinityMap,
    GatewayConfig,
    GatewayConfigError,
    MetricsRegistry,
    QuotaExceeded,
    QuotaTracker,
    ResponseCache,
    TokenStore,
    UserConfig,
    affinity_key,
    hash_token,
    is_cacheable,
    is_loopback,
    parse_backend_spec,
)


def test_token_store_keeps_only_digests_and_authenticates(tmp_path):
    path = tmp_path / "tokens.json"
    store = TokenStore(path=path)
    token = store.issue("alice", max_concurrent=2, token_quota=1000)
    assert token.startswith("sc-") and len(token) > 40
    text = path.read_text()
    assert token not in text and hash_token(token) in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    reloaded = TokenStore(path=path)
    user = reloaded.authenticate(token)
    assert user is not None and (user.name, user.max_concurrent, user.token_quota) == ("alice", 2, 1000)
    assert reloaded.authenticate(token + "x") is None
    assert reloaded.revoke("alice") and reloaded.authenticate(token) is None
    assert json.loads(path.read_text()) == {"users": []}


def test_reissuing_a_token_replaces_the_old_one(tmp_path):
    store = TokenStore(path=tmp_path / "t.json")
    old = store.issue("bob")
    new = store.issue("bob")
    assert store.authenticate(old) is None and store.authenticate(new).name == "bob"
    assert len(store) == 1


def test_a_token_issued_elsewhere_is_picked_up_without_restart(tmp_path):
    path = tmp_path / "t.json"
    configured = UserConfig(name="ops", token_sha256=hash_token("sc-ops"))
    running = TokenStore([configured], path=path)
    token = TokenStore(path=path).issue("carol")  # e.g. `smallcode token add carol`
    assert running.authenticate(token).name == "carol"
    assert running.authenticate("sc-ops").name == "ops"
    assert "ops" not in path.read_text()  # configured users stay in the config, not the file


def test_unreadable_token_file_is_a_clear_error(tmp_path):
    path = tmp_path / "t.json"
    path.write_text("{broken")
    with pytest.raises(GatewayConfigError, match="token file .* is unreadable"):
        TokenStore(path=path)


def test_quota_blocks_until_the_window_resets():
    now = [1000.0]
    q = QuotaTracker(window_s=100, clock=lambda: now[0])
    q.check("u", 50)
    q.record("u", 30)
    q.record("u", 25)
    with pytest.raises(QuotaExceeded) as exc:
        q.check("u", 50)
    assert exc.value.retry_after == 100  # the window 1000..1100 ends in 100 s
    q.check("u", None)  # no quota, no limit
    now[0] = 1100.0
    q.check("u", 50)
    assert q.used("u") == 0


@pytest.mark.parametrize(("body", "cacheable"), [
    ({"temperature": 0}, True),
    ({"temperature": 0.0, "stream": True}, False),
    ({"temperature": 0.7}, False),
    ({}, False),
    ({"temperature": 0.7, "seed": 1}, True),
    ({"temperature": 0, "n": 3}, False),
    ({"temperature": False}, False),
])
def test_only_deterministic_requests_are_cacheable(body, cacheable):
    assert is_cacheable({"messages": [{"role": "user", "content": "q"}], **body}) is cacheable


def test_response_cache_expires_and_evicts_least_recent():
    now = [0.0]
    cache = ResponseCache(max_entries=2, ttl_s=10, clock=lambda: now[0])
    bodies = [{"messages": [{"role": "user", "content": str(i)}], "temperature": 0} for i in range(3)]
    for i, b in enumerate(bodies[:2]):
        assert cache.put(b, {"n": i})
    assert cache.get(bodies[0]) == {"n": 0}  # 0 is now most recent
    cache.put(bodies[2], {"n": 2})
    assert cache.get(bodies[1]) is None and cache.get(bodies[0]) == {"n": 0}
    assert cache.get({**bodies[0], "stream": False, "user": "x"}) == {"n": 0}
    now[0] = 11.0
    assert cache.get(bodies[0]) is None and len(cache) == 1


def test_affinity_key_is_stable_as_the_conversation_grows():
    opening = [{"role": "system", "content": "s"}, {"role": "user", "content": "fix bug"}]
    later = opening + [{"role": "assistant", "content": "ok"}, {"role": "user", "content": "more"}]
    assert affinity_key({"model": "m", "messages": opening}) == affinity_key({"model": "m", "messages": later})
    assert affinity_key({"model": "m", "messages": opening}) != affinity_key(
        {"model": "m", "messages": [{"role": "user", "content": "other"}]})
    assert affinity_key({"messages": opening}, "abc") == affinity_key({"messages": later}, "abc")
    assert affinity_key({"messages": []}) is None
    amap = AffinityMap(max_entries=2)
    amap.set("k1", "a")
    amap.set("k2", "b")
    amap.set("k3", "a")
    assert amap.get("k1") is None and amap.get("k2") == "b"
    amap.forget_backend("a")
    assert amap.get("k3") is None and len(amap) == 1


def test_metrics_render_in_prometheus_text_format():
    reg = MetricsRegistry()
    c = reg.counter("req_total", "requests", ("user",))
    c.inc(user="a")
    c.inc(2, user='b"x')
    h = reg.histogram("lat_seconds", "latency", (), buckets=(0.1, 1.0))
    h.observe(0.05)
    h.observe(0.5)
    reg.gauge("depth", "queue depth", ("q",), source=lambda: {("main",): 3.0})
    text = reg.render()
    assert text.splitlines() == [
        "# HELP depth queue depth", "# TYPE depth gauge", 'depth{q="main"} 3',
        "# HELP lat_seconds latency", "# TYPE lat_seconds histogram",
        'lat_seconds_bucket{le="0.1"} 1', 'lat_seconds_bucket{le="1"} 2',
        'lat_seconds_bucket{le="+Inf"} 2', "lat_seconds_sum 0.55", "lat_seconds_count 2",
        "# HELP req_total requests", "# TYPE req_total counter",
        'req_total{user="a"} 1', 'req_total{user="b\\"x"} 2',
    ]
    with pytest.raises(ValueError, match="takes labels"):
        c.inc(other="x")
    with pytest.raises(ValueError, match="already registered"):
        reg.counter("req_total", "again")


def test_backend_spec_and_config_file_parsing(tmp_path, monkeypatch):
    b = parse_backend_spec("gpu1=http://10.0.0.5:8080,slots=8,kind=vllm,model=qwen")
    assert (b.name, b.base_url, b.slots, b.kind, b.model) == ("gpu1", "http://10.0.0.5:8080/v1", 8,
                                                              "vllm", "qwen")
    monkeypatch.setenv("KEY_VAR", "sk-123")
    anon = parse_backend_spec("https://api.example.com/v1,api_key_env=KEY_VAR,kind=openai")
    assert anon.name == "api-example-com-v1" and anon.api_key.get_secret_value() == "sk-123"
    assert "sk-123" not in repr(anon)
    with pytest.raises(GatewayConfigError, match="unknown option 'color'"):
        parse_backend_spec("http://x:1,color=red")
    with pytest.raises(GatewayConfigError, match="slots"):
        parse_backend_spec("http://x:1,slots=0")
    cfg = tmp_path / "gateway.toml"
    cfg.write_text('[gateway]\nport = 9000\nmax_queue = 5\n'
                   '[[gateway.backends]]\nname = "a"\nbase_url = "http://127.0.0.1:8080"\nslots = 2\n')
    loaded = GatewayConfig.from_file(cfg)
    assert (loaded.port, loaded.max_queue, loaded.backends[0].base_url) == (9000, 5, "http://127.0.0.1:8080/v1")
    bad = tmp_path / "bad.yaml"
    bad.write_text("backends:\n  - {name: a, base_url: ftp://x}\n  - {name: a, base_url: http://y}\n")
    with pytest.raises(GatewayConfigError, match="base_url must start with http"):
        GatewayConfig.from_file(bad)


def test_loopback_detection():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("127.8.0.3")
    assert not is_loopback("10.0.0.1") and not is_loopback(None) and not is_loopback("evil")

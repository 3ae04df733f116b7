from dbpool.health import describe
from dbpool.pool import Pool


def test_reads_max_connections():
    pool = Pool.from_settings()
    assert pool.size == 8
    assert describe(pool) == "postgresql://db/app (8 connections, 15s timeout)"


def test_missing_key_keeps_default(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('[database]\nurl = "x"\n')
    assert Pool.from_settings(str(f)).size == 4

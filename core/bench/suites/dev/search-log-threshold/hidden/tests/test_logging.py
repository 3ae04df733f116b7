from logkit import Logger


def test_threshold_level_is_logged():
    log = Logger()
    log.info("quiet")
    log.warning("disk almost full")
    log.error("disk full")
    assert log.handler.records == ["WARNING: disk almost full", "ERROR: disk full"]


def test_info_threshold():
    log = Logger(threshold="info")
    log.info("hello")
    assert log.handler.records == ["INFO: hello"]

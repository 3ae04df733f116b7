import pytest

from retry import retry


def flaky(failures):
    calls = []

    def func():
        calls.append(1)
        if len(calls) <= failures:
            raise OSError(f"failure {len(calls)}")
        return "ok"

    return func, calls


def test_succeeds_on_the_last_allowed_attempt():
    func, calls = flaky(2)
    assert retry(func, attempts=3) == "ok"
    assert len(calls) == 3


def test_gives_up_after_attempts_calls():
    func, calls = flaky(10)
    with pytest.raises(OSError, match="failure 4"):
        retry(func, attempts=4)
    assert len(calls) == 4


def test_single_attempt():
    func, calls = flaky(5)
    with pytest.raises(OSError, match="failure 1"):
        retry(func, attempts=1)

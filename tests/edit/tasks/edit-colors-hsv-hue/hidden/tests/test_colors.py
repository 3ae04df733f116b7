import pytest

from colors import hsv_to_rgb, rgb_to_hls, rgb_to_hsv


def test_hue_is_never_negative():
    h, s, v = rgb_to_hsv(1.0, 0.0, 0.5)
    assert h == pytest.approx(11 / 12)
    assert (s, v) == (1.0, 1.0)


def test_round_trip():
    for rgb in [(0.2, 0.4, 0.4), (1.0, 0.0, 0.5), (0.9, 0.1, 0.3)]:
        assert hsv_to_rgb(*rgb_to_hsv(*rgb)) == pytest.approx(rgb)


def test_hls_unchanged():
    assert rgb_to_hls(1.0, 0.0, 0.5)[0] == pytest.approx(11 / 12)

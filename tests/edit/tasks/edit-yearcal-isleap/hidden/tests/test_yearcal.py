from yearcal import isleap, leapdays, monthrange


def test_leap_years():
    assert isleap(2000) and isleap(2024) and isleap(1600)
    assert not isleap(1900) and not isleap(2023)


def test_february_2000_has_29_days():
    assert monthrange(2000, 2) == (1, 29)
    assert monthrange(1900, 2) == (3, 28)


def test_leapdays():
    assert leapdays(1900, 2001) == 25

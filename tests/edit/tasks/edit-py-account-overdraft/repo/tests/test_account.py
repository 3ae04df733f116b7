import pytest

from account import Account, InsufficientFunds


def test_withdraw_more_than_balance_is_refused():
    acc = Account("ann", 100)
    with pytest.raises(InsufficientFunds):
        acc.withdraw(150)
    assert acc.balance == 100
    assert acc.log == []


def test_transfer_without_funds_changes_nothing():
    a, b = Account("a", 50), Account("b", 0)
    with pytest.raises(InsufficientFunds):
        a.transfer(b, 80)
    assert (a.balance, b.balance) == (50, 0)


def test_normal_use():
    a, b = Account("a"), Account("b")
    a.deposit(500)
    a.transfer(b, 200)
    assert (a.balance, b.balance) == (300, 200)
    assert a.withdraw(300) == 0

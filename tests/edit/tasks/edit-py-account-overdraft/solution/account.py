"""A bank account with a transaction log."""

from __future__ import annotations

from dataclasses import dataclass, field


class InsufficientFunds(ValueError):
    pass


@dataclass
class Account:
    owner: str
    balance: int = 0  # cents
    log: list[tuple[str, int]] = field(default_factory=list)

    def deposit(self, cents: int) -> int:
        if cents <= 0:
            raise ValueError("deposit must be positive")
        self.balance += cents
        self.log.append(("deposit", cents))
        return self.balance

    def withdraw(self, cents: int) -> int:
        if cents <= 0:
            raise ValueError("withdrawal must be positive")
        if cents > self.balance:
            raise InsufficientFunds(f"balance {self.balance} is less than {cents}")
        self.balance -= cents
        self.log.append(("withdraw", cents))
        return self.balance

    def transfer(self, other: Account, cents: int) -> None:
        self.withdraw(cents)
        other.deposit(cents)

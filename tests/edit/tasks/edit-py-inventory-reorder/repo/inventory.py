"""Warehouse inventory: items, stock movements, reorder report."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


class StockError(ValueError):
    """A movement that would make stock negative, or an unknown SKU."""


@dataclass
class Item:
    sku: str
    name: str
    quantity: int = 0
    reorder_level: int = 5
    tags: list[str] = field(default_factory=list)

    def needs_reorder(self) -> bool:
        return self.quantity < self.reorder_level


@dataclass
class Movement:
    sku: str
    delta: int
    reason: str


class Inventory:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.history: list[Movement] = []

    # -- items ---------------------------------------------------------------
    def add_item(self, sku: str, name: str, quantity: int = 0, reorder_level: int = 5,
                 tags: list[str] | None = None) -> Item:
        if sku in self.items:
            raise StockError(f"{sku} already exists")
        if quantity < 0:
            raise StockError("initial quantity cannot be negative")
        item = Item(sku, name, quantity, reorder_level, list(tags or []))
        self.items[sku] = item
        return item

    def get(self, sku: str) -> Item:
        try:
            return self.items[sku]
        except KeyError:
            raise StockError(f"unknown SKU {sku}") from None

    # -- movements -----------------------------------------------------------
    def receive(self, sku: str, quantity: int, reason: str = "delivery") -> int:
        if quantity <= 0:
            raise StockError("received quantity must be positive")
        item = self.get(sku)
        item.quantity += quantity
        self.history.append(Movement(sku, quantity, reason))
        return item.quantity

    def ship(self, sku: str, quantity: int, reason: str = "order") -> int:
        if quantity <= 0:
            raise StockError("shipped quantity must be positive")
        item = self.get(sku)
        if quantity > item.quantity:
            raise StockError(f"only {item.quantity} of {sku} in stock")
        item.quantity -= quantity
        self.history.append(Movement(sku, -quantity, reason))
        return item.quantity

    def adjust(self, sku: str, counted: int) -> int:
        """Set the stock to a counted value, recording the difference."""
        item = self.get(sku)
        delta = counted - item.quantity
        if delta:
            item.quantity = counted
            self.history.append(Movement(sku, delta, "stocktake"))
        return item.quantity

    # -- reports -------------------------------------------------------------
    def reorder_report(self) -> list[str]:
        """SKUs whose stock is at or below their reorder level, sorted."""
        return sorted(sku for sku, item in self.items.items() if item.needs_reorder())

    def total_units(self, tag: str | None = None) -> int:
        return sum(i.quantity for i in self.items.values() if tag is None or tag in i.tags)

    def movements(self, sku: str) -> list[Movement]:
        return [m for m in self.history if m.sku == sku]

    # -- persistence ---------------------------------------------------------
    def save(self, path: Path) -> None:
        data = {"items": [asdict(i) for i in self.items.values()],
                "history": [asdict(m) for m in self.history]}
        Path(path).write_text(json.dumps(data, indent=2))

    @classmethod
    def load(cls, path: Path) -> Inventory:
        data = json.loads(Path(path).read_text())
        inv = cls()
        for raw in data["items"]:
            inv.items[raw["sku"]] = Item(**raw)
        inv.history = [Movement(**m) for m in data["history"]]
        return inv

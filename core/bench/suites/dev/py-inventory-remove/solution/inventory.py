class Inventory:
    """Item counts by name."""

    def __init__(self):
        self._stock = {}

    def add(self, name, qty):
        if qty <= 0:
            raise ValueError("qty must be positive")
        self._stock[name] = self._stock.get(name, 0) + qty

    def remove(self, name, qty):
        have = self._stock.get(name, 0)
        if qty > have:
            raise ValueError(f"only {have} {name} in stock")
        if qty == have:
            del self._stock[name]
        else:
            self._stock[name] = have - qty

    def count(self, name):
        return self._stock.get(name, 0)

    def names(self):
        return sorted(self._stock)

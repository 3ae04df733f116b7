class Cart:
    def __init__(self):
        self.items = {}

    def add(self, name, price, quantity=1):
        if quantity < 1 or price < 0:
            raise ValueError("bad quantity or price")
        _, old = self.items.get(name, (price, 0))
        self.items[name] = (price, old + quantity)

    def remove(self, name):
        del self.items[name]

    def count(self):
        return sum(q for _, q in self.items.values())

    def total(self, code=None):
        total = sum(p * q for p, q in self.items.values())
        if code is None:
            return total
        if code == "HALF":
            return total // 2
        if code == "TENOFF":
            return max(0, total - 1000)
        raise ValueError(f"unknown code {code}")

class Cart:
    def __init__(self):
        pass

    def add(self, name, price, quantity=1):
        pass

    def remove(self, name):
        pass

    def count(self):
        pass

    def total(self, code=None):
        pass

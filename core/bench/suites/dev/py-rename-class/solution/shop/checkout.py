from shop.cart import ShoppingCart


def checkout(pairs):
    cart = ShoppingCart()
    for name, price in pairs:
        cart.add(name, price)
    return round(cart.total(), 2)


def empty_cart() -> ShoppingCart:
    return ShoppingCart()

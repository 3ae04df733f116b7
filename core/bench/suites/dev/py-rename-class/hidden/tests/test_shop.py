from shop import ShoppingCart
from shop.cart import ShoppingCart as Direct
from shop.checkout import checkout, empty_cart


def test_class_renamed():
    assert ShoppingCart is Direct
    assert isinstance(empty_cart(), ShoppingCart)


def test_checkout():
    assert checkout([("tea", 2.5), ("cake", 3.25)]) == 5.75

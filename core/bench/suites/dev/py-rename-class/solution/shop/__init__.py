from shop.cart import ShoppingCart

__all__ = ["ShoppingCart"]

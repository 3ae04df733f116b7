DISCOUNTS = {
    "silver": 0.05,
    "gold": 0.10,
}

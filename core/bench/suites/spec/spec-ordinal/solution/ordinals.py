def ordinal(number):
    if number < 1:
        raise ValueError("ordinals start at 1")
    if number % 100 in (11, 12, 13):
        return f"{number}th"
    return f"{number}" + {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")

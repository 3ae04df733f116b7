def ordinal(number):
    pass

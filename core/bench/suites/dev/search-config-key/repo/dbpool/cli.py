from dbpool.health import describe
from dbpool.pool import Pool


def main():
    print(describe(Pool.from_settings()))

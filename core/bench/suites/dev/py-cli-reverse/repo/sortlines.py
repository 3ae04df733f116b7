import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description="Sort the lines of a file")
    parser.add_argument("path")
    args = parser.parse_args(argv)
    with open(args.path) as fh:
        lines = [line.rstrip("\n") for line in fh]
    for line in sorted(lines):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

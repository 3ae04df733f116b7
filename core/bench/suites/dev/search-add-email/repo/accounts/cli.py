import sys

from accounts.api import create_user


def main(argv=None):
    args = argv if argv is not None else sys.argv[1:]
    user = create_user(*args)
    print(user.to_dict())

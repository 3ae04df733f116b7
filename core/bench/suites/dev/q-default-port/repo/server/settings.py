import os

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7431


def port():
    return int(os.environ.get("APP_PORT", DEFAULT_PORT))

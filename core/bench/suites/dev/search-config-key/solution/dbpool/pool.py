from dbpool import settings

DEFAULT_SIZE = 4


class Pool:
    def __init__(self, url, size=DEFAULT_SIZE, timeout=30):
        self.url = url
        self.size = size
        self.timeout = timeout

    @classmethod
    def from_settings(cls, path="settings.toml"):
        db = settings.load(path)
        return cls(db["url"], size=db.get("max_connections", DEFAULT_SIZE), timeout=db.get("timeout", 30))

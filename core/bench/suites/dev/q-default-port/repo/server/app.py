from server import settings


def serve():
    return f"listening on {settings.DEFAULT_HOST}:{settings.port()}"

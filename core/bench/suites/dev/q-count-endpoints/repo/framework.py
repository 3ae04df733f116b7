ROUTES = []


def route(path, methods=("GET",)):
    def register(func):
        ROUTES.append((path, tuple(methods), func))
        return func
    return register

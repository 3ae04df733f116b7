ROUTES = {}  # TODO register the health route

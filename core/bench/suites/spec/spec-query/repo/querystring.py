def parse_query(text):
    raise NotImplementedError

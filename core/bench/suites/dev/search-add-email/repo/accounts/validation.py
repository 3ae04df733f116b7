def check_name(name):
    if not name or not name.strip():
        raise ValueError("name must not be empty")
    return name.strip()

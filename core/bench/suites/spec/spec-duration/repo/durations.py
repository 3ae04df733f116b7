def format_duration(seconds):
    pass

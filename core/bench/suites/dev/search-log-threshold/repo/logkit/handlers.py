class ListHandler:
    """Keeps formatted records in memory."""

    def __init__(self):
        self.records = []

    def emit(self, text):
        self.records.append(text)

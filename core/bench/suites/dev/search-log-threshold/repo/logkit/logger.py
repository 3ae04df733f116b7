from logkit.config import DEFAULTS
from logkit.formatters import format_record
from logkit.handlers import ListHandler
from logkit.levels import LEVELS


class Logger:
    def __init__(self, threshold=None, handler=None):
        self.threshold = threshold or DEFAULTS["threshold"]
        self.handler = handler or ListHandler()

    def should_log(self, level):
        return LEVELS[level] > LEVELS[self.threshold]

    def log(self, level, message):
        if self.should_log(level):
            self.handler.emit(format_record(level, message))

    def warning(self, message):
        self.log("warning", message)

    def error(self, message):
        self.log("error", message)

    def info(self, message):
        self.log("info", message)

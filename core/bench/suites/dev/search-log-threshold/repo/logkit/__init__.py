from logkit.logger import Logger

__all__ = ["Logger"]

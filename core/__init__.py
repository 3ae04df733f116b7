"""smallcode core: everything the agent is, in plain Python (no Ray)."""

__version__ = "0.1.0"

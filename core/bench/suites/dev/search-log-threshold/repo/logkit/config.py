DEFAULTS = {"threshold": "warning", "format": "{level}: {message}"}

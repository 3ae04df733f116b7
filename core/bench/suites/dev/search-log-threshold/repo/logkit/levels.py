LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}

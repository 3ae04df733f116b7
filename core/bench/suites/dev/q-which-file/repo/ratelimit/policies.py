DEFAULT_POLICY = {"capacity": 10, "rate": 1.0}

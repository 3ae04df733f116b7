"""The edit-task suite under tasks/ is benchmark data: its repos' tests are not ours to collect."""

collect_ignore_glob = ["tasks/*"]

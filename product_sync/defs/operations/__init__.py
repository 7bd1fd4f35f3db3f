"""Running it unattended: crashed runs failed so the queue moves (crashed_runs.py), alerts to
a chat webhook (alerts.py) and the freshness policy of the synced catalog (freshness.py)."""

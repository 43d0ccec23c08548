"""The analytics feature's SQL: keeping the rollups (rollups.py), reading them for reports
(report.py), and the event log's monthly partitions (partitions.py)."""

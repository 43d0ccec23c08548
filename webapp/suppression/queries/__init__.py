"""The suppression feature's SQL: the suppression list (suppression.py) and a contact's GDPR export
and erasure (gdpr.py)."""

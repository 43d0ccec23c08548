"""The campaigns feature's SQL: listings (listing.py), campaign rows and their lists (records.py),
and who a campaign reaches (audience.py)."""

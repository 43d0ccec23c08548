"""Inbox placement tests: seed mailboxes, a campaign's copies sent to them, where each landed."""

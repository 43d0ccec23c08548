"""Mailroom: self-hosted email marketing."""

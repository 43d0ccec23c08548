"""Routing: which transport (SMTP server or API provider) takes each message, the transports'
health, and the per-recipient-domain throttles."""

"""Every JSON API controller (mounted under /api)."""

CONTROLLERS: list = []

"""Dramatiq actors. Messages carry ids only; every actor is safe to run twice.

The worker process (`mailroom worker`) imports this module; the send pipeline's actors live here.
"""

from webapp.delivery.broker import broker  # noqa: F401  (sets the broker before any actor is declared)

"""Feedback: what providers and bounce mail report about messages already sent, recorded once each
(`record`), and the rules that follow (suppression, counters, soft-bounce rule, complaint rates)."""

from webapp.feedback.service.bounces import hard_bounced
from webapp.feedback.service.rates import Alert, Rates, alerts
from webapp.feedback.service.recording import Recorded, event_key, record
from webapp.feedback.service.rules import BounceRules

__all__ = ["Alert", "BounceRules", "Rates", "Recorded", "alerts", "event_key", "hard_bounced", "record"]

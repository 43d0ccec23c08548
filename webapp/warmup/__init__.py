"""Warm-up plans: a new sending IP (SMTP server), API provider or From domain sends a little more
each day for 30 days, its best recipients first, and stops by itself when bounces or complaints
climb."""

"""The audit log: who changed what, and who signed in or failed to (Settings → Audit log)."""

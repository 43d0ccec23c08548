"""All of the automations feature's SQL, by topic."""

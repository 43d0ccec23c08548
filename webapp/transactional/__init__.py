"""Transactional messages: POST /api/tx sends one message from a template to one address at once."""

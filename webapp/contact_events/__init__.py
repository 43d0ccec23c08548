"""Custom events: things a contact did elsewhere (a purchase, an abandoned cart), posted to the API."""

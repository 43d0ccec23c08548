"""Domain rules. No Litestar imports here: services raise webapp.services.errors exceptions."""

"""A/B tests: 2 to 8 variants of a campaign, honest statistics on them, and the choice of a winner."""

"""Staff pages of analytics: a campaign's report and the comparison of campaigns."""

"""Lead scoring and lifecycle: points from a contact's activity, a grade and a lifecycle stage."""

"""Revenue attribution: conversions (orders) posted by the API or the signed pixel on a shop's
thank-you page, each credited to the contact's last human click within a window."""

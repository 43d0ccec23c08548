"""API email providers (Amazon SES, SendGrid, Postmark, Mailgun) that send campaigns beside the SMTP servers."""

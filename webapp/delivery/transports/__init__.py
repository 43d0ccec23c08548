"""The ways a message leaves: the Transport interface every SMTP server pool and API provider
implements (base.py), the order the Mailer tries them in (order.py), and one module per API
provider kind with the micro-batching they share."""

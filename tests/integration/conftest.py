from tests.support.webhook_receiver import receiver  # noqa: F401  (an HTTP server recording webhook requests)
from tests.support.workers import worker  # noqa: F401  (fixture for the send pipeline tests)

from tests.support.workers import worker  # noqa: F401  (fixture for the send pipeline tests)

"""Configuration. The only module that reads os.environ; every value has a documented default."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


@dataclass(frozen=True)
class PathSettings:
    data_dir: Path = field(default_factory=lambda: Path(_env("MAILROOM_DATA_DIR", ".data")).resolve())


@dataclass(frozen=True)
class DatabaseSettings:
    # Empty means "start the embedded PostgreSQL under data_dir" (see webapp.embedded).
    url: str = field(default_factory=lambda: _env("DATABASE_URL", ""))
    # A streaming replica of that database for reports and analytics (empty: they read the primary).
    replica_url: str = field(default_factory=lambda: _env("DATABASE_REPLICA_URL", ""))
    pool_size: int = field(default_factory=lambda: _env_int("DATABASE_POOL_SIZE", 10))
    echo: bool = field(default_factory=lambda: _env_bool("DATABASE_ECHO", False))


@dataclass(frozen=True)
class RedisSettings:
    # Empty means "start the embedded Redis under data_dir".
    url: str = field(default_factory=lambda: _env("REDIS_URL", ""))
    # "redis" in every real deployment; "stub" runs actors in-process (tests only).
    broker: str = field(default_factory=lambda: _env("MAILROOM_BROKER", "redis"))
    # Where Dramatiq's messages go: empty means the Redis above; amqp:// or amqps:// a RabbitMQ
    # server (a redis:// or unix:// URL, another Redis). Every web and worker host must use the same.
    broker_url: str = field(default_factory=lambda: _env("BROKER_URL", ""))


@dataclass(frozen=True)
class ServerSettings:
    host: str = field(default_factory=lambda: _env("MAILROOM_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: _env_int("MAILROOM_PORT", 8000))
    base_url: str = field(default_factory=lambda: _env("MAILROOM_BASE_URL", ""))
    web_workers: int = field(default_factory=lambda: _env_int("MAILROOM_WEB_WORKERS", 1))
    worker_processes: int = field(default_factory=lambda: _env_int("MAILROOM_WORKER_PROCESSES", 1))
    worker_threads: int = field(default_factory=lambda: _env_int("MAILROOM_WORKER_THREADS", 4))
    log_level: str = field(default_factory=lambda: _env("LOG_LEVEL", "info"))

    @property
    def public_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")


@dataclass(frozen=True)
class SecuritySettings:
    # Empty means "generate once and keep it in data_dir/secret_key" (fine for one machine;
    # set it explicitly when several web processes or hosts share the database).
    secret_key: str = field(default_factory=lambda: _env("MAILROOM_SECRET_KEY", ""))
    secure_cookies: bool = field(default_factory=lambda: _env_bool("MAILROOM_SECURE_COOKIES", False))
    session_max_age: int = field(default_factory=lambda: _env_int("MAILROOM_SESSION_MAX_AGE", 8 * 3600))
    login_max_failures_per_account: int = field(
        default_factory=lambda: _env_int("MAILROOM_LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)
    )
    login_max_failures_per_ip: int = field(default_factory=lambda: _env_int("MAILROOM_LOGIN_MAX_FAILURES_PER_IP", 20))
    login_lockout_seconds: int = field(default_factory=lambda: _env_int("MAILROOM_LOGIN_LOCKOUT_SECONDS", 900))
    # argon2id's cost: RFC 9106's second recommended option (3 passes over 64 MiB, 4 lanes) unless
    # hashing speed matters more than resistance to guessing, as in the test suite.
    password_time_cost: int = field(default_factory=lambda: _env_int("MAILROOM_PASSWORD_TIME_COST", 3))
    password_memory_kib: int = field(default_factory=lambda: _env_int("MAILROOM_PASSWORD_MEMORY_KIB", 64 * 1024))
    password_parallelism: int = field(default_factory=lambda: _env_int("MAILROOM_PASSWORD_PARALLELISM", 4))


@dataclass(frozen=True)
class DeliverySettings:
    batch_size: int = field(default_factory=lambda: _env_int("MAILROOM_SEND_BATCH_SIZE", 200))
    # A claimed delivery whose worker has not reported back within this many seconds is claimed
    # again (the worker is presumed dead). Longer than any batch takes to send.
    lease_seconds: int = field(default_factory=lambda: _env_int("MAILROOM_SEND_LEASE_SECONDS", 120))
    max_attempts: int = field(default_factory=lambda: _env_int("MAILROOM_SEND_MAX_ATTEMPTS", 5))
    # A 4xx reply is retried after base, 2*base, 4*base ... seconds (at most an hour).
    retry_base_seconds: int = field(default_factory=lambda: _env_int("MAILROOM_SEND_RETRY_BASE_SECONDS", 60))
    pause_after_failures: int = field(default_factory=lambda: _env_int("MAILROOM_PAUSE_AFTER_FAILURES", 50))
    # host:port of a catch-all SMTP server used when no server is configured in the UI (dev mode).
    dev_smtp: str = field(default_factory=lambda: _env("MAILROOM_DEV_SMTP", ""))
    # Port of the capture SMTP server `mailroom dev` starts on 127.0.0.1 (mail shown on /outbox).
    dev_smtp_port: int = field(default_factory=lambda: _env_int("MAILROOM_DEV_SMTP_PORT", 8025))
    scheduler_interval: float = field(default_factory=lambda: float(_env("MAILROOM_SCHEDULER_INTERVAL", "10")))


@dataclass(frozen=True)
class ContentCheckSettings:
    """The pre-send content check: where SpamAssassin and DNS answer, and how long each may take."""

    # host:port of a spamd (SpamAssassin's daemon); empty: only Mailroom's own checks run.
    spamd: str = field(default_factory=lambda: _env("MAILROOM_SPAMD", ""))
    spamd_timeout: float = field(default_factory=lambda: float(_env("MAILROOM_SPAMD_TIMEOUT", "10")))
    # host:port of the DNS resolver asked for SPF, DKIM and DMARC records; empty: the system's.
    dns_server: str = field(default_factory=lambda: _env("MAILROOM_DNS_SERVER", ""))
    dns_timeout: float = field(default_factory=lambda: float(_env("MAILROOM_DNS_TIMEOUT", "3")))


@dataclass(frozen=True)
class SubscriptionSettings:
    """Public subscribe pages: confirmation links, and the abuse guards."""

    # A double opt-in confirmation link works for this many hours.
    confirm_max_age_hours: int = field(default_factory=lambda: _env_int("MAILROOM_SUBSCRIBE_CONFIRM_HOURS", 48))
    # Sign-ups one IP address may post per window before it gets 429 until the window ends.
    rate_limit: int = field(default_factory=lambda: _env_int("MAILROOM_SUBSCRIBE_RATE_LIMIT", 10))
    rate_window_seconds: int = field(default_factory=lambda: _env_int("MAILROOM_SUBSCRIBE_RATE_WINDOW", 600))
    # At most one confirmation email per address in this many seconds.
    resend_interval_seconds: int = field(default_factory=lambda: _env_int("MAILROOM_SUBSCRIBE_RESEND_SECONDS", 3600))


@dataclass(frozen=True)
class TransactionalSettings:
    """POST /api/tx: messages one API key may send per window before it gets 429 until the window ends."""

    rate_limit: int = field(default_factory=lambda: _env_int("MAILROOM_TX_RATE_LIMIT", 600))
    rate_window_seconds: int = field(default_factory=lambda: _env_int("MAILROOM_TX_RATE_WINDOW", 60))


@dataclass(frozen=True)
class ImportSettings:
    """Contact import: uploaded files wait here until a worker reads them, so the web app and the
    workers must share this directory (compose mounts one volume into both)."""

    upload_dir: Path = field(
        default_factory=lambda: Path(
            _env("MAILROOM_UPLOAD_DIR", "") or Path(_env("MAILROOM_DATA_DIR", ".data")) / "uploads"
        ).resolve()
    )
    # Largest file accepted for an import, in bytes.
    max_bytes: int = field(default_factory=lambda: _env_int("MAILROOM_IMPORT_MAX_BYTES", 512 * 1024 * 1024))
    # Memory a process reading an uploaded file may add to what it needs to start, in MB: a workbook
    # built to unzip to gigabytes stops there with a message naming the limit.
    read_memory_mb: int = field(default_factory=lambda: _env_int("MAILROOM_IMPORT_READ_MEMORY_MB", 512))
    # Rows loaded (and progress published) per transaction.
    chunk_rows: int = field(default_factory=lambda: _env_int("MAILROOM_IMPORT_CHUNK_ROWS", 50_000))
    # Chunks loaded side by side, each over its own database connection.
    loaders: int = field(default_factory=lambda: _env_int("MAILROOM_IMPORT_LOADERS", 2))
    # A queued or running import that no worker holds and that has not moved for this long (its worker
    # died) is started again by the scheduler tick; it resumes after its last loaded chunk.
    stall_seconds: int = field(default_factory=lambda: _env_int("MAILROOM_IMPORT_STALL_SECONDS", 60))


@dataclass(frozen=True)
class EventSettings:
    # Tracking events the event worker applies in one transaction.
    batch_size: int = field(default_factory=lambda: _env_int("MAILROOM_EVENTS_BATCH_SIZE", 5000))
    # Events a worker read but did not acknowledge within this many seconds (it died, or its
    # transaction failed) are claimed by another worker and applied again.
    claim_idle_seconds: float = field(default_factory=lambda: float(_env("MAILROOM_EVENTS_CLAIM_IDLE_SECONDS", "30")))
    # Raw events (email_events) are dropped a month partition at a time once the whole month is older
    # than this; the analytics rollups are kept.
    retention_days: int = field(default_factory=lambda: _env_int("ANALYTICS_DATA_RETENTION_DAYS", 730))


@dataclass(frozen=True)
class SegmentSettings:
    """Segment rules are typed by people and can ask for a lot (100 conditions over every contact
    and event): counting or previewing their matches in a request, or exporting them, stops after
    this long. A campaign's selection of its recipients when it starts has a limit of its own, short
    of the 30 minutes its worker job may run (delivery/actors.py), so it fails saying why instead
    of being stopped and tried again without end."""

    live_count_seconds: float = field(default_factory=lambda: float(_env("MAILROOM_SEGMENT_LIVE_COUNT_SECONDS", "5")))
    count_seconds: float = field(default_factory=lambda: float(_env("MAILROOM_SEGMENT_COUNT_SECONDS", "30")))
    send_seconds: float = field(default_factory=lambda: float(_env("MAILROOM_SEGMENT_SEND_SECONDS", "1200")))


@dataclass(frozen=True)
class Settings:
    paths: PathSettings = field(default_factory=PathSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    events: EventSettings = field(default_factory=EventSettings)
    imports: ImportSettings = field(default_factory=ImportSettings)
    segments: SegmentSettings = field(default_factory=SegmentSettings)
    subscriptions: SubscriptionSettings = field(default_factory=SubscriptionSettings)
    content_check: ContentCheckSettings = field(default_factory=ContentCheckSettings)
    transactional: TransactionalSettings = field(default_factory=TransactionalSettings)
    admin_email: str = field(default_factory=lambda: _env("MAILROOM_ADMIN_EMAIL", "admin@example.com"))

    def secret_key(self) -> str:
        if self.security.secret_key:
            return self.security.secret_key
        path = self.paths.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()

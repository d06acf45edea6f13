"""Settings from the environment (prefix CROSSPROMO_), with safe local defaults."""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CROSSPROMO_", env_file=None, extra="ignore")

    var_dir: Path = Path("var")
    # May carry a password: kept out of repr() and logs.
    database_url: str = Field(default="", repr=False)
    # A streaming replica of a PostgreSQL primary: read-only requests read there (see
    # crosspromo/replica.py); skipped while it lags more than `replica_max_lag_seconds`.
    # A browser that wrote reads from the primary for `fresh_read_seconds` afterwards.
    database_replica_url: str = Field(default="", repr=False)
    replica_max_lag_seconds: float = Field(default=5.0, gt=0, le=3600)
    fresh_read_seconds: int = Field(default=5, ge=1, le=3600)
    # Behind pgbouncer in transaction mode: no server-side prepared statements.
    database_pooler: bool = False
    # Shared short-lived state for many app servers: rate limits and the scheduled-job lock
    # go to Redis when set (the database serves both otherwise).
    redis_url: str = Field(default="", repr=False)
    secret_key: SecretStr = SecretStr("")
    default_country: str = "RU"
    default_currency: str = "RUB"
    default_timezone: str = "Europe/Moscow"
    default_locale: str = "en"
    session_days: int = 14
    # Cookies marked Secure only work over HTTPS; the local demo serves plain HTTP.
    secure_cookies: bool = False
    import_max_line_bytes: int = Field(default=1_000_000, ge=1_000)
    # An import's size once decompressed (gzip bombs) and its rows; past either the whole
    # file is refused. Page uploads run in a bounded pool: so many at once, so many waiting.
    import_max_bytes: int = Field(default=1 << 30, ge=1 << 16)
    import_max_rows: int = Field(default=5_000_000, ge=1)
    import_workers: int = Field(default=2, ge=1, le=32)
    import_queue: int = Field(default=4, ge=0, le=1000)
    # A PSI request body (an encrypted set: about 40 bytes per identifier).
    psi_max_request_bytes: int = Field(default=64 << 20, ge=1 << 10)
    # Partner suggestions: criteria weights (relative) and the default search radius.
    match_radius_km: float = Field(default=15.0, gt=0)
    match_weight_complementarity: float = Field(default=0.30, ge=0)
    match_weight_overlap: float = Field(default=0.20, ge=0)
    match_weight_cycle: float = Field(default=0.15, ge=0)
    match_weight_price: float = Field(default=0.10, ge=0)
    match_weight_distance: float = Field(default=0.10, ge=0)
    match_weight_balance: float = Field(default=0.05, ge=0)
    match_weight_channel: float = Field(default=0.05, ge=0)
    match_weight_record: float = Field(default=0.05, ge=0)
    # `crosspromo worker` relearns partner relations after each import and over everyone
    # on this schedule (hours).
    match_relearn_hours: float = Field(default=24.0, gt=0)
    # E-mail: without an SMTP host, notifications stay in the app and the outbox skips e-mail.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    mail_from: str = "crosspromo <noreply@localhost>"
    # Where links in e-mails and QR codes point.
    public_url: str = "http://127.0.0.1:8000"
    # Messages to customers (crosspromo.messaging). DKIM signs e-mail when a selector,
    # domain and private key file are set. The SMS gateway is any HTTP endpoint taking a
    # form or JSON POST; its field names and auth header are configurable. Telegram goes to
    # the Bot API (its base URL is a setting so tests and proxies can stand in).
    dkim_selector: str = ""
    dkim_domain: str = ""
    dkim_key_file: Path | None = None
    sms_gateway_url: str = ""
    sms_gateway_auth: SecretStr = SecretStr("")  # sent as the Authorization header
    sms_gateway_json: bool = False
    sms_gateway_to_field: str = "to"
    sms_gateway_text_field: str = "text"
    sms_gateway_from_field: str = "from"
    sms_sender: str = ""
    telegram_api_url: str = "https://api.telegram.org"
    telegram_bot_token: SecretStr = SecretStr("")
    # Sends per provider per worker process, in `limits` notation.
    message_rate_email: str = "20/second"
    message_rate_sms: str = "5/second"
    message_rate_telegram: str = "25/second"
    # Marketing messages one person gets per ISO week from every business together
    # (a business may set a stricter cap of its own).
    messages_weekly_cap: int = Field(default=3, ge=1, le=100)
    # Quiet hours in each recipient's zone (a business may set its own): a message due then
    # waits for the first minute after them. Equal hours: no quiet hours.
    messages_quiet_from: int = Field(default=21, ge=0, le=23)
    messages_quiet_until: int = Field(default=9, ge=0, le=23)
    # Partner content: the rolling window of the 80/20 rule.
    partner_share_days: int = Field(default=30, ge=1, le=365)
    outbox_max_attempts: int = Field(default=8, ge=1)
    # A worker's claim on a batch; a crashed worker's batch goes to the others after this.
    outbox_lease_seconds: int = Field(default=300, ge=5, le=86400)
    # Sent and skipped outbox rows (they hold recipients and texts) are deleted after this.
    outbox_keep_days: int = Field(default=30, ge=1, le=3650)
    # Development only: webhooks over plain http and to loopback/private addresses.
    webhooks_allow_private: bool = False
    # Code checks and redemptions per caller (API key or person) and per client address,
    # in `limits` notation. Storage: "database" (default: the app's own database, shared by
    # every worker process), "redis://host:6379/0" for larger installs, "memory://" for one
    # process only (tests).
    till_rate_limit: str = "120/minute"
    till_rate_limit_per_address: str = "300/minute"
    # Kept out of repr(): a Redis URL or the database storage may carry a password.
    rate_limit_storage: str = Field(default="database", repr=False)
    # Database connections per worker process. Requests that use the database run at most
    # `db_pool_size` at a time per process (others wait their turn, up to
    # `request_queue_seconds`); the overflow serves short side units of work (audit rows).
    # A connection not free within `db_pool_timeout` seconds answers 503 with Retry-After.
    # With PostgreSQL keep workers x (pool size + overflow) below its max_connections.
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    db_pool_timeout: float = Field(default=5.0, gt=0, le=60)
    request_queue_seconds: float = Field(default=30.0, gt=0, le=300)
    retry_after_seconds: int = Field(default=2, ge=1, le=3600)
    # Sign-in: failed attempts per account and per client address (each costs an argon2
    # hash); sign-up: all attempts per client address and per e-mail.
    signin_failures_per_account: str = "10 per 15 minutes"
    signin_failures_per_address: str = "50 per 15 minutes"
    signup_rate_limit_per_address: str = "10 per hour"
    signup_rate_limit_per_email: str = "3 per hour"
    # Public lead request forms: submissions per client address.
    lead_form_rate_limit_per_address: str = "20 per hour"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.var_dir / 'crosspromo.db').resolve()}"

    def resolved_secret_key(self) -> str:
        """The install secret: from the environment, else generated once into var/."""
        if self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value()
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@cache
def get_settings() -> Settings:
    return Settings()

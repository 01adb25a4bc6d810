"""Configuration: TOML read with tomllib, validated by pydantic models that forbid unknown keys.

Every section is optional and has the embedded default. A command validates only the sections it
reads, so `parse --config F` works with a file that holds nothing but `[parties]`. Any mistake is a
`ConfigError` naming the file, the dotted key and what was expected. Secrets are never in the file:
keys ending in `_env` name the environment variable that holds them.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from inbox_agent.bundled import bundled_dir
from inbox_agent.errors import ConfigError
from inbox_agent.security.secrets import writable_by_others

STORE_LANGUAGES = ("en", "fr", "es", "de", "pt", "it", "nl")


class Section(BaseModel):
    """Base of every section: unknown keys are errors, values are checked strictly."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreWording(Section):
    """The store's own words in one language; empty keys fall back to [store]."""

    signature: str = ""
    tagline: str = ""


class StoreConfig(Section):
    name: str = "Demo Store"
    support_address: str = "support@store.example"
    signature: str = "The Demo Store support team"
    tagline: str = ""
    wording: dict[str, StoreWording] = Field(default_factory=dict)
    default_language: str = "en"
    default_country: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    languages: list[str] = Field(default_factory=lambda: list(STORE_LANGUAGES))
    phone: str = ""
    url: str = ""
    keep_raw_days: float = Field(default=90.0, gt=0)
    order_prefix: str = Field(default="", pattern=r"^[A-Za-z]{0,5}$")


class DatabaseConfig(Section):
    url: str = "sqlite:///var/inbox-agent.db"


class Folders(Section):
    inbox: str = "INBOX"
    review: str = "Review"
    approved: str = "Approved"
    rejected: str = "Rejected"
    sent: str = "Sent"
    attention: str = "Needs attention"


class OAuth2Login(Section):
    """How a mail server login gets its password: `auth = "oauth2"` logs in with SASL XOAUTH2
    (OAUTHBEARER where the IMAP server offers it) using access tokens from `token_url`'s refresh
    grant; the client id, secret and refresh token come from the environment."""

    auth: Literal["password", "oauth2"] = "password"
    token_url: str | None = None
    client_id_env: str | None = None
    client_secret_env: str | None = None
    refresh_token_env: str | None = None
    scope: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> OAuth2Login:
        if self.auth == "oauth2":
            missing = [k for k in ("token_url", "client_id_env", "refresh_token_env") if not getattr(self, k)]
            if missing:
                raise ValueError(f"auth = 'oauth2' needs {', '.join(missing)}")
        return self


class ImapConfig(OAuth2Login):
    host: str
    port: int = 993
    tls: Literal["implicit", "starttls", "none"] = "implicit"
    username: str
    password_env: str = ""
    folders: Folders = Field(default_factory=Folders)
    idle: bool = True
    poll_seconds: float = Field(default=30.0, gt=0)
    review_poll_seconds: float = Field(default=5.0, gt=0)
    ca_file: str | None = None
    since: date | None = None
    backfill_auto: bool = False

    @model_validator(mode="after")
    def _password(self) -> ImapConfig:
        if self.auth == "password" and not self.password_env:
            raise ValueError("auth = 'password' needs password_env")
        return self

    def password(self) -> str:
        return secret_from_env(self.password_env, "imap.password_env")


class MaildirConfig(Section):
    path: str = "var/mail"
    folders: Folders = Field(default_factory=Folders)
    poll_seconds: float = Field(default=0.2, gt=0)
    smtp_listen: str = "127.0.0.1:2525"
    folder_encoding: Literal["utf-7", "utf-8"] = "utf-7"
    since: date | None = None
    backfill_auto: bool = False


class SmtpConfig(OAuth2Login):
    host: str
    port: int = 587
    tls: Literal["implicit", "starttls", "none"] = "starttls"
    username: str = ""
    password_env: str = ""
    ca_file: str | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)

    def password(self) -> str:
        return secret_from_env(self.password_env, "smtp.password_env") if self.password_env else ""


class PartiesConfig(Section):
    suppliers: list[str] = Field(default_factory=list)
    distributors: list[str] = Field(default_factory=list)

    @field_validator("suppliers", "distributors")
    @classmethod
    def _addresses(cls, values: list[str]) -> list[str]:
        for v in values:
            if "@" not in v or any(c.isspace() for c in v):
                raise ValueError(f"{v!r} is neither an address nor '@domain'")
        return [v.lower() for v in values]


class TrackingProvider(Section):
    enabled: bool = True
    base_url: str | None = None
    api_key_env: str | None = None
    client_id_env: str | None = None
    client_secret_env: str | None = None
    password_env: str | None = None
    account_number_env: str | None = None
    timeout_seconds: float = Field(default=15.0, gt=0)
    rate_per_second: float | None = Field(default=None, gt=0)
    burst: int | None = Field(default=None, ge=1)
    attempts: int = Field(default=4, ge=1, le=10)
    backoff_seconds: float = Field(default=1.0, ge=0)
    max_wait_seconds: float = Field(default=30.0, ge=0)


class TrackingConfig(Section):
    ttl_minutes: float = Field(default=60.0, gt=0)
    sample_data: bool | None = None
    seventeen_track: TrackingProvider | None = None
    cainiao: TrackingProvider | None = None
    yunexpress: TrackingProvider | None = None
    usps: TrackingProvider | None = None
    laposte: TrackingProvider | None = None
    australia_post: TrackingProvider | None = None
    royal_mail: TrackingProvider | None = None
    dhl: TrackingProvider | None = None
    aftership: TrackingProvider | None = None
    trackingmore: TrackingProvider | None = None

    def providers(self) -> dict[str, TrackingProvider]:
        names = ("seventeen_track", "cainiao", "yunexpress", "usps", "laposte", "australia_post",
                 "royal_mail", "dhl", "aftership", "trackingmore")
        return {n: p for n in names if (p := getattr(self, n)) is not None and p.enabled}

    def uses_sample_data(self) -> bool:
        return self.sample_data if self.sample_data is not None else not self.providers()


class RepliesConfig(Section):
    mode: Literal["draft", "auto"] = "draft"
    templates: dict[str, Literal["draft", "auto"]] = Field(default_factory=dict)
    max_auto_per_sender_per_day: int = Field(default=5, ge=1)

    def mode_for(self, template: str) -> str:
        return self.templates.get(template, self.mode)


class KitConfig(Section):
    show_unverified: bool = False
    page_screenshot: bool = False
    browser: str | None = None
    directory_overrides: str | None = None


DEFAULT_TIMER_HOURS = {
    "customer_followup": 5 * 24.0,
    "customer_close": 14 * 24.0,
    "distributor_reminder": 48.0,
    "supplier_reminder": 48.0,
    "approval_overdue": 24.0,
}


class PlaybookConfig(Section):
    """Durations and switches of the playbook (the rules themselves are rules/playbook.yaml)."""

    ack: bool = False
    timers: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_TIMER_HOURS))
    dispute_window_days: float = Field(default=15.0, gt=0)
    dispute_warning_days: float = Field(default=3.0, ge=0)

    @field_validator("timers")
    @classmethod
    def _positive(cls, values: dict[str, float]) -> dict[str, float]:
        for name, hours in values.items():
            if hours <= 0:
                raise ValueError(f"timer {name!r} must last more than 0 hours")
        return {**DEFAULT_TIMER_HOURS, **values}


class OrderColumns(Section):
    """Header names of the orders CSV, for exports whose columns are named otherwise."""

    order: str = "order"
    email: str = "email"
    name: str = "name"
    country: str = "country"
    tracking_number: str = "tracking_number"
    carrier: str = "carrier"
    supplier: str = "supplier"
    supplier_order: str = "supplier_order"
    created_at: str = "created_at"


class ShopifyOrders(Section):
    shop: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    api_version: str = Field(default="2025-07", pattern=r"^(\d{4}-\d{2}|unstable)$")
    access_token_env: str
    base_url: str | None = None


class WooCommerceOrders(Section):
    url: str = Field(pattern=r"^https?://")
    consumer_key_env: str
    consumer_secret_env: str
    supplier_order_meta: str = ""


class OrdersConfig(Section):
    """Where the store's orders are: one of a CSV file, Shopify or WooCommerce."""

    csv: str | None = None
    columns: OrderColumns = Field(default_factory=OrderColumns)
    shopify: ShopifyOrders | None = None
    woocommerce: WooCommerceOrders | None = None
    recent_days: float = Field(default=60.0, gt=0)
    supplier_order_pattern: str = r"\b\d{16}\b"
    timeout_seconds: float = Field(default=15.0, gt=0)
    rate_per_second: float | None = Field(default=2.0, gt=0)
    attempts: int = Field(default=4, ge=1, le=10)
    backoff_seconds: float = Field(default=1.0, ge=0)
    max_wait_seconds: float = Field(default=30.0, ge=0)

    @model_validator(mode="after")
    def _one_source(self) -> OrdersConfig:
        chosen = [n for n in ("csv", "shopify", "woocommerce") if getattr(self, n) is not None]
        if len(chosen) != 1:
            raise ValueError(f"set exactly one of csv, shopify, woocommerce (got {', '.join(chosen) or 'none'})")
        return self


SAMPLE_ORDERS_CSV = Path(__file__).resolve().parent / "orders" / "sample_orders.csv"


class SecurityConfig(Section):
    """Who is trusted, and how much one sender can make the daemon do (docs/security.md)."""

    trusted_authserv_id: str = ""
    verify_dkim: bool = True
    max_tracking_per_message: int = Field(default=10, ge=1)
    max_tracking_per_sender_per_day: int = Field(default=30, ge=1)
    max_paid_lookups_per_day: int = Field(default=500, ge=1)
    max_auto_per_case_per_day: int = Field(default=5, ge=1)


class RetryOverride(Section):
    """One stage's retry values; unset ones keep the default (stages/retry.py)."""

    attempts: int | None = Field(default=None, ge=1, le=100)
    backoff_seconds: float | None = Field(default=None, ge=0)
    max_backoff_seconds: float | None = Field(default=None, ge=0)
    give_up_hours: float | None = Field(default=None, gt=0)


class RetryConfig(Section):
    process: RetryOverride | None = None
    track: RetryOverride | None = None
    draft: RetryOverride | None = None
    send: RetryOverride | None = None
    orders: RetryOverride | None = None
    timers: RetryOverride | None = None


class LlmConfig(Section):
    """An OpenAI-compatible chat-completions endpoint asked when the local reader is unsure."""

    enabled: bool = False
    base_url: str = "http://127.0.0.1:8080/v1"
    model: str = "local"
    api_key_env: str | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)
    attempts: int = Field(default=2, ge=1, le=5)
    daily_budget: int = Field(default=200, ge=0)
    max_chars: int = Field(default=2000, ge=100)


class ReadingConfig(Section):
    """How sure the intent reader must be to act, and where it keeps its model and taught examples."""

    min_confidence: float = Field(default=0.8, ge=0, le=1)
    examples: str = "var/training"
    cache_dir: str | None = None
    teach_folders: str = Field(default="Teach/{intent}", pattern=r"^[^{}]*\{intent\}[^{}]*$")
    llm: LlmConfig = Field(default_factory=LlmConfig)

    def cache_path(self) -> Path:
        """`cache_dir`, else $XDG_CACHE_HOME/inbox-agent, else ~/.cache/inbox-agent."""
        if self.cache_dir:
            return Path(self.cache_dir)
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "inbox-agent"


class PathsConfig(Section):
    rules: str = str(bundled_dir("rules"))
    templates: str = str(bundled_dir("templates"))


class Config(Section):
    """The whole file. `source` is where it came from, for error messages."""

    store: StoreConfig = Field(default_factory=StoreConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    imap: ImapConfig | None = None
    maildir: MaildirConfig | None = None
    smtp: SmtpConfig | None = None
    parties: PartiesConfig = Field(default_factory=PartiesConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    replies: RepliesConfig = Field(default_factory=RepliesConfig)
    kit: KitConfig = Field(default_factory=KitConfig)
    playbook: PlaybookConfig = Field(default_factory=PlaybookConfig)
    security: SecurityConfig = Field(default_factory=SecurityConfig)
    paths: PathsConfig = Field(default_factory=PathsConfig)
    orders: OrdersConfig | None = None
    retry: RetryConfig = Field(default_factory=RetryConfig)
    reading: ReadingConfig = Field(default_factory=ReadingConfig)
    source: str = "<embedded default>"

    def mailbox_is_embedded(self) -> bool:
        return self.imap is None


SECTIONS = tuple(name for name in Config.model_fields if name != "source")


def with_backfill(config: Config, since: date | None, auto: bool) -> Config:
    """`config` with its mailbox's `since` / `backfill_auto` set (`run --since`, `--backfill-auto`)."""
    changes: dict[str, Any] = {"backfill_auto": auto} | ({"since": since} if since else {})
    if config.imap is not None:
        return config.model_copy(update={"imap": config.imap.model_copy(update=changes)})
    return config.model_copy(update={"maildir": (config.maildir or MaildirConfig()).model_copy(update=changes)})


def secret_from_env(variable: str, key: str) -> str:
    """Read a secret from the environment; its value never appears in errors or logs."""
    value = os.environ.get(variable)
    if not value:
        raise ConfigError("environment", key, f"variable {variable} is not set")
    return value


def load_config(path: str | Path | None, sections: Iterable[str] | None = None) -> Config:
    """Read and validate `path` (or the embedded default when None).

    Only `sections` are validated when given; the others keep their defaults. Raises ConfigError.
    """
    if path is None:
        return Config(orders=OrdersConfig(csv=str(SAMPLE_ORDERS_CSV)))
    source = str(path)
    if (warning := writable_by_others(Path(path))) is not None:
        print(warning, file=sys.stderr)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(source, "", f"cannot be read ({e.strerror or e})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(source, "", f"is not valid TOML ({e})") from None
    wanted = set(sections) if sections is not None else set(SECTIONS)
    if sections is None:
        for key in data:
            if key not in SECTIONS:
                raise ConfigError(source, key, f"unknown section; expected one of {', '.join(SECTIONS)}")
    picked: dict[str, Any] = {k: v for k, v in data.items() if k in wanted}
    picked["source"] = source
    try:
        config = Config.model_validate(picked)
    except ValidationError as e:
        raise _config_error(source, e) from None
    if config.imap is not None and config.maildir is not None:
        raise ConfigError(source, "imap/maildir", "set one mailbox, not both")
    if "paths" in picked and "rules" in (picked.get("paths") or {}):
        if not Path(config.paths.rules).is_dir():
            raise ConfigError(source, "paths.rules", f"a folder of rules ({config.paths.rules} is not one)")
        from inbox_agent.rules import use_rules_dir

        use_rules_dir(config.paths.rules)
    return config


MOVED_KEYS = {"smtp.retry_hours": "[retry.send] give_up_hours",
              "smtp.max_backoff_seconds": "[retry.send] max_backoff_seconds"}


def _config_error(source: str, error: ValidationError) -> ConfigError:
    first = error.errors()[0]
    key = ".".join(str(p) for p in first["loc"])
    kind = first["type"]
    if kind == "extra_forbidden":
        expected = f"moved to {MOVED_KEYS[key]}" if key in MOVED_KEYS else "unknown key"
    elif kind == "missing":
        expected = "required key is missing"
    else:
        expected = f"{first['msg']} (got {first.get('input')!r})"
    return ConfigError(source, key, expected)


def check_timers(config: Config) -> None:
    """Every timer the playbook starts has a duration; ConfigError names the missing one."""
    from inbox_agent.playbook import load_playbook

    missing = sorted(load_playbook().timers() - set(config.playbook.timers) - {"dispute_warning"})
    if missing:
        raise ConfigError(config.source, "playbook.timers", f"a duration in hours for {', '.join(missing)}")

"""Settings from the environment (and an optional .env file), validated at start-up."""
from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XINYI_", env_file=".env", extra="ignore")

    # Infrastructure. Unset → the embedded Redis / the local Rasa server that `xinyi run` starts.
    redis_url: str | None = Field(None, validation_alias=AliasChoices("REDIS_URL", "XINYI_REDIS_URL"))
    rasa_url: str | None = Field(None, validation_alias=AliasChoices("RASA_URL", "XINYI_RASA_URL"))
    rasa_timeout_s: float = 0.4
    data_dir: Path = ROOT / "var"

    # Secrets: required, never defaulted.
    id_secret: SecretStr = Field(min_length=16, description="key for pseudonymous user ids (HMAC of channel + platform id)")
    data_key: SecretStr = Field(min_length=32, description="Fernet key for message text and transcripts at rest")
    console_secret: SecretStr = Field(min_length=16, description="signs staff console sessions and CSRF tokens")

    # Web app.
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""  # base URL put in staff notifications; default http://host:port
    session_ttl_s: int = 7 * 24 * 3600
    max_message_chars: int = 2000
    max_body_bytes: int = 64 * 1024

    # Organisations, hotline numbers and service hours (YAML, per organisation).
    orgs_file: Path = ROOT / "config" / "organisations.yaml"
    flows_dir: Path = ROOT / "flows" / "content"

    # Escalation: the on-duty roster, SLA before re-paging, paging channels.
    roster_file: Path = ROOT / "config" / "roster.yaml"
    sla_imminent_s: float | None = None   # unset: roster.yaml sla_seconds (default 60)
    sla_high_s: float | None = None       # unset: roster.yaml sla_seconds (default 180)
    wecom_webhook_url: SecretStr | None = None  # 企业微信群机器人 webhook (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…)

    # Channels (optional until that channel is switched on).
    telegram_token: SecretStr | None = None
    telegram_secret_token: SecretStr | None = None
    wechat_token: SecretStr | None = None
    wechat_aes_key: SecretStr | None = None
    wechat_appid: str | None = None
    wechat_secret: SecretStr | None = None
    wechat_api_base: str = "https://api.weixin.qq.com/cgi-bin/"   # tests point this at a loopback fake
    wechat_reply_budget_s: float = 3.5      # answer passively within this, else `success` + customer-service message
    wechat_max_clock_skew_s: int = 300      # requests whose timestamp is further off are refused (replay)
    wechat_menu_file: Path = ROOT / "config" / "wechat_menu.yaml"
    telegram_api_base: str = "https://api.telegram.org/bot"       # tests point this at a loopback fake
    telegram_rate_limit: bool = True        # PTB's AIORateLimiter (30 msg/s overall, 20/min per group)
    telegram_max_retries: int = 3           # retries after a 429, each after its retry_after
    telegram_staff_chat_id: int | None = None   # staff group that receives case notifications
    telegram_staff: dict[str, str] = {}     # Telegram user id → console username (who may press 接手)
    outbox_retry_s: float = 10.0            # a failed push is retried after this idle time
    outbox_max_attempts: int = 5            # then it is recorded on the case as undeliverable

    @property
    def sla_overrides(self) -> dict[str, float]:
        return {k: v for k, v in (("imminent", self.sla_imminent_s), ("high", self.sla_high_s)) if v is not None}

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


def load_settings(**overrides) -> Settings:
    """Load settings or stop with a message naming every missing or invalid variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "XINYI_" + str(err["loc"][0]).upper()
            lines.append(f"  {name}: {err['msg']}")
        raise SystemExit(
            "Xinyi cannot start: settings are missing or invalid:\n" + "\n".join(lines)
            + "\nSee .env.example (or run `./xinyi run`, which writes a local .env with fresh secrets)."
        ) from None

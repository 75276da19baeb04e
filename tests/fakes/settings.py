"""Settings for channel tests: secrets wrapped as SecretStr, like the environment would give."""
from pydantic import SecretStr

SECRETS = {"wechat_token", "wechat_aes_key", "wechat_secret", "telegram_token", "telegram_secret_token"}


def with_settings(settings, **values):
    return settings.model_copy(update={k: SecretStr(v) if k in SECRETS and v is not None else v
                                       for k, v in values.items()})

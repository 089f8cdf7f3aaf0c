"""The credential key settings: malformed keys stop the service with a message naming the setting
and never the key."""

import base64

import pytest
from pydantic import ValidationError

from tradeloom.order_router.credentials import Keyring, new_key
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.settings import describe_settings_error

URL = "postgresql+asyncpg://u:p@127.0.0.1:5/db"


def settings(**values: object) -> OrderRouterSettings:
    return OrderRouterSettings(database_url=URL, environment="test", **values)  # type: ignore[arg-type]


def test_keys_parse_and_pick_the_current_version() -> None:
    key1, key2 = new_key(), new_key()
    text = Keyring({1: key1, 2: key2}, 2).format()
    assert settings(credential_keys=text).keyring() == Keyring({1: key1, 2: key2}, 2)
    keyring = settings(credential_keys=text, credential_key_version=1).keyring()
    assert keyring is not None and keyring.current_version == 1
    assert settings().keyring() is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"credential_keys": "1:" + base64.b64encode(b"short").decode()}, "must be 32 bytes"),
        ({"credential_keys": "1:not base64!"}, "not valid base64"),
        ({"credential_keys": "nonsense"}, "expected version:base64key"),
        ({"credential_keys": Keyring({1: new_key()}, 1).format(), "credential_key_version": 3}, "version 3"),
        ({"credential_key_version": 1}, "set without credential_keys"),
    ],
)
def test_bad_keys_are_refused_naming_the_setting(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        settings(**values)
    text = str(caught.value)
    line = describe_settings_error(OrderRouterSettings, caught.value)  # the service's one log line
    assert message in line and "TL_ORDER_ROUTER_CREDENTIAL_KEY" in line
    keys = values.get("credential_keys")
    if isinstance(keys, str) and ":" in keys:
        assert keys.split(":", 1)[1] not in text + line  # the key itself is never echoed

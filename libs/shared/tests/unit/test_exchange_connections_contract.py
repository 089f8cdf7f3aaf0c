"""Exchange connection requests: strict fields, and key material never echoed in validation errors."""

import pytest
from pydantic import ValidationError

from tradeloom.shared.contracts.exchange_connections import ExchangeConnectionCreate, ExchangeConnectionInfo

VALID = {"venue": "binance", "label": "main", "api_key": "AKEY-0000-visible", "secret": "TOP-SECRET-VALUE"}


def test_defaults_refuse_withdrawal_keys_and_sandbox() -> None:
    created = ExchangeConnectionCreate.model_validate(VALID)
    assert created.allow_withdrawal_permission is False and created.sandbox is False


@pytest.mark.parametrize(
    ("change", "field"),
    [({"venue": "Bin ance"}, "venue"), ({"secret": ""}, "secret"), ({"extra": 1}, "extra")],
)
def test_bad_fields_are_named_and_secrets_not_echoed(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        ExchangeConnectionCreate.model_validate(VALID | change)
    assert error.value.errors()[0]["loc"] == (field,)
    assert "TOP-SECRET-VALUE" not in str(error.value)


def test_info_has_no_field_for_the_key_itself() -> None:
    assert {"api_key", "secret", "passphrase"}.isdisjoint(ExchangeConnectionInfo.model_fields)

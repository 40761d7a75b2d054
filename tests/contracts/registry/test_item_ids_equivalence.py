"""Properties: Python item ids equal the contract's; Python rejects what Solidity rejects."""

from __future__ import annotations

from typing import Any

import ape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.errors import InvalidGtin, InvalidSerial
from app.domain.ids import item_id_from_gs1, item_id_from_sku
from tests.contracts.registry.test_item_ids import CHARACTER_SET_82


def chain_settings(max_examples: int) -> settings:
    """Bounded examples, no deadline (chain calls vary in time). Ape's per-test isolation
    fixture is function-scoped, which is fine here: these properties only read the chain."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


# Any string that can travel as UTF-8 (no lone surrogates), including control characters.
any_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=24)


@st.composite
def valid_gtins(draw: st.DrawFn) -> str:
    """A GTIN-8/12/13/14 with its check digit computed the way GS1 states it: weights 3, 1, 3...
    from the rightmost digit of the body."""
    length = draw(st.sampled_from([8, 12, 13, 14]))
    body = draw(st.text(alphabet="0123456789", min_size=length - 1, max_size=length - 1))
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


gtins = st.one_of(
    valid_gtins(),
    valid_gtins().map(lambda g: g[:-1] + str((int(g[-1]) + 1) % 10)),  # check digit off by one
    st.text(alphabet="0123456789", max_size=16),
    any_text,
)
serials = st.one_of(
    st.text(alphabet=CHARACTER_SET_82, min_size=1, max_size=20),
    st.text(alphabet=CHARACTER_SET_82, max_size=23),
    any_text,
)


@chain_settings(150)
@given(gtin=gtins, serial=serials)
def test_gs1_item_id_equals_python_or_both_reject(registry: Any, gtin: str, serial: str) -> None:
    try:
        expected = item_id_from_gs1(gtin, serial)
    except InvalidGtin:
        with ape.reverts(registry.RegistryInvalidGtin, gtin=gtin):
            registry.gs1ItemId(gtin, serial)
    except InvalidSerial:
        with ape.reverts(registry.RegistryInvalidSerial, serial=serial):
            registry.gs1ItemId(gtin, serial)
    else:
        assert registry.gs1ItemId(gtin, serial) == expected


@chain_settings(60)
@given(gtin=valid_gtins(), serial=st.text(alphabet=CHARACTER_SET_82, min_size=1, max_size=20))
def test_gs1_item_id_equals_python_for_valid_input(registry: Any, gtin: str, serial: str) -> None:
    assert registry.gs1ItemId(gtin, serial) == item_id_from_gs1(gtin, serial)


@chain_settings(60)
@given(merchant=st.binary(min_size=20, max_size=20), sku=any_text, serial=any_text)
def test_item_id_of_equals_python(registry: Any, merchant: bytes, sku: str, serial: str) -> None:
    address = "0x" + merchant.hex()

    assert registry.itemIdOf(address, sku, serial) == item_id_from_sku(address, sku, serial)

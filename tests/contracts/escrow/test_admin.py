"""The admin's settings: fee and cap, fee recipient, allow-list, bounds, seller-record floor,
pause; and role checks."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from ape.exceptions import ContractLogicError

from tests.contracts.escrow.helpers import DAY, ETH, HOUR, ZERO_ADDRESS


def test_deployment_defaults(bare_escrow: Any, registry: Any, fee_recipient: Any) -> None:
    assert bare_escrow.feeBps() == 0
    assert bare_escrow.feeRecipient() == fee_recipient.address
    assert bare_escrow.disputeWindowBounds() == (DAY, 30 * DAY)
    assert bare_escrow.arbitrationPeriod() == 14 * DAY
    assert bare_escrow.registry() == registry.address
    assert bare_escrow.MAX_FEE_BPS() == 1_000
    assert bare_escrow.sellerRecordFloor(ETH) == 0
    assert bare_escrow.shipByHorizon() == 60 * DAY
    assert bare_escrow.defaultAdminDelay() == 2 * DAY
    assert not bare_escrow.paused()


@pytest.mark.parametrize(
    ("which", "error", "inputs"),
    [
        ("admin", "AccessControlInvalidDefaultAdmin", {"defaultAdmin": ZERO_ADDRESS}),
        ("registry", "EscrowZeroAddress", {}),
        ("recipient", "EscrowZeroAddress", {}),
    ],
)
def test_constructor_reverts_for_zero_addresses(
    project: Any,
    admin: Any,
    registry: Any,
    fee_recipient: Any,
    which: str,
    error: str,
    inputs: dict[str, Any],
) -> None:
    args = {"admin": admin, "registry": registry, "recipient": fee_recipient}
    args[which] = ZERO_ADDRESS
    # ape.reverts does not tell a constructor's custom errors apart: the type is checked here.
    with pytest.raises(ContractLogicError) as raised:
        project.OrderEscrow.deploy(*args.values(), sender=admin)

    assert type(raised.value).__name__ == error
    assert (raised.value.inputs or {}) == inputs


def test_admin_sets_fee_up_to_the_cap(bare_escrow: Any, admin: Any) -> None:
    tx = bare_escrow.setFee(1_000, sender=admin)

    assert tx.events == [bare_escrow.FeeChanged(previousBps=0, newBps=1_000)]
    assert bare_escrow.feeBps() == 1_000
    with ape.reverts(bare_escrow.EscrowFeeAboveCap, feeBps=1_001, cap=1_000):
        bare_escrow.setFee(1_001, sender=admin)


def test_admin_sets_fee_recipient(
    bare_escrow: Any, admin: Any, fee_recipient: Any, shopper: Any
) -> None:
    tx = bare_escrow.setFeeRecipient(shopper, sender=admin)

    assert tx.events == [
        bare_escrow.FeeRecipientChanged(
            previousRecipient=fee_recipient.address, newRecipient=shopper.address
        )
    ]
    with ape.reverts(bare_escrow.EscrowZeroAddress):
        bare_escrow.setFeeRecipient(ZERO_ADDRESS, sender=admin)


def test_admin_allow_lists_tokens(bare_escrow: Any, admin: Any, stable: Any) -> None:
    tx = bare_escrow.setTokenAllowed(stable, True, sender=admin)

    assert tx.events == [bare_escrow.TokenAllowListed(token=stable.address, allowed=True)]
    assert bare_escrow.isTokenAllowed(stable)
    bare_escrow.setTokenAllowed(stable, False, sender=admin)
    assert not bare_escrow.isTokenAllowed(stable)
    with ape.reverts(bare_escrow.EscrowZeroAddress):
        bare_escrow.setTokenAllowed(ZERO_ADDRESS, True, sender=admin)


@pytest.mark.parametrize(("low", "high"), [(HOUR - 1, DAY), (2 * DAY, DAY), (DAY, 90 * DAY + 1)])
def test_dispute_window_bounds_revert_outside_limits(
    bare_escrow: Any, admin: Any, low: int, high: int
) -> None:
    with ape.reverts(bare_escrow.EscrowInvalidDisputeWindowBounds, min=low, max=high):
        bare_escrow.setDisputeWindowBounds(low, high, sender=admin)


def test_admin_sets_dispute_window_bounds(bare_escrow: Any, admin: Any) -> None:
    tx = bare_escrow.setDisputeWindowBounds(HOUR, 90 * DAY, sender=admin)

    assert tx.events == [bare_escrow.DisputeWindowBoundsChanged(min=HOUR, max=90 * DAY)]
    assert bare_escrow.disputeWindowBounds() == (HOUR, 90 * DAY)


@pytest.mark.parametrize("period", [DAY - 1, 90 * DAY + 1])
def test_arbitration_period_reverts_outside_limits(
    bare_escrow: Any, admin: Any, period: int
) -> None:
    with ape.reverts(bare_escrow.EscrowInvalidArbitrationPeriod, period=period):
        bare_escrow.setArbitrationPeriod(period, sender=admin)


def test_admin_sets_arbitration_period(bare_escrow: Any, admin: Any) -> None:
    tx = bare_escrow.setArbitrationPeriod(3 * DAY, sender=admin)

    assert tx.events == [bare_escrow.ArbitrationPeriodChanged(period=3 * DAY)]
    assert bare_escrow.arbitrationPeriod() == 3 * DAY


@pytest.mark.parametrize("horizon", [DAY - 1, 180 * DAY + 1])
def test_ship_by_horizon_reverts_outside_limits(bare_escrow: Any, admin: Any, horizon: int) -> None:
    with ape.reverts(bare_escrow.EscrowInvalidShipByHorizon, horizon=horizon):
        bare_escrow.setShipByHorizon(horizon, sender=admin)


def test_admin_sets_the_ship_by_horizon(bare_escrow: Any, admin: Any) -> None:
    for horizon in (DAY, 180 * DAY):
        tx = bare_escrow.setShipByHorizon(horizon, sender=admin)

        assert tx.events == [bare_escrow.ShipByHorizonChanged(horizon=horizon)]
        assert bare_escrow.shipByHorizon() == horizon


def test_admin_sets_the_seller_record_floor_per_token(
    bare_escrow: Any, admin: Any, stable: Any
) -> None:
    tx = bare_escrow.setSellerRecordFloor(stable, 10**6, sender=admin)

    assert tx.events == [bare_escrow.SellerRecordFloorChanged(token=stable.address, amount=10**6)]
    assert bare_escrow.sellerRecordFloor(stable) == 10**6
    assert bare_escrow.sellerRecordFloor(ETH) == 0
    assert bare_escrow.shipByHorizon() == 60 * DAY
    bare_escrow.setSellerRecordFloor(ETH, 10**15, sender=admin)
    assert bare_escrow.sellerRecordFloor(ETH) == 10**15


def test_seller_record_floor_changes_no_order(
    escrow: Any, admin: Any, open_order: Any, buyer: Any, merchant: Any, asset: Any
) -> None:
    """The floor is read by indexers: an order below it still opens and pays out."""
    escrow.setSellerRecordFloor(asset.token, asset.amount * 10, sender=admin)

    order = open_order()
    escrow.confirmReceipt(order.abi, sender=buyer)

    assert escrow.escrowedOf(order.abi) == 0
    assert escrow.creditOf(merchant, asset.token) > 0


def test_admin_pauses_and_unpauses(bare_escrow: Any, admin: Any) -> None:
    assert bare_escrow.pause(sender=admin).events == [bare_escrow.Paused(account=admin.address)]
    assert bare_escrow.paused()
    assert bare_escrow.unpause(sender=admin).events == [bare_escrow.Unpaused(account=admin.address)]


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("setFee", (1,)),
        ("setFeeRecipient", ("0x000000000000000000000000000000000000dEaD",)),
        ("setTokenAllowed", ("0x000000000000000000000000000000000000dEaD", True)),
        ("setDisputeWindowBounds", (HOUR, DAY)),
        ("setArbitrationPeriod", (DAY,)),
        ("setSellerRecordFloor", (ETH, 1)),
        ("setShipByHorizon", (DAY,)),
        ("pause", ()),
        ("unpause", ()),
    ],
)
def test_settings_revert_for_non_admin(
    bare_escrow: Any, shopper: Any, method: str, args: tuple[Any, ...]
) -> None:
    with ape.reverts(
        bare_escrow.AccessControlUnauthorizedAccount,
        account=shopper.address,
        neededRole=bare_escrow.DEFAULT_ADMIN_ROLE(),
    ):
        getattr(bare_escrow, method)(*args, sender=shopper)

"""DevStablecoin, the devnet faucet token: 6 decimals, minting for MINTER_ROLE only, permits."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from eth_account import Account
from eth_utils.crypto import keccak

from harness.permits import sign_permit, vrs

MINTER_ROLE = keccak(text="MINTER_ROLE")


@pytest.fixture(scope="session")
def dollar(project: Any, admin: Any) -> Any:
    return project.DevStablecoin.deploy(admin, sender=admin)


def test_dev_stablecoin_has_six_decimals_and_names_itself_a_dev_token(dollar: Any) -> None:
    assert (dollar.decimals(), dollar.symbol(), dollar.name()) == (
        6,
        "dUSD",
        "TrustMall Dev Dollar",
    )


def test_dev_stablecoin_admin_mints(dollar: Any, admin: Any, merchant: Any) -> None:
    dollar.mint(merchant, 25 * 10**6, sender=admin)
    assert dollar.balanceOf(merchant) == 25 * 10**6
    assert dollar.totalSupply() == 25 * 10**6


def test_dev_stablecoin_mint_reverts_for_an_account_without_minter_role(
    dollar: Any, merchant: Any
) -> None:
    with ape.reverts(
        dollar.AccessControlUnauthorizedAccount, account=merchant.address, neededRole=MINTER_ROLE
    ):
        dollar.mint(merchant, 1, sender=merchant)


def test_dev_stablecoin_permit_sets_an_allowance_from_a_signature(
    dollar: Any, admin: Any, chain: Any
) -> None:
    owner = Account.create()
    spender = admin.address
    deadline = chain.pending_timestamp + 3_600
    signature = sign_permit(
        owner,
        token=dollar.address,
        chain_id=chain.chain_id,
        spender=spender,
        value=5 * 10**6,
        nonce=0,
        deadline=deadline,
    )
    v, r, s = vrs(signature)

    dollar.permit(owner.address, spender, 5 * 10**6, deadline, v, r, s, sender=admin)

    assert dollar.allowance(owner.address, spender) == 5 * 10**6
    assert dollar.nonces(owner.address) == 1

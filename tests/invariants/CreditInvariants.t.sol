// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AttestationVerifier} from "../../contracts/common/AttestationVerifier.sol";
import {CreditLines} from "../../contracts/credit/CreditLines.sol";
import {CreditVault} from "../../contracts/credit/CreditVault.sol";
import {ICreditLines} from "../../contracts/credit/ICreditLines.sol";
import {ICreditPolicies} from "../../contracts/credit/ICreditPolicies.sol";
import {OrderEscrow} from "../../contracts/escrow/OrderEscrow.sol";
import {ProductRegistry} from "../../contracts/registry/ProductRegistry.sol";
import {MockStable6} from "../../contracts/test/escrow/MockStable6.sol";

import {InvariantTest} from "./Cheats.sol";
import {CreditHandler} from "./CreditHandler.sol";

/// @notice Credit lines, their vault and attestations under random borrowers, lenders, amounts,
/// attestations (fresh, stale, replayed) and months passing.
contract CreditInvariants is InvariantTest {
    uint256 internal constant USD = 1e6;

    CreditLines internal lines;
    CreditVault internal vault;
    AttestationVerifier internal verifier;
    MockStable6 internal stable;
    CreditHandler internal handler;

    function setUp() public {
        vm.warp(1_750_000_000);
        address admin = _actor(300);
        address[4] memory borrowers = [_actor(310), _actor(311), _actor(312), _actor(313)];
        address[3] memory lenders = [_actor(320), _actor(321), _actor(322)];
        address[2] memory merchants = [_actor(330), _actor(331)];
        uint256[3] memory keys = _sortedKeys([uint256(0xA77E5701), 0xA77E5702, 0xA77E5703]);
        address[] memory attesters = new address[](3);
        for (uint256 i; i < 3; ++i) {
            attesters[i] = vm.addr(keys[i]);
        }

        stable = new MockStable6();
        ProductRegistry registry = new ProductRegistry(admin);
        OrderEscrow escrow = new OrderEscrow(admin, registry, _actor(301));
        verifier = new AttestationVerifier(admin, attesters, 2);
        vault = new CreditVault(stable, admin);
        lines = new CreditLines(admin, verifier, vault, escrow);
        vm.startPrank(admin);
        escrow.setTokenAllowed(address(stable), true);
        escrow.setFee(250);
        escrow.grantRole(escrow.FUNDER_ROLE(), address(lines));
        verifier.grantRole(verifier.CONSUMER_ROLE(), address(lines));
        vault.grantRole(vault.LINE_ROLE(), address(lines));
        lines.grantRole(lines.POLICY_ROLE(), admin);
        lines.grantRole(lines.RISK_ROLE(), admin);
        // Band 0 has a tier but is below the minimum; bands 1-3 are approved; band 4 has no tier.
        ICreditPolicies.Tier[] memory tiers = new ICreditPolicies.Tier[](4);
        tiers[0] = ICreditPolicies.Tier(uint96(100 * USD), 3_600, 30 days, 5 days, uint80(10 * USD));
        tiers[1] = ICreditPolicies.Tier(uint96(500 * USD), 2_400, 30 days, 5 days, uint80(15 * USD));
        tiers[2] = ICreditPolicies.Tier(uint96(2_000 * USD), 1_800, 30 days, 5 days, uint80(25 * USD));
        tiers[3] = ICreditPolicies.Tier(uint96(5_000 * USD), 1_200, 30 days, 5 days, uint80(25 * USD));
        lines.publishPolicy(ICreditPolicies.PolicyRules(1, 30 days, 60 days, true), tiers);
        vm.stopPrank();

        // The pool starts with one lender's deposit.
        stable.mint(lenders[0], 10_000 * USD);
        vm.startPrank(lenders[0]);
        stable.approve(address(vault), type(uint256).max);
        vault.deposit(10_000 * USD, lenders[0]);
        vm.stopPrank();

        handler = new CreditHandler(lines, admin, keys, borrowers, lenders, merchants);

        bytes4[] memory selectors = new bytes4[](16);
        selectors[0] = handler.applyFresh.selector;
        selectors[1] = handler.applyStale.selector;
        selectors[2] = handler.applyReplay.selector;
        selectors[3] = handler.drawToWallet.selector;
        selectors[4] = handler.drawToOrder.selector;
        selectors[5] = handler.endOrder.selector;
        selectors[6] = handler.settleRefund.selector;
        selectors[7] = handler.repay.selector;
        selectors[8] = handler.accrue.selector;
        selectors[9] = handler.writeOff.selector;
        selectors[10] = handler.deposit.selector;
        selectors[11] = handler.withdraw.selector;
        selectors[12] = handler.warp.selector;
        // Lines must exist before anything else happens to them: applications twice as often.
        selectors[13] = handler.applyFresh.selector;
        selectors[14] = handler.drawToWallet.selector;
        selectors[15] = handler.withdraw.selector;
        _target(address(handler), selectors);
    }

    /// @notice A line's principal never exceeds the limit in force when it last grew (a later, lower
    /// limit binds new draws only), and no draw ever took it past the limit.
    function invariant_principalWithinLimit() public view {
        require(handler.overLimitDraws() == 0, "a draw went past the limit");
        for (uint256 i; i < 4; ++i) {
            address borrower = handler.borrowers(i);
            ICreditLines.LineView memory line = lines.lineOf(borrower);
            require(line.principal <= handler.ghostDrawLimit(borrower), "principal above the limit it was drawn under");
        }
    }

    /// @notice The vault's assets are its idle cash plus principal out less write-offs; the lent
    /// figure matches the lines' principal (written-off lines aside) and the losses the write-offs.
    function invariant_vaultAssetsAccounted() public view {
        uint256 out = handler.ghostPrincipalOut() - handler.ghostWriteOffs();
        require(vault.totalAssets() == stable.balanceOf(address(vault)) + out, "assets != idle + out - write-offs");
        require(vault.lentAssets() == out, "lent != principal out - write-offs");
        require(vault.totalLosses() == handler.ghostWriteOffs(), "losses != write-offs");
        uint256 principal;
        for (uint256 i; i < 4; ++i) {
            ICreditLines.LineView memory line = lines.lineOf(handler.borrowers(i));
            if (line.status != ICreditLines.LineStatus.WrittenOff) principal += line.principal;
        }
        require(vault.lentAssets() == principal, "lent != lines' principal");
    }

    /// @notice No lender can withdraw funds that are lent out: no withdrawal ever paid more than the
    /// idle cash, and no lender is offered more than it.
    function invariant_lentFundsNotWithdrawable() public view {
        require(handler.lentWithdrawn() == 0, "a lender withdrew lent-out funds");
        uint256 idle = stable.balanceOf(address(vault));
        for (uint256 i; i < 3; ++i) {
            address lender = handler.lenders(i);
            require(vault.maxWithdraw(lender) <= idle, "maxWithdraw above idle cash");
            require(vault.previewRedeem(vault.maxRedeem(lender)) <= idle, "maxRedeem above idle cash");
        }
    }

    /// @notice A stale, not-newer or replayed attestation never opens, re-bands or re-dates a line:
    /// every line stands on the last fresh attestation approved for it, and every nonce used is spent.
    function invariant_staleOrReplayedNeverOpensOrRaises() public view {
        require(handler.staleAccepted() == 0, "a stale attestation moved a line");
        require(handler.replayAccepted() == 0, "a replayed attestation was accepted");
        for (uint256 i; i < 4; ++i) {
            address borrower = handler.borrowers(i);
            ICreditLines.LineView memory line = lines.lineOf(borrower);
            require(
                (line.status != ICreditLines.LineStatus.None) == handler.ghostApproved(borrower),
                "line opened without a fresh approval"
            );
            require(line.attestedAt == handler.ghostAttestedAt(borrower), "line stands on another attestation");
        }
        uint256 n = handler.signedCount();
        for (uint256 i; i < n; ++i) {
            require(verifier.isNonceUsed(handler.signedNonce(i)), "attestation nonce not spent");
        }
    }

    /// @dev The verifier wants signers ascending by address.
    function _sortedKeys(uint256[3] memory keys) private pure returns (uint256[3] memory) {
        for (uint256 i; i < 3; ++i) {
            for (uint256 j = i + 1; j < 3; ++j) {
                if (vm.addr(keys[j]) < vm.addr(keys[i])) (keys[i], keys[j]) = (keys[j], keys[i]);
            }
        }
        return keys;
    }
}

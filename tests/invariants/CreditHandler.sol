// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {CreditLines} from "../../contracts/credit/CreditLines.sol";
import {ICreditLines} from "../../contracts/credit/ICreditLines.sol";

import {CreditBase} from "./CreditBase.sol";
import {CreditOrders} from "./CreditOrders.sol";

/// @notice Drives credit as bureaus, borrowers, lenders, merchants, carriers and the risk desk would:
/// fresh attestations signed by a 2-of-3 quorum (real keys, vm.sign), stale, not-newer, replayed ones
/// and ones naming another borrower's identity, draws to wallets and into escrow orders (CreditOrders),
/// refunds, repayments, impairment by the public accrue, write-offs, lenders queueing and claiming
/// redemptions, months passing. The ghost books follow the money by what each successful call moved,
/// apart from the vault's.
contract CreditHandler is CreditOrders {
    constructor(
        CreditLines lines_,
        Roles memory roles,
        uint256[3] memory keys,
        address[4] memory borrowers_,
        address[3] memory lenders_,
        address[4] memory merchants_
    ) CreditBase(lines_, roles, keys, borrowers_, lenders_, merchants_) {}

    // ------------------------------------------------------------------ applications

    /// @dev A fresh attestation (issued up to two days ago) for a random band, 0 (below the
    /// minimum) to 4 (no tier) included: approved or denied by the policy, never by its age. One in
    /// eight carries another borrower's identity: denied once that identity is bound to a line.
    function applyFresh(uint256 borrowerSeed, uint8 band, uint32 age, uint256 identitySeed) external observed {
        address borrower = borrowers[borrowerSeed % 4];
        bytes32 identity = identitySeed % 8 == 0
            ? identityOf(borrowers[(borrowerSeed + 1 + (identitySeed >> 3) % 3) % 4])
            : identityOf(borrower);
        uint40 issuedAt = uint40(block.timestamp - _bound(age, 0, 2 days));
        Signed storage signed =
            _sign(borrower, identity, band % 5, issuedAt, uint40(block.timestamp + 7 days), borrowerSeed);
        bool approved = lines.applyForCredit(signed.attestation, signed.signatures);
        if (approved) {
            address owner = ghostIdentityOwner[identity];
            if (owner == address(0)) ghostIdentityOwner[identity] = borrower;
            else if (owner != borrower) ++identityShared;
            ghostApproved[borrower] = true;
            ghostAttestedAt[borrower] = issuedAt;
            ++approvals;
        }
    }

    /// @dev An attestation the verifier still accepts (unexpired, properly signed) but the policy must
    /// not act on: issued longer ago than the refresh period, or no newer than the line's own. Half the
    /// not-newer ones arrive once the line's late fee is due: the application's own accrual charges it,
    /// and the denial must keep what it charged.
    function applyStale(uint256 borrowerSeed, uint8 band, uint32 age, bool notNewer) external observed {
        address borrower = borrowers[borrowerSeed % 4];
        uint40 issuedAt;
        ICreditLines.LineView memory line = lines.lineOf(borrower);
        if (notNewer && line.status != ICreditLines.LineStatus.None) {
            if (age % 2 == 0 && line.dueAt != 0) {
                uint256 lateAt = line.dueAt + lines.policyTier(line.policyVersion, line.band).gracePeriod + 1;
                if (lateAt > block.timestamp) vm.warp(lateAt);
                line = lines.lineOf(borrower);
            }
            issuedAt = uint40(line.attestedAt - _bound(age, 0, 1 days));
        } else {
            issuedAt = uint40(block.timestamp - refreshPeriod - _bound(age, 1, 20 days));
        }
        Signed storage signed = _sign(
            borrower, identityOf(borrower), band % 4, issuedAt, uint40(block.timestamp + 1 days), borrowerSeed
        );
        bool approved = lines.applyForCredit(signed.attestation, signed.signatures);
        if (approved || _moved(borrower, line)) ++staleAccepted;
        ++staleRefused;
    }

    /// @dev Sends an attestation already spent, with its own signatures or another quorum's:
    /// the verifier must refuse it, and the line must not move.
    function applyReplay(uint256 signedSeed, bool otherQuorum) external observed {
        if (_signed.length == 0) return;
        Signed storage signed = _signed[signedSeed % _signed.length];
        address borrower = signed.attestation.borrower;
        ICreditLines.LineView memory line = lines.lineOf(borrower);
        try lines.applyForCredit(signed.attestation, otherQuorum ? signed.otherSignatures : signed.signatures) {
            ++replayAccepted;
        } catch {
            ++replaysRefused;
        }
        if (_moved(borrower, line)) ++replayAccepted;
    }

    // ------------------------------------------------------------------ wallet draws, repayments, servicing

    function drawToWallet(uint256 borrowerSeed, uint256 amountSeed) external observed {
        address borrower = _drawingBorrower(borrowerSeed);
        uint256 amount = _drawAmount(borrower, amountSeed, 1);
        (uint256 idle, uint256 queued) = (_idle(), vault.queuedAssets());
        vm.prank(borrower);
        lines.drawToWallet(amount);
        ghostPrincipalOut += amount;
        _checkDraw(borrower, amount);
        _checkLiquidity(idle, queued, amount);
    }

    /// @dev Half the time the whole debt and a little more (the cycle ends, the line may draw again),
    /// else any part of it.
    function repay(uint256 borrowerSeed, uint256 amountSeed, bool byStranger) external observed {
        address borrower = _owingBorrower(borrowerSeed);
        uint256 debt = lines.debtOf(borrower);
        uint256 amount = amountSeed % 2 == 0 ? debt + _bound(amountSeed >> 1, 1, 10 * USD) : _bound(amountSeed >> 1, 1, debt + 1);
        address payer = byStranger ? address(0xFA11) : borrower;
        stable.mint(payer, amount);
        vm.prank(payer);
        stable.approve(address(lines), amount);
        (uint256 principal, bool writtenOff) = _principal(borrower);
        vm.prank(payer);
        lines.repay(borrower, amount);
        _repaid(borrower, principal, writtenOff);
    }

    /// @dev Anyone applies the public rule: a line past due and grace is charged its late fee and its
    /// principal impaired in the vault. Half the time the caller first waits for the grace to run out.
    function accrue(uint256 borrowerSeed, bool waitForGrace) external observed {
        address borrower = _borrowerWithLine(borrowerSeed);
        ICreditLines.LineView memory line = lines.lineOf(borrower);
        if (waitForGrace && line.dueAt != 0) {
            uint256 lateAt = line.dueAt + lines.policyTier(line.policyVersion, line.band).gracePeriod + 1;
            if (lateAt > block.timestamp) vm.warp(lateAt);
        }
        lines.accrue(borrower);
    }

    /// @dev The risk desk writes off a defaulted line; one time in four it first waits for the
    /// default (two months past due: the clock jumps far).
    function writeOff(uint256 borrowerSeed, bool waitForDefault) external observed {
        address borrower = _owingBorrower(borrowerSeed);
        ICreditLines.LineView memory line = lines.lineOf(borrower);
        if (waitForDefault && borrowerSeed % 2 == 0 && line.dueAt != 0) {
            uint256 defaultsAt = line.dueAt + lines.policyRules(line.policyVersion).defaultAfter + 1;
            if (defaultsAt > block.timestamp) vm.warp(defaultsAt);
        }
        (uint256 principal,) = _principal(borrower);
        vm.prank(risk);
        lines.writeOff(borrower);
        ghostWriteOffs += principal;
        ++writeOffs;
    }

    // ------------------------------------------------------------------ lenders

    function deposit(uint256 lenderSeed, uint256 amountSeed) external observed {
        address lender = lenders[lenderSeed % 3];
        uint256 amount = _bound(amountSeed, 1, 20_000 * USD);
        stable.mint(lender, amount);
        vm.prank(lender);
        stable.approve(address(vault), amount);
        vm.prank(lender);
        vault.deposit(amount, lender);
    }

    /// @dev A lender queues part of its shares for redemption, at their value now: mostly up to a
    /// quarter (the pool keeps lending), one time in eight all of them.
    function requestRedeem(uint256 lenderSeed, uint256 sharesSeed) external observed {
        address lender = lenders[lenderSeed % 3];
        uint256 balance = vault.balanceOf(lender);
        if (balance == 0) return;
        uint256 shares = _bound(sharesSeed, 1, sharesSeed % 8 == 0 ? balance : balance / 4 + 1);
        uint256 value = vault.convertToAssets(shares);
        vm.prank(lender);
        vault.requestRedeem(shares, lender, lender);
        ghostQueuedShares[lender] += shares;
        ghostQueuedAssets[lender] += value;
    }

    /// @dev A lender claims part of its queue, half the time after waiting out the cooldown. It must be
    /// paid no more than the shares are worth now (a loss made visible since counts) nor than they were
    /// worth when queued, and never more than the idle cash.
    function redeem(uint256 lenderSeed, uint256 sharesSeed, bool wait) external observed {
        address lender = lenders[lenderSeed % 3];
        uint256 queued = ghostQueuedShares[lender];
        if (queued == 0) return;
        (,, uint256 claimableAt) = vault.redeemRequestOf(lender);
        if (wait && claimableAt > block.timestamp) vm.warp(claimableAt);
        uint256 shares = _bound(sharesSeed, 1, queued);
        uint256 valueNow = vault.convertToAssets(shares);
        uint256 valueAtRequest = Math.mulDiv(shares, ghostQueuedAssets[lender], queued);
        uint256 idle = _idle();
        uint256 balance = stable.balanceOf(lender);
        vm.prank(lender);
        uint256 paid = vault.redeem(shares, lender, lender);
        if (stable.balanceOf(lender) - balance != paid) ++lentWithdrawn;
        if (paid > valueNow || paid > valueAtRequest) ++claimsBeatingImpairment;
        if (paid > idle) ++lentWithdrawn;
        ghostQueuedShares[lender] = queued - shares;
        ghostQueuedAssets[lender] -= valueAtRequest;
        ghostLenderWithdrawn += paid;
        ++claims;
    }

    /// @dev Days pass (the actions that wait for a deadline jump further on their own).
    function warp(uint32 seconds_) external observed {
        vm.warp(block.timestamp + _bound(seconds_, 0, 6 days));
    }
}

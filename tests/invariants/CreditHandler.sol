// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {AttestationVerifier} from "../../contracts/common/AttestationVerifier.sol";
import {IAttestationVerifier} from "../../contracts/common/IAttestationVerifier.sol";
import {CreditLines} from "../../contracts/credit/CreditLines.sol";
import {CreditVault} from "../../contracts/credit/CreditVault.sol";
import {ICreditLines} from "../../contracts/credit/ICreditLines.sol";
import {ICreditVault} from "../../contracts/credit/ICreditVault.sol";
import {OrderEscrow} from "../../contracts/escrow/OrderEscrow.sol";
import {IOrderEscrow} from "../../contracts/escrow/IOrderEscrow.sol";
import {MockStable6} from "../../contracts/test/escrow/MockStable6.sol";

import {Cheats} from "./Cheats.sol";

/// @notice Drives credit as bureaus, borrowers, lenders, merchants and the risk desk would: fresh
/// attestations signed by a 2-of-3 quorum (real keys, vm.sign), stale, not-newer and replayed ones,
/// draws to wallets and into escrow orders, refunds, repayments, write-offs, months passing.
/// The ghost books follow the money by what each successful call moved, apart from the vault's.
contract CreditHandler is Cheats {
    uint256 internal constant USD = 1e6;
    uint256 internal constant MAX_SIGNED = 16;
    uint256 internal constant MAX_ORDERS = 16;
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    /// @dev Spelled out here rather than read from the verifier, so a wrong type hash there shows.
    bytes32 internal constant ATTESTATION_TYPEHASH = keccak256(
        "CreditAttestation(address borrower,uint8 band,bytes32 modelId,bytes32 reportHash,uint40 issuedAt,"
        "uint40 expiresAt,uint256 nonce,uint64 attesterSetVersion)"
    );

    CreditLines public immutable lines;
    CreditVault public immutable vault;
    AttestationVerifier public immutable verifier;
    OrderEscrow public immutable escrow;
    MockStable6 public immutable stable;
    address public immutable risk;
    uint256 public immutable refreshPeriod;
    address[4] public borrowers;
    address[3] public lenders;
    address[2] public merchants;
    uint256[3] internal _keys;

    struct Signed {
        IAttestationVerifier.Attestation attestation;
        bytes[] signatures;
        bytes[] otherSignatures; // the same attestation signed by another pair of attesters
    }

    Signed[] internal _signed;
    IOrderEscrow.OrderTerms[] internal _orders;
    uint256 internal _nonce;
    uint256 internal _salt;

    // Money, as the handler saw it move.
    uint256 public ghostPrincipalOut; // drawn, less principal repaid into the pool
    uint256 public ghostWriteOffs; // principal of lines written off
    uint256 public ghostLenderWithdrawn;

    // Lines, as the handler saw them decided.
    mapping(address borrower => bool) public ghostApproved;
    mapping(address borrower => uint40) public ghostAttestedAt;
    mapping(address borrower => uint256) public ghostDrawLimit;

    // Breaches seen by the handler at the moment they happened.
    uint256 public overLimitDraws;
    uint256 public staleAccepted;
    uint256 public replayAccepted;
    uint256 public lentWithdrawn;

    // Coverage: how often each path really ran.
    uint256 public approvals;
    uint256 public staleRefused;
    uint256 public replaysRefused;
    uint256 public withdrawalsRefused;
    uint256 public writeOffs;
    uint256 public refundsSettled;

    /// @param keys The attesters' private keys, ascending by address.
    constructor(
        CreditLines lines_,
        address risk_,
        uint256[3] memory keys,
        address[4] memory borrowers_,
        address[3] memory lenders_,
        address[2] memory merchants_
    ) {
        lines = lines_;
        (IAttestationVerifier verifier_, ICreditVault vault_, IOrderEscrow escrow_, IERC20 asset_) = lines_.contracts();
        verifier = AttestationVerifier(address(verifier_));
        vault = CreditVault(address(vault_));
        escrow = OrderEscrow(address(escrow_));
        stable = MockStable6(address(asset_));
        risk = risk_;
        refreshPeriod = lines_.policyRules(lines_.currentPolicyVersion()).refreshPeriod;
        _keys = keys;
        borrowers = borrowers_;
        lenders = lenders_;
        merchants = merchants_;
    }

    // ------------------------------------------------------------------ applications

    /// @dev A fresh attestation (issued up to two days ago) for a random band, 0 (below the
    /// minimum) to 4 (no tier) included: approved or denied by the policy, never by its age.
    function applyFresh(uint256 borrowerSeed, uint8 band, uint32 age) external {
        address borrower = borrowers[borrowerSeed % 4];
        uint40 issuedAt = uint40(block.timestamp - _bound(age, 0, 2 days));
        Signed storage signed = _sign(borrower, band % 5, issuedAt, uint40(block.timestamp + 7 days), borrowerSeed);
        bool approved = lines.applyForCredit(signed.attestation, signed.signatures);
        if (approved) {
            ghostApproved[borrower] = true;
            ghostAttestedAt[borrower] = issuedAt;
            ++approvals;
        }
    }

    /// @dev An attestation the verifier still accepts (unexpired, properly signed) but the policy must
    /// not act on: issued longer ago than the refresh period, or no newer than the line's own.
    function applyStale(uint256 borrowerSeed, uint8 band, uint32 age, bool notNewer) external {
        address borrower = borrowers[borrowerSeed % 4];
        uint40 issuedAt;
        ICreditLines.LineView memory line = lines.lineOf(borrower);
        if (notNewer && line.status != ICreditLines.LineStatus.None) {
            issuedAt = uint40(line.attestedAt - _bound(age, 0, 1 days));
        } else {
            issuedAt = uint40(block.timestamp - refreshPeriod - _bound(age, 1, 20 days));
        }
        Signed storage signed = _sign(borrower, band % 4, issuedAt, uint40(block.timestamp + 1 days), borrowerSeed);
        bool approved = lines.applyForCredit(signed.attestation, signed.signatures);
        if (approved || _moved(borrower, line)) ++staleAccepted;
        ++staleRefused;
    }

    /// @dev Sends an attestation already spent, with its own signatures or another quorum's:
    /// the verifier must refuse it, and the line must not move.
    function applyReplay(uint256 signedSeed, bool otherQuorum) external {
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

    // ------------------------------------------------------------------ draws

    function drawToWallet(uint256 borrowerSeed, uint256 amountSeed) external {
        address borrower = _borrowerWithLine(borrowerSeed);
        uint256 amount = _bound(amountSeed, 1, _headroom(borrower));
        vm.prank(borrower);
        lines.drawToWallet(amount);
        ghostPrincipalOut += amount;
        _checkDraw(borrower);
    }

    /// @dev Pays an escrow order from the line, one time in four with a down payment from the wallet.
    function drawToOrder(uint256 borrowerSeed, uint256 amountSeed, uint256 shapeSeed) external {
        if (_orders.length >= MAX_ORDERS) return;
        address borrower = _borrowerWithLine(borrowerSeed);
        uint256 amount = _bound(amountSeed, 1, _headroom(borrower));
        uint40 shipBy = uint40(block.timestamp + _bound(shapeSeed, 1 hours, 5 days));
        IOrderEscrow.OrderTerms memory terms = IOrderEscrow.OrderTerms({
            buyer: borrower,
            merchant: merchants[shapeSeed % 2],
            payer: address(lines),
            token: address(stable),
            amount: amount,
            shipBy: shipBy,
            deliverBy: shipBy + 3 days,
            disputeWindow: 2 days,
            feeBps: escrow.feeBps(),
            orderRef: keccak256(abi.encode("sku", shapeSeed % 7)),
            salt: ++_salt,
            itemIds: new bytes32[](0)
        });
        uint256 down = (shapeSeed >> 8) % 4 == 0 && amount > 1 ? amount / 4 : 0;
        if (down != 0) {
            stable.mint(borrower, down);
            vm.prank(borrower);
            stable.approve(address(lines), down);
            vm.prank(borrower);
            lines.drawToOrderWithDownPayment(terms, down);
        } else {
            vm.prank(borrower);
            lines.drawToOrder(terms);
        }
        _orders.push(terms);
        ghostPrincipalOut += amount - down;
        _checkDraw(borrower);
    }

    /// @dev How an order paid by credit ends: the merchant cancels (full refund), the buyer gets a
    /// settlement (partial refund), or it ships and the buyer confirms (nothing comes back).
    function endOrder(uint256 orderSeed, uint8 outcome, uint16 buyerBps) external {
        if (_orders.length == 0) return;
        IOrderEscrow.OrderTerms storage terms = _orders[orderSeed % _orders.length];
        if (outcome % 3 == 0) {
            vm.prank(terms.merchant);
            escrow.cancel(terms);
        } else if (outcome % 3 == 1) {
            uint16 bps = uint16(_bound(buyerBps, 0, 10_000));
            vm.prank(terms.buyer);
            escrow.offerSettlement(terms, bps);
            vm.prank(terms.merchant);
            escrow.acceptSettlement(terms, bps);
        } else {
            vm.prank(terms.merchant);
            escrow.ship(terms, keccak256("tracking"));
            vm.prank(terms.buyer);
            escrow.confirmReceipt(terms);
        }
    }

    /// @dev Anyone applies an order's refund to its buyer's line.
    function settleRefund(uint256 orderSeed, uint256 callerSeed) external {
        if (_orders.length == 0) return;
        IOrderEscrow.OrderTerms storage terms = _orders[orderSeed % _orders.length];
        (uint256 principal, bool writtenOff) = _principal(terms.buyer);
        vm.prank(_actor(callerSeed % 4));
        lines.settleRefund(terms);
        _repaid(terms.buyer, principal, writtenOff);
        ++refundsSettled;
    }

    // ------------------------------------------------------------------ repayments and servicing

    function repay(uint256 borrowerSeed, uint256 amountSeed, bool byStranger) external {
        address borrower = _borrowerWithLine(borrowerSeed);
        uint256 amount = _bound(amountSeed, 1, lines.debtOf(borrower) + 10 * USD);
        address payer = byStranger ? address(0xFA11) : borrower;
        stable.mint(payer, amount);
        vm.prank(payer);
        stable.approve(address(lines), amount);
        (uint256 principal, bool writtenOff) = _principal(borrower);
        vm.prank(payer);
        lines.repay(borrower, amount);
        _repaid(borrower, principal, writtenOff);
    }

    function accrue(uint256 borrowerSeed) external {
        lines.accrue(_borrowerWithLine(borrowerSeed));
    }

    /// @dev The risk desk writes off a defaulted line; half the time it first waits for the default.
    function writeOff(uint256 borrowerSeed, bool waitForDefault) external {
        address borrower = _borrowerWithLine(borrowerSeed);
        ICreditLines.LineView memory line = lines.lineOf(borrower);
        if (waitForDefault && line.dueAt != 0) {
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

    function deposit(uint256 lenderSeed, uint256 amountSeed) external {
        address lender = lenders[lenderSeed % 3];
        uint256 amount = _bound(amountSeed, 1, 20_000 * USD);
        stable.mint(lender, amount);
        vm.prank(lender);
        stable.approve(address(vault), amount);
        vm.prank(lender);
        vault.deposit(amount, lender);
    }

    /// @dev A lender asks for any part of its claim, often more than the idle cash: whatever is
    /// lent out must stay out of reach.
    function withdraw(uint256 lenderSeed, uint256 amountSeed, bool byShares) external {
        address lender = lenders[lenderSeed % 3];
        uint256 claim = vault.previewRedeem(vault.balanceOf(lender));
        if (claim == 0) return;
        uint256 idle = stable.balanceOf(address(vault));
        uint256 amount = _bound(amountSeed, 1, claim);
        uint256 paid;
        vm.prank(lender);
        if (byShares) {
            try vault.redeem(vault.previewWithdraw(amount), lender, lender) returns (uint256 assets) {
                paid = assets;
            } catch {
                ++withdrawalsRefused;
            }
        } else {
            try vault.withdraw(amount, lender, lender) {
                paid = amount;
            } catch {
                ++withdrawalsRefused;
            }
        }
        if (paid > idle) ++lentWithdrawn;
        ghostLenderWithdrawn += paid;
    }

    function warp(uint32 seconds_) external {
        vm.warp(block.timestamp + _bound(seconds_, 0, 20 days));
    }

    // ------------------------------------------------------------------ what the invariants read

    function signedCount() external view returns (uint256) {
        return _signed.length;
    }

    function signedNonce(uint256 i) external view returns (uint256) {
        return _signed[i].attestation.nonce;
    }

    // ------------------------------------------------------------------ internals

    /// @dev Signs with a pair of the three attesters (ascending by address, as the verifier wants)
    /// and keeps a copy signed by another pair for replays.
    function _sign(address borrower, uint8 band, uint40 issuedAt, uint40 expiresAt, uint256 seed)
        private
        returns (Signed storage signed)
    {
        IAttestationVerifier.Attestation memory attestation = IAttestationVerifier.Attestation({
            borrower: borrower,
            band: band,
            modelId: keccak256("trustmall-score-v3"),
            reportHash: keccak256(abi.encode("report", borrower, _nonce)),
            issuedAt: issuedAt,
            expiresAt: expiresAt,
            nonce: ++_nonce,
            attesterSetVersion: verifier.attesterSetVersion()
        });
        bytes32 digest = _digest(attestation);
        uint256 pair = seed % 3;
        if (_signed.length >= MAX_SIGNED) {
            // Keep the store bounded; the newest replaces an older one.
            signed = _signed[_nonce % MAX_SIGNED];
        } else {
            signed = _signed.push();
        }
        signed.attestation = attestation;
        signed.signatures = _quorum(digest, pair);
        signed.otherSignatures = _quorum(digest, (pair + 1) % 3);
    }

    function _quorum(bytes32 digest, uint256 pair) private view returns (bytes[] memory signatures) {
        (uint256 a, uint256 b) = pair == 0 ? (0, 1) : pair == 1 ? (0, 2) : (1, 2);
        signatures = new bytes[](2);
        signatures[0] = _signature(_keys[a], digest);
        signatures[1] = _signature(_keys[b], digest);
    }

    function _signature(uint256 key, bytes32 digest) private pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev EIP-712, computed here from the standard's definition.
    function _digest(IAttestationVerifier.Attestation memory attestation) private view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                DOMAIN_TYPEHASH,
                keccak256("TrustMall Credit Attestations"),
                keccak256("1"),
                block.chainid,
                address(verifier)
            )
        );
        bytes32 structHash = keccak256(abi.encode(ATTESTATION_TYPEHASH, attestation));
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    /// @dev Whether a line was opened, re-banded, re-versioned or re-dated since `before`.
    function _moved(address borrower, ICreditLines.LineView memory before) private view returns (bool) {
        ICreditLines.LineView memory line = lines.lineOf(borrower);
        bool opened = before.status == ICreditLines.LineStatus.None && line.status != ICreditLines.LineStatus.None;
        return opened || line.attestedAt != before.attestedAt || line.band != before.band
            || line.policyVersion != before.policyVersion || line.limit > before.limit;
    }

    function _checkDraw(address borrower) private {
        ICreditLines.LineView memory line = lines.lineOf(borrower);
        uint256 limit = lines.policyTier(line.policyVersion, line.band).limit;
        if (line.principal > limit) ++overLimitDraws;
        ghostDrawLimit[borrower] = limit;
    }

    function _principal(address borrower) private view returns (uint256, bool) {
        ICreditLines.LineView memory line = lines.lineOf(borrower);
        return (line.principal, line.status == ICreditLines.LineStatus.WrittenOff);
    }

    /// @dev Principal repaid into the pool; on a written-off line it left the pool at the write-off.
    function _repaid(address borrower, uint256 principalBefore, bool writtenOff) private {
        (uint256 principal,) = _principal(borrower);
        if (!writtenOff) ghostPrincipalOut -= principalBefore - principal;
    }

    /// @dev Mostly a borrower with a line, so draws and repayments are not wasted on strangers.
    function _borrowerWithLine(uint256 seed) private view returns (address) {
        for (uint256 k; k < 4 && seed % 8 != 0; ++k) {
            address borrower = borrowers[(seed + k) % 4];
            if (ghostApproved[borrower]) return borrower;
        }
        return borrowers[seed % 4];
    }

    /// @dev Up to a quarter beyond what the line may still draw, so the limit gets tested.
    function _headroom(address borrower) private view returns (uint256) {
        ICreditLines.LineView memory line = lines.lineOf(borrower);
        uint256 room = line.limit > line.principal ? line.limit - line.principal : 0;
        return room + room / 4 + 1;
    }
}

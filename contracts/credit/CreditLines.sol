// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {ADMIN_TRANSFER_DELAY} from "../common/AdminDelay.sol";
import {IAttestationVerifier} from "../common/IAttestationVerifier.sol";
import {IOrderEscrow} from "../escrow/IOrderEscrow.sol";
import {IProductRegistry} from "../registry/IProductRegistry.sol";
import {CreditPolicies} from "./CreditPolicies.sol";
import {ICreditLines} from "./ICreditLines.sol";
import {ICreditVault} from "./ICreditVault.sol";

/// @title CreditLines
/// @notice Consumer credit lines decided on attested score bands by the public policy, drawn into
/// escrow orders or to the wallet from the credit vault, and repaid into it.
/// @dev Decisions:
/// - A line is two slots (`Line`), and an application writes only the first; its terms are not copied but read from its (version, band) tier,
///   which never changes once published.
/// - Interest is simple, per second, on principal: `principal * aprBps * elapsed / (10_000 * 365 days)`
///   with Math.mulDiv rounded up at every accrual, so rounding always favours the pool.
/// - Late fees and defaults are charged lazily, at the next touch of the line (any call, or the
///   permissionless `accrue`); views show them as of now.
/// - A limit lowered by re-applying binds new draws only; principal already drawn stays owed.
/// - The window's cap counts new credit net of what each line repays of its own draws in the same window
///   (`CreditPolicies._uncountRepaid`): otherwise one line drawing and repaying in turn, at no cost within a
///   block, could use up every borrower's credit for the window.
/// - The newest attestation decides, in whatever order attestations arrive: a denial of one newer than the
///   line's approval for what it says of the borrower (its band, or an identity bound to another line) holds
///   the line (`deniedAt`, in the second slot, which draws read anyway), and an older attestation sent
///   afterwards is denied as not newer. A denial for the attestation's age or the line's default says
///   nothing new of the borrower and holds nothing. A hold touches no debt: repayments, accruals and
///   defaults go on, and only a newer approval lifts it.
/// - Refunds: an order whose payer is this contract was opened only by `drawToOrder` (or its down-payment
///   form), which requires the caller to be the order's buyer, so the terms' buyer is the borrower and
///   nothing is stored at draw time. `settleRefund` asks the escrow what it credited this contract for
///   the order (`payerCreditOf`: the rule lives there once), applies what it has not applied yet like a
///   repayment, and withdraws the escrow credit; an order can be settled again after a later refund.
/// - Who credit may pay: the escrow holds the order's items for its merchant (only that merchant's own,
///   Authentic, unsold items) and pays a funder-paid order only on delivery reports or rulings; this
///   contract adds that the merchant is active and not the borrower's own (identity commitments).
/// - Impairment: the late fee and the impairment of the line's principal happen at the same lazy moment
///   (due time + grace), so `lateFeeCharged` also says "this line's principal is impaired in the vault".
/// - The pause (the admin's, as on the other contracts) stops new credit only: applications and draws.
///   Repayments, refund settlements, accruals and write-offs go on, so a pause never traps a borrower
///   who wants to repay nor hides a loss from the pool (ICreditLines says why for each function).
contract CreditLines is ICreditLines, CreditPolicies, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice May write off defaulted lines.
    bytes32 public constant RISK_ROLE = keccak256("RISK_ROLE");

    uint256 private constant _BPS = 10_000;
    /// @dev The denial reasons that say something of the borrower, and so hold a line when newer.
    uint256 private constant _HOLDING_REASONS = (1 << uint8(DenialReason.BandBelowMinimum))
        | (1 << uint8(DenialReason.BandNotInPolicy)) | (1 << uint8(DenialReason.IdentityBoundElsewhere));
    uint256 private constant _YEAR = 365 days;

    IAttestationVerifier private immutable _verifier;
    ICreditVault private immutable _vault;
    IOrderEscrow private immutable _escrow;
    IProductRegistry private immutable _registry;
    IERC20 private immutable _asset;

    mapping(address borrower => Line) private _lines;
    mapping(bytes32 orderId => uint256 settled) private _refundsSettled;
    mapping(bytes32 identityHash => address borrower) private _borrowerOfIdentity;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE, who grants POLICY_ROLE and RISK_ROLE and pauses; handed over
    /// only in two steps `ADMIN_TRANSFER_DELAY` apart.
    /// @param verifier The attestation verifier (this contract needs its CONSUMER_ROLE).
    /// @param vault The credit vault (this contract needs its LINE_ROLE).
    /// @param escrow The order escrow (this contract needs its FUNDER_ROLE; the asset must be allowed).
    constructor(address admin, IAttestationVerifier verifier, ICreditVault vault, IOrderEscrow escrow)
        AccessControlDefaultAdminRules(ADMIN_TRANSFER_DELAY, admin)
    {
        if (address(verifier) == address(0) || address(vault) == address(0) || address(escrow) == address(0)) {
            revert CreditZeroAddress();
        }
        _verifier = verifier;
        _vault = vault;
        _escrow = escrow;
        _registry = IProductRegistry(escrow.registry());
        _asset = IERC20(IERC4626(address(vault)).asset());
        _asset.forceApprove(address(escrow), type(uint256).max);
    }

    // ------------------------------------------------------------------ decisions

    /// @inheritdoc ICreditLines
    function applyForCredit(IAttestationVerifier.Attestation calldata attestation, bytes[] calldata signatures)
        external
        nonReentrant
        whenNotPaused
        returns (bool approved)
    {
        // The verifier is ours and calls nothing back: spending the attestation first is the check.
        // Its return value, the signed digest, is not needed here.
        // slither-disable-next-line unused-return
        _verifier.consume(attestation, signatures);
        (uint16 version, PolicyRules memory rules, Tier memory tier) = _current(attestation.band);
        address borrower = attestation.borrower;
        Line memory line = _lines[borrower];
        if (line.status != LineStatus.None) {
            (PolicyRules memory lineRules, Tier memory lineTier) = _policy(line.policyVersion, line.band);
            _accrue(borrower, line, lineRules, lineTier);
        }
        uint256 reasons = _denialReasons(attestation, line, rules, tier);
        bool holds = reasons & (1 << uint8(DenialReason.AttestationNotNewer)) == 0 && reasons & _HOLDING_REASONS != 0;
        if (reasons == 0) {
            line.policyVersion = version;
            line.band = attestation.band;
            line.attestedAt = attestation.issuedAt;
            if (line.status == LineStatus.None) line.status = LineStatus.Active;
            approved = true;
            if (_borrowerOfIdentity[attestation.identityHash] == address(0)) {
                _borrowerOfIdentity[attestation.identityHash] = borrower;
            }
        }
        if (holds) line.deniedAt = attestation.issuedAt;
        // A line is stored whatever the decision: its accrual above may have charged a late fee (and impaired
        // its principal in the vault) or defaulted it. A denied applicant without a line stores only a hold.
        if (line.status != LineStatus.None || holds) _lines[borrower] = line;
        if (approved) emit CreditApproved(borrower, version, attestation, tier);
        else emit CreditDenied(borrower, version, attestation, reasons);
    }

    // ------------------------------------------------------------------ draws

    /// @inheritdoc ICreditLines
    function drawToOrder(IOrderEscrow.OrderTerms calldata terms)
        external
        nonReentrant
        whenNotPaused
        returns (bytes32 orderId)
    {
        orderId = _drawToOrder(terms, 0);
    }

    /// @inheritdoc ICreditLines
    function drawToOrderWithDownPayment(IOrderEscrow.OrderTerms calldata terms, uint256 downPayment)
        external
        nonReentrant
        whenNotPaused
        returns (bytes32 orderId)
    {
        if (downPayment >= terms.amount) revert CreditDownPaymentTooLarge(downPayment, terms.amount);
        orderId = _drawToOrder(terms, downPayment);
    }

    /// @inheritdoc ICreditLines
    function drawToWallet(uint256 amount) external nonReentrant whenNotPaused {
        PolicyRules memory rules = _draw(msg.sender, amount, bytes32(0));
        if (!rules.walletDraws) revert CreditWalletDrawsNotAllowed(_lines[msg.sender].policyVersion);
        _vault.lend(msg.sender, amount);
    }

    // ------------------------------------------------------------------ repayments

    /// @inheritdoc ICreditLines
    function repay(address borrower, uint256 amount) external nonReentrant returns (uint256 paid) {
        if (amount == 0) revert CreditZeroAmount();
        (uint256 principal, uint256 income, uint256 impaired) = _applyPayment(borrower, amount, msg.sender);
        paid = principal + income;
        // What this call applied to the debt, computed from the contract's own books: zero means nothing owed.
        // slither-disable-next-line incorrect-equality
        if (paid == 0) revert CreditNothingOwed(borrower);
        _asset.safeTransferFrom(msg.sender, address(_vault), paid);
        _vault.recordRepayment(principal, income, impaired);
    }

    /// @inheritdoc ICreditLines
    function settleRefund(IOrderEscrow.OrderTerms calldata terms) external nonReentrant returns (uint256 refund) {
        bytes32 orderId = keccak256(abi.encode(terms));
        if (terms.payer != address(this)) revert CreditRefundNotFromLine(orderId, terms.payer);
        uint256 settled = _refundsSettled[orderId];
        refund = _escrow.payerCreditOf(terms) - settled;
        if (refund == 0) revert CreditRefundAlreadySettled(orderId);
        _refundsSettled[orderId] = settled + refund;
        (uint256 principal, uint256 income, uint256 impaired) = _applyPayment(terms.buyer, refund, address(_escrow));
        uint256 surplus = refund - principal - income;
        emit CreditRefundSettled(orderId, terms.buyer, refund, surplus);
        if (_escrow.creditOf(address(this), address(_asset)) != 0) _escrow.withdraw(address(_asset));
        if (principal + income != 0) {
            _asset.safeTransfer(address(_vault), principal + income);
            _vault.recordRepayment(principal, income, impaired);
        }
        if (surplus != 0) _asset.safeTransfer(terms.buyer, surplus);
    }

    // ------------------------------------------------------------------ servicing

    /// @inheritdoc ICreditLines
    function accrue(address borrower) external nonReentrant {
        Line memory line = _load(borrower);
        (PolicyRules memory rules, Tier memory tier) = _policy(line.policyVersion, line.band);
        _accrue(borrower, line, rules, tier);
        _lines[borrower] = line;
    }

    /// @inheritdoc ICreditLines
    function writeOff(address borrower) external nonReentrant onlyRole(RISK_ROLE) {
        Line memory line = _load(borrower);
        (PolicyRules memory rules, Tier memory tier) = _policy(line.policyVersion, line.band);
        _accrue(borrower, line, rules, tier);
        if (line.status != LineStatus.Defaulted) revert CreditLineNotDefaulted(borrower, line.status);
        line.status = LineStatus.WrittenOff;
        _lines[borrower] = line;
        emit CreditLineWrittenOff(borrower, line.principal);
        _vault.recordLoss(line.principal);
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc ICreditLines
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @inheritdoc ICreditLines
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ICreditLines
    function lineOf(address borrower) external view returns (LineView memory view_) {
        Line memory line = _lines[borrower];
        // A status enum compared (slither taints the whole line struct, which holds times).
        // slither-disable-next-line incorrect-equality
        if (line.status == LineStatus.None) return view_;
        (PolicyRules memory rules, Tier memory tier) = _policy(line.policyVersion, line.band);
        _accrueView(line, rules, tier);
        uint256 eligibleUntil = uint256(line.attestedAt) + rules.refreshPeriod;
        Standing standing;
        // A status enum compared (slither taints the whole line struct, which holds times).
        // slither-disable-next-line incorrect-equality
        if (line.status == LineStatus.WrittenOff) standing = Standing.WrittenOff;
        // A status enum compared (slither taints the whole line struct, which holds times).
        // slither-disable-next-line incorrect-equality
        else if (line.status == LineStatus.Defaulted) standing = Standing.Defaulted;
        else if (line.dueAt != 0 && block.timestamp > line.dueAt) standing = Standing.PastDue;
        else if (line.deniedAt > line.attestedAt) standing = Standing.Denied;
        else if (block.timestamp > eligibleUntil) standing = Standing.OnHold;
        else standing = Standing.Eligible;
        view_ = LineView({
            status: line.status,
            standing: standing,
            policyVersion: line.policyVersion,
            band: line.band,
            limit: tier.limit,
            aprBps: tier.aprBps,
            principal: line.principal,
            interest: line.interest,
            fees: line.fees,
            dueAt: line.dueAt,
            attestedAt: line.attestedAt,
            eligibleUntil: eligibleUntil,
            deniedAt: line.deniedAt
        });
    }

    /// @inheritdoc ICreditLines
    function debtOf(address borrower) external view returns (uint256) {
        Line memory line = _lines[borrower];
        // A status enum compared (slither taints the whole line struct, which holds times).
        // slither-disable-next-line incorrect-equality
        if (line.status == LineStatus.None) return 0;
        (PolicyRules memory rules, Tier memory tier) = _policy(line.policyVersion, line.band);
        _accrueView(line, rules, tier);
        return uint256(line.principal) + line.interest + line.fees;
    }

    /// @inheritdoc ICreditLines
    function refundOf(IOrderEscrow.OrderTerms calldata terms) external view returns (uint256) {
        return _escrow.payerCreditOf(terms) - _refundsSettled[keccak256(abi.encode(terms))];
    }

    /// @inheritdoc ICreditLines
    function refundSettledOf(bytes32 orderId) external view returns (uint256) {
        return _refundsSettled[orderId];
    }

    /// @inheritdoc ICreditLines
    function borrowerOfIdentity(bytes32 identityHash) external view returns (address) {
        return _borrowerOfIdentity[identityHash];
    }

    /// @notice The contracts this one works with.
    /// @return verifier The attestation verifier.
    /// @return vault The credit vault.
    /// @return escrow The order escrow.
    /// @return asset The stablecoin.
    function contracts()
        external
        view
        returns (IAttestationVerifier verifier, ICreditVault vault, IOrderEscrow escrow, IERC20 asset)
    {
        return (_verifier, _vault, _escrow, _asset);
    }

    // ------------------------------------------------------------------ internals

    function _load(address borrower) private view returns (Line memory line) {
        line = _lines[borrower];
        // A status enum compared (slither taints the whole line struct, which holds times).
        // slither-disable-next-line incorrect-equality
        if (line.status == LineStatus.None) revert CreditLineNotOpen(borrower);
    }

    function _denialReasons(
        IAttestationVerifier.Attestation calldata attestation,
        Line memory line,
        PolicyRules memory rules,
        Tier memory tier
    ) private view returns (uint256 reasons) {
        if (attestation.band < rules.minBand) reasons |= 1 << uint8(DenialReason.BandBelowMinimum);
        if (tier.term == 0) reasons |= 1 << uint8(DenialReason.BandNotInPolicy);
        if (block.timestamp > uint256(attestation.issuedAt) + rules.refreshPeriod) {
            reasons |= 1 << uint8(DenialReason.AttestationStale);
        }
        // Zero for a borrower never decided: every attestation is newer.
        if (attestation.issuedAt <= Math.max(line.attestedAt, line.deniedAt)) {
            reasons |= 1 << uint8(DenialReason.AttestationNotNewer);
        }
        if (line.status == LineStatus.Defaulted || line.status == LineStatus.WrittenOff) {
            reasons |= 1 << uint8(DenialReason.LineDefaulted);
        }
        address bound = _borrowerOfIdentity[attestation.identityHash];
        if (bound != address(0) && bound != attestation.borrower) {
            reasons |= 1 << uint8(DenialReason.IdentityBoundElsewhere);
        }
    }

    /// @dev Checks and records a draw of `amount` on the caller's line; returns the line's rules.
    function _draw(address borrower, uint256 amount, bytes32 orderId) private returns (PolicyRules memory rules) {
        if (amount == 0) revert CreditZeroAmount();
        Line memory line = _load(borrower);
        Tier memory tier;
        (rules, tier) = _policy(line.policyVersion, line.band);
        if (line.status != LineStatus.Active) revert CreditLineFrozen(borrower, line.status);
        if (line.dueAt != 0 && block.timestamp > line.dueAt) revert CreditLinePastDue(borrower, line.dueAt);
        if (line.deniedAt > line.attestedAt) revert CreditLineDenied(borrower, line.attestedAt, line.deniedAt);
        uint256 eligibleUntil = uint256(line.attestedAt) + rules.refreshPeriod;
        if (block.timestamp > eligibleUntil) revert CreditLineOnHold(borrower, line.attestedAt, eligibleUntil);
        _accrue(borrower, line, rules, tier);
        uint256 principal = line.principal + amount;
        if (principal > tier.limit) revert CreditLimitExceeded(borrower, tier.limit, principal);
        _countNewCredit(borrower, amount);
        line.principal = uint96(principal); // principal <= tier.limit, a uint96
        // Zero means no due date yet (nothing owed): the first draw sets it. Not a time compared.
        // slither-disable-next-line incorrect-equality
        if (line.dueAt == 0) line.dueAt = uint40(block.timestamp + tier.term);
        _lines[borrower] = line;
        emit CreditDrawn(borrower, orderId, amount, principal, line.dueAt);
    }

    /// @dev The order's amount is the down payment (pulled from the borrower) plus the draw (lent by
    /// the vault to this contract); the escrow then pulls it all from this contract as the payer.
    function _drawToOrder(IOrderEscrow.OrderTerms calldata terms, uint256 downPayment)
        private
        returns (bytes32 orderId)
    {
        if (terms.buyer != msg.sender) {
            revert CreditOrderNotForBorrower(terms.buyer, msg.sender);
        }
        if (terms.payer != address(this)) revert CreditOrderWrongPayer(terms.payer);
        if (terms.token != address(_asset)) revert CreditOrderWrongToken(terms.token);
        if (terms.itemIds.length == 0) revert CreditOrderWithoutItems();
        (IProductRegistry.MerchantStatus status, bytes32 identity) = _registry.merchantStanding(terms.merchant);
        if (status != IProductRegistry.MerchantStatus.Active) revert CreditMerchantNotActive(terms.merchant);
        if (_borrowerOfIdentity[identity] == msg.sender) revert CreditMerchantIsBorrower(terms.merchant, msg.sender);
        orderId = keccak256(abi.encode(terms));
        uint256 credit = terms.amount - downPayment;
        _draw(msg.sender, credit, orderId);
        if (downPayment != 0) {
            emit CreditDownPaid(msg.sender, orderId, downPayment);
            _asset.safeTransferFrom(msg.sender, address(this), downPayment);
        }
        _vault.lend(address(this), credit);
        // The escrow returns the order id, which is keccak256(abi.encode(terms)): `orderId` above.
        // slither-disable-next-line unused-return
        _escrow.openFor(terms);
    }

    /// @dev Accrues, then applies up to `amount`: fees, interest, principal. Returns the principal
    /// repaid in the pool (0 on a written-off line, whose principal left the pool), the income, and the
    /// part of the principal that was impaired.
    function _applyPayment(address borrower, uint256 amount, address payer)
        private
        returns (uint256 poolPrincipal, uint256 income, uint256 impaired)
    {
        Line memory line = _load(borrower);
        (PolicyRules memory rules, Tier memory tier) = _policy(line.policyVersion, line.band);
        _accrue(borrower, line, rules, tier);
        uint256 fees = Math.min(amount, line.fees);
        uint256 interest = Math.min(amount - fees, line.interest);
        uint256 principal = Math.min(amount - fees - interest, line.principal);
        // Each part is at most the field it is taken from.
        unchecked {
            line.fees -= uint104(fees);
            line.interest -= uint112(interest);
            line.principal -= uint96(principal);
        }
        // A status enum compared (slither taints the whole line struct, which holds times).
        // slither-disable-next-line incorrect-equality
        bool writtenOff = line.status == LineStatus.WrittenOff;
        // A charged late fee marks the principal impaired; a write-off already took it out of the vault.
        impaired = line.lateFeeCharged && !writtenOff ? principal : 0;
        // Amounts owed, kept by this contract (no balance an outsider can nudge): paid off when all are zero.
        // slither-disable-next-line incorrect-equality
        if (line.principal == 0 && line.interest == 0 && line.fees == 0) {
            line.dueAt = 0;
            line.lateFeeCharged = false;
            if (line.status != LineStatus.Active) {
                line.status = LineStatus.Active;
                emit CreditLineRestored(borrower);
            }
        }
        _lines[borrower] = line;
        _uncountRepaid(borrower, principal);
        if (fees + interest + principal != 0) emit CreditRepaid(borrower, payer, fees, interest, principal);
        (poolPrincipal, income) = writtenOff ? (0, fees + interest + principal) : (principal, fees + interest);
    }

    /// @dev Brings `line` (in memory) up to now, emits what was charged and impairs its principal in the
    /// vault with the late fee; the caller stores it.
    function _accrue(address borrower, Line memory line, PolicyRules memory rules, Tier memory tier) private {
        (bool lateFee, bool defaulted) = _accrueView(line, rules, tier);
        if (lateFee) {
            emit CreditLateFeeCharged(borrower, tier.lateFee, line.dueAt);
            // The vault is ours (immutable, set at construction) and calls nothing back; every entry point
            // reaching here holds the nonReentrant lock, so writing the line after this call is safe.
            // slither-disable-next-line reentrancy-no-eth
            if (line.principal != 0) _vault.recordImpairment(line.principal);
        }
        if (defaulted) emit CreditLineDefaulted(borrower, line.principal, line.interest, line.fees);
    }

    /// @dev Interest to now (not on written-off lines), then the late fee and default if due.
    function _accrueView(Line memory line, PolicyRules memory rules, Tier memory tier)
        private
        view
        returns (bool lateFee, bool defaulted)
    {
        // A status enum compared (slither taints the whole line struct, which holds times).
        // slither-disable-next-line incorrect-equality
        if (line.status == LineStatus.WrittenOff) return (false, false);
        if (line.principal != 0) {
            uint256 elapsed = block.timestamp - line.lastAccrual;
            uint256 accrued = Math.mulDiv(line.principal, tier.aprBps * elapsed, _BPS * _YEAR, Math.Rounding.Ceil);
            line.interest = (uint256(line.interest) + accrued).toUint112();
        }
        line.lastAccrual = uint40(block.timestamp);
        uint256 dueAt = line.dueAt;
        // Zero means no due date is set (nothing drawn); a set due date is never zero. Not a time compared.
        // slither-disable-next-line incorrect-equality
        if (dueAt == 0) return (false, false);
        if (!line.lateFeeCharged && block.timestamp > dueAt + tier.gracePeriod) {
            line.fees = (uint256(line.fees) + tier.lateFee).toUint104();
            line.lateFeeCharged = true;
            lateFee = true;
        }
        // The equality is on the status enum; the time is compared with `>` against a days-long deadline.
        // slither-disable-next-line incorrect-equality
        if (line.status == LineStatus.Active && block.timestamp > dueAt + rules.defaultAfter) {
            line.status = LineStatus.Defaulted;
            defaulted = true;
        }
    }
}

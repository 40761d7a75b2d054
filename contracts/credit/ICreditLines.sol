// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAttestationVerifier} from "../common/IAttestationVerifier.sol";
import {IOrderEscrow} from "../escrow/IOrderEscrow.sol";
import {ICreditPolicies} from "./ICreditPolicies.sol";

/// @title ICreditLines
/// @notice Vocabulary of consumer credit lines: instant decisions on attested score bands by the
/// public policy, draws into escrow orders (buy now, pay later) or to the wallet, per-second
/// interest, repayments, late fees, defaults, write-offs, and refunds of orders paid with credit.
/// @dev Life of a line:
///   - `applyForCredit` with a valid attestation decides at once: `CreditApproved` (the line now
///     follows the current policy version and the attested band) or `CreditDenied` with a bitmap of
///     `DenialReason`s. Both carry the attestation and the policy version. Invalid attestations revert.
///   - The newest attestation decides: one issued no later than the newest already decided for the
///     borrower (approved, or denied for what it says of the borrower) is denied as not newer, and a
///     newer attestation denied for what it says of the borrower (`BandBelowMinimum`, `BandNotInPolicy`,
///     `IdentityBoundElsewhere`) holds the line (no draws, standing `Denied`) until a still newer one is
///     approved. A denial only for the attestation's age or the line's default holds nothing. Debt
///     already drawn stays owed on its terms; repayments, accruals and defaults go on.
///   - A line is drawable while its attestation is younger than the policy's refresh period (else on
///     hold), no newer attestation was denied, it is not past due, principal after the draw stays within the tier's limit, and all lines'
///     new credit in the current window stays within the current policy's cap.
///   - Credit pays only escrow orders of registry items (their merchant's own, Authentic, held by the
///     order), to an active merchant whose owner's identity is not the borrower's; the escrow pays such
///     an order to the merchant only on a carrier's delivery report or an arbiter's ruling.
///   - One identity, one line: the identity commitment of the first approved attestation binds to the
///     borrower; another address attested with it is denied.
///   - The first draw of a cycle sets the due time (`now + term`). Interest accrues per second on
///     principal (simple, 365-day year, rounded up). Past due + grace: the late fee, once per cycle.
///     The late fee also impairs the line's principal in the vault (it leaves the share price) by this
///     public rule; anyone may apply it with `accrue`.
///     Past due + the policy's default threshold: defaulted and frozen until everything is repaid.
///   - Repayments go fees, then interest, then principal. Paying everything ends the cycle (and lifts
///     a default or write-off). A refund of an order paid with credit (whole, or items recalled) is
///     applied the same way by a permissionless `settleRefund`; anything beyond the debt goes to the
///     borrower.
///   - The admin's pause (OpenZeppelin's Pausable: `Paused`/`Unpaused`, refusals `EnforcedPause`) stops
///     new credit: applications and draws. Everything that lowers a debt or recognises a loss goes on
///     (repayments, refund settlements, accruals, write-offs), and so does publishing a policy: a pause
///     must never trap a borrower who wants to repay, nor keep a visible loss out of the share price.
///     Each function below says whether the pause stops it, and why.
interface ICreditLines is ICreditPolicies {
    // ------------------------------------------------------------------ types

    /// @notice Stored status of a line.
    enum LineStatus {
        None,
        Active,
        Defaulted,
        WrittenOff
    }

    /// @notice Where a line stands now, derived from its status, due time, newest decision and attestation
    /// age, in that order: `Denied` when an attestation newer than the one the line was approved on was denied.
    enum Standing {
        None,
        Eligible,
        OnHold,
        PastDue,
        Defaulted,
        WrittenOff,
        Denied
    }

    /// @notice Why an application was denied; `CreditDenied.reasons` has bit `uint8(reason)` set for each.
    enum DenialReason {
        BandBelowMinimum,
        BandNotInPolicy,
        AttestationStale,
        AttestationNotNewer,
        LineDefaulted,
        IdentityBoundElsewhere
    }

    /// @notice A line's state: two storage slots. The first holds everything an approval writes, so opening
    /// a line creates one slot; the second (interest, fees, the newest denial) fills once interest accrues
    /// or a newer attestation's denial holds the line. A borrower held without a line has only `deniedAt` set.
    /// @param principal Drawn and not yet repaid.
    /// @param lastAccrual When interest was last accrued.
    /// @param attestedAt Issue time of the attestation the line was last approved on.
    /// @param dueAt When everything owed is due (0 when nothing is owed).
    /// @param policyVersion The policy version the line follows.
    /// @param band The attested band (its tier in `policyVersion` gives the terms).
    /// @param status Active, Defaulted or WrittenOff.
    /// @param lateFeeCharged Whether this cycle's late fee was charged.
    /// @param interest Accrued and unpaid, up to `lastAccrual`.
    /// @param fees Late fees unpaid.
    /// @param deniedAt Issue time of the newest attestation denied for what it says of the borrower (0 if
    /// none); a line with `deniedAt > attestedAt` is held.
    struct Line {
        uint96 principal;
        uint40 lastAccrual;
        uint40 attestedAt;
        uint40 dueAt;
        uint16 policyVersion;
        uint8 band;
        LineStatus status;
        bool lateFeeCharged;
        uint112 interest;
        uint104 fees;
        uint40 deniedAt;
    }

    /// @notice A line as of now: interest accrued to this second and any late fee due included.
    /// `deniedAt` is the issue time of the newest attestation denied for what it says of the borrower (0 if
    /// none): later than `attestedAt`, it holds the line (standing `Denied`) until an attestation newer than
    /// it is approved.
    struct LineView {
        LineStatus status;
        Standing standing;
        uint16 policyVersion;
        uint8 band;
        uint256 limit;
        uint256 aprBps;
        uint256 principal;
        uint256 interest;
        uint256 fees;
        uint256 dueAt;
        uint256 attestedAt;
        uint256 eligibleUntil;
        uint256 deniedAt;
    }

    // ------------------------------------------------------------------ errors

    /// @notice Thrown when an address that must be set is zero.
    error CreditZeroAddress();
    /// @notice Thrown when an amount must be positive.
    error CreditZeroAmount();
    /// @notice Thrown when a borrower has no line.
    error CreditLineNotOpen(address borrower);
    /// @notice Thrown when drawing on a defaulted or written-off line.
    error CreditLineFrozen(address borrower, LineStatus status);
    /// @notice Thrown when drawing on a line whose attestation is older than the refresh period.
    error CreditLineOnHold(address borrower, uint40 attestedAt, uint256 eligibleUntil);
    /// @notice Thrown when drawing on a line held by the denial of an attestation newer than its approval's.
    error CreditLineDenied(address borrower, uint40 attestedAt, uint40 deniedAt);
    /// @notice Thrown when drawing on a line past its due time.
    error CreditLinePastDue(address borrower, uint40 dueAt);
    /// @notice Thrown when a draw would take principal above the limit.
    error CreditLimitExceeded(address borrower, uint256 limit, uint256 requested);
    /// @notice Thrown when drawing to the wallet under a policy that does not allow it.
    error CreditWalletDrawsNotAllowed(uint16 policyVersion);
    /// @notice Thrown when the caller drawing into an order is not the order's buyer.
    error CreditOrderNotForBorrower(address buyer, address caller);
    /// @notice Thrown when an order to be paid with credit does not name this contract as payer.
    error CreditOrderWrongPayer(address payer);
    /// @notice Thrown when an order to be paid with credit is not in the pool's stablecoin.
    error CreditOrderWrongToken(address token);
    /// @notice Thrown when an order to be paid with credit lists no registry items.
    error CreditOrderWithoutItems();
    /// @notice Thrown when credit would pay a merchant that is not active in the registry.
    error CreditMerchantNotActive(address merchant);
    /// @notice Thrown when credit would pay a merchant owned by the borrower (same identity commitment).
    error CreditMerchantIsBorrower(address merchant, address borrower);
    /// @notice Thrown when a down payment leaves nothing of the order to draw (it must be below the amount).
    error CreditDownPaymentTooLarge(uint256 downPayment, uint256 amount);
    /// @notice Thrown when repaying a line that owes nothing.
    error CreditNothingOwed(address borrower);
    /// @notice Thrown when writing off a line that is not defaulted.
    error CreditLineNotDefaulted(address borrower, LineStatus status);
    /// @notice Thrown when settling a refund of an order this contract did not pay for.
    error CreditRefundNotFromLine(bytes32 orderId, address payer);
    /// @notice Thrown when an order's refunds so far are all settled already (or there are none).
    error CreditRefundAlreadySettled(bytes32 orderId);

    // ------------------------------------------------------------------ events

    /// @notice Emitted when an application is approved: the line follows `policyVersion` and `tier`.
    event CreditApproved(
        address indexed borrower, uint16 indexed policyVersion, IAttestationVerifier.Attestation attestation, Tier tier
    );
    /// @notice Emitted when an application is denied; bit `uint8(r)` of `reasons` is set for each DenialReason r.
    event CreditDenied(
        address indexed borrower,
        uint16 indexed policyVersion,
        IAttestationVerifier.Attestation attestation,
        uint256 reasons
    );
    /// @notice Emitted when a borrower draws: into escrow order `orderId`, or to the wallet (orderId 0).
    event CreditDrawn(
        address indexed borrower, bytes32 indexed orderId, uint256 amount, uint256 principal, uint40 dueAt
    );
    /// @notice Emitted when a borrower pays `amount` of order `orderId` from the wallet, the rest with credit.
    event CreditDownPaid(address indexed borrower, bytes32 indexed orderId, uint256 amount);
    /// @notice Emitted when a payment is applied to a line (by `payer`, or by the escrow refunding an order).
    event CreditRepaid(
        address indexed borrower, address indexed payer, uint256 fees, uint256 interest, uint256 principal
    );
    /// @notice Emitted when a refund of an order paid with credit has been applied to the borrower's line.
    event CreditRefundSettled(bytes32 indexed orderId, address indexed borrower, uint256 refund, uint256 surplus);
    /// @notice Emitted when a line's late fee is charged; its principal is impaired in the vault.
    event CreditLateFeeCharged(address indexed borrower, uint256 fee, uint40 dueAt);
    /// @notice Emitted when a line passes the default threshold and is frozen.
    event CreditLineDefaulted(address indexed borrower, uint256 principal, uint256 interest, uint256 fees);
    /// @notice Emitted when a defaulted line's principal is written off (the pool's share price falls).
    event CreditLineWrittenOff(address indexed borrower, uint256 principal);
    /// @notice Emitted when a defaulted or written-off line is repaid in full and active again.
    event CreditLineRestored(address indexed borrower);

    // ------------------------------------------------------------------ functions

    /// @notice Decides an application by the current policy; anyone may submit the attestation.
    /// @dev Spends the attestation (approved or denied). Reverts only for an invalid attestation. An
    /// attestation not newer than the borrower's newest decided one is denied (`AttestationNotNewer`); a
    /// newer one denied for what it says of the borrower holds the line (`deniedAt`) until a still newer
    /// attestation is approved.
    /// Refused while paused (`EnforcedPause`): an approval is the first step of new credit, and an
    /// attestation refused now is not spent, so it can be sent again once the pause is lifted, while it
    /// has not expired.
    /// @param attestation The bureau's statement about the borrower.
    /// @param signatures Attester signatures, ascending by signer address.
    /// @return approved Whether the line was approved.
    function applyForCredit(IAttestationVerifier.Attestation calldata attestation, bytes[] calldata signatures)
        external
        returns (bool approved);

    /// @notice Pays an escrow order with credit: the caller is the buyer and keeps the order.
    /// @dev `terms.payer` must be this contract, `terms.token` the pool's stablecoin, `terms.itemIds` the
    /// merchant's registry items, and `terms.merchant` active and not owned by the borrower.
    /// Refused while paused (`EnforcedPause`): a draw is new credit, what the pause exists to stop.
    /// @param terms The order's terms.
    /// @return orderId The escrow order id.
    function drawToOrder(IOrderEscrow.OrderTerms calldata terms) external returns (bytes32 orderId);

    /// @notice Opens escrow order `terms` paid partly by the caller: `downPayment` is pulled from the
    /// caller's wallet (approve this contract first) and the rest is drawn from the line, as `drawToOrder`.
    /// A refund of the order repays the line first; what is left goes back to the borrower (`settleRefund`).
    /// Refused while paused (`EnforcedPause`), as `drawToOrder`: the part drawn is new credit.
    /// @param terms The order, with `payer` this contract, `buyer` the caller, `token` the pool's asset.
    /// @param downPayment The part paid from the wallet; below `terms.amount`.
    /// @return orderId The escrow order id.
    function drawToOrderWithDownPayment(IOrderEscrow.OrderTerms calldata terms, uint256 downPayment)
        external
        returns (bytes32 orderId);

    /// @notice Draws principal to the caller's wallet, where the line's policy allows.
    /// @dev Refused while paused (`EnforcedPause`): new credit.
    /// @param amount The amount.
    function drawToWallet(uint256 amount) external;

    /// @notice Pays towards a line (anyone may): fees, then interest, then principal; never more than owed.
    /// @dev Allowed while paused: a pause must never stop a borrower from paying down its debt (interest
    /// keeps accruing meanwhile), nor the pool from being repaid.
    /// @param borrower The line.
    /// @param amount Most to pay; pulled from the caller.
    /// @return paid What was taken.
    function repay(address borrower, uint256 amount) external returns (uint256 paid);

    /// @notice Applies what the escrow refunded for an order paid with credit, since the last settlement,
    /// to its buyer's line; anyone.
    /// @dev Allowed while paused: a refund is a repayment the borrower is owed, and the escrow's credit
    /// would otherwise sit unapplied while interest runs on the debt it should have lowered.
    /// @param terms The order's terms.
    /// @return refund The amount applied now.
    function settleRefund(IOrderEscrow.OrderTerms calldata terms) external returns (uint256 refund);

    /// @notice Accrues interest and charges what is due (late fee with the principal's impairment,
    /// default); anyone, so a visible loss reaches the share price without waiting for an operator.
    /// @dev Allowed while paused: the impairment rule is public, and a pause must not let lenders exit at
    /// a price that hides a loss already due.
    /// @param borrower The line.
    function accrue(address borrower) external;

    /// @notice Writes off a defaulted line's principal in the pool. RISK_ROLE only.
    /// @dev Allowed while paused: recognising a loss moves no money out and must not wait for an unpause.
    /// @param borrower The line.
    function writeOff(address borrower) external;

    /// @notice Stops new credit: `applyForCredit` and the draws revert with `EnforcedPause`; repayments,
    /// refund settlements, accruals, write-offs and policies go on. DEFAULT_ADMIN_ROLE only; emits `Paused`.
    function pause() external;

    /// @notice Allows applications and draws again. DEFAULT_ADMIN_ROLE only; emits `Unpaused`.
    function unpause() external;

    /// @notice A line as of now.
    /// @param borrower The borrower.
    /// @return The line.
    function lineOf(address borrower) external view returns (LineView memory);

    /// @notice Everything a borrower owes now (principal + interest + fees).
    /// @param borrower The borrower.
    /// @return The debt.
    function debtOf(address borrower) external view returns (uint256);

    /// @notice What the escrow credited this contract for an order and `settleRefund` has not applied yet.
    /// @param terms The order's terms.
    /// @return The refund still to settle.
    function refundOf(IOrderEscrow.OrderTerms calldata terms) external view returns (uint256);

    /// @notice How much of an order's refunds was already applied.
    /// @param orderId The order.
    /// @return The amount settled.
    function refundSettledOf(bytes32 orderId) external view returns (uint256);

    /// @notice The borrower an identity commitment is bound to (zero if none).
    /// @param identityHash The commitment.
    /// @return The borrower.
    function borrowerOfIdentity(bytes32 identityHash) external view returns (address);
}

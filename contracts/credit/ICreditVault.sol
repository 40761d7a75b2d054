// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ICreditVault
/// @notice Vocabulary of the credit pool: an ERC-4626 vault of the stablecoin that lenders fund and
/// credit lines draw from and repay into, with exits through a redemption queue (ERC-7540 style).
/// @dev Lenders share losses fairly:
/// - `totalAssets = idle cash + principal lent - principal impaired - income still unlocking`.
/// - Principal of a line past its due time and grace is impaired at once, by a public rule that anyone
///   can trigger (`CreditLines.accrue`): the share price falls when a loss becomes visible, not when an
///   operator writes it off, and a write-off then moves nothing. An impairment is set against income
///   still unlocking first.
/// - Interest, fees and recovered impaired principal unlock linearly over `INCOME_UNLOCK_PERIOD`, so
///   nobody can deposit just before a large repayment and take part of it out just after.
/// - Exits are ordered: `requestRedeem` locks shares in the vault; after the cooldown the controller
///   claims with `redeem` the lower of the shares' value at the request and at the claim. Shares in the
///   queue keep bearing losses and earn nothing more, so a request cannot beat a loss that becomes
///   visible before the claim. Idle cash owed to queued requests is not lent out.
interface ICreditVault {
    // ------------------------------------------------------------------ errors

    /// @notice Thrown when an address that must be set is zero.
    error CreditPoolZeroAddress();
    /// @notice Thrown when a line asks to lend more than the idle cash not owed to queued exits, or a
    /// claim asks for more than the vault holds idle.
    error CreditPoolInsufficientLiquidity(uint256 idle, uint256 requested);
    /// @notice Thrown when a repayment or loss names more principal than is lent out.
    error CreditPoolPrincipalExceedsLent(uint256 lent, uint256 principal);
    /// @notice Thrown when a repayment or loss names more impaired principal than is impaired.
    error CreditPoolPrincipalExceedsImpaired(uint256 impaired, uint256 principal);
    /// @notice Thrown by `withdraw`: lenders leave through `requestRedeem` and `redeem`.
    error CreditPoolRedeemOnly();
    /// @notice Thrown by the synchronous previews, which an asynchronous exit cannot answer.
    error CreditPoolAsyncRedeem();
    /// @notice Thrown when a caller other than the request's controller claims or requests for it.
    error CreditPoolNotController(address caller, address controller);
    /// @notice Thrown when claiming more shares than the controller's request holds, or before its cooldown.
    error CreditPoolNotClaimable(address controller, uint256 shares, uint256 claimableShares, uint256 claimableAt);
    /// @notice Thrown when a request or claim names zero shares.
    error CreditPoolZeroShares();
    /// @notice Thrown when a redemption cooldown is outside [MIN_REDEEM_COOLDOWN, MAX_REDEEM_COOLDOWN].
    error CreditPoolInvalidCooldown(uint32 cooldown);

    // ------------------------------------------------------------------ events

    /// @notice Emitted when a credit line draws principal from the pool.
    event LiquidityLent(address indexed line, address indexed to, uint256 amount);
    /// @notice Emitted when a credit line pays back principal and income (interest, fees, recoveries).
    event RepaymentReceived(address indexed line, uint256 principal, uint256 income);
    /// @notice Emitted when a line's principal is impaired (past due and grace); the share price falls.
    event PrincipalImpaired(address indexed line, uint256 principal);
    /// @notice Emitted when a credit line writes off principal as lost (already impaired).
    event LossRecognized(address indexed line, uint256 principal);
    /// @notice Emitted when an impairment is set against income still unlocking, with what stays locked.
    event LockedIncomeAbsorbed(uint256 amount, uint256 lockedTotal);
    /// @notice Emitted when income or recovered principal starts unlocking, with the total still locked.
    event IncomeLocked(uint256 amount, uint256 lockedTotal, uint256 unlockedAt);
    /// @notice ERC-7540: a redemption request (all of a controller's requests are request id 0).
    event RedeemRequest(
        address indexed controller, address indexed owner, uint256 indexed requestId, address sender, uint256 shares
    );
    /// @notice Emitted when the admin changes the redemption cooldown of future requests.
    event RedeemCooldownChanged(uint32 cooldown);

    // ------------------------------------------------------------------ lines

    /// @notice Sends idle cash to `to` as principal lent out. LINE_ROLE only; refused while paused.
    /// @param to The recipient (the lines contract paying an order, or a borrower's wallet).
    /// @param amount The principal.
    function lend(address to, uint256 amount) external;

    /// @notice Records a repayment the line has already transferred into the vault. LINE_ROLE only;
    /// allowed while paused (repayments are never blocked).
    /// @param principal The part that repays principal lent out (leaves the lent total).
    /// @param income The part that is interest, fees or a recovery of written-off principal.
    /// @param impairedPrincipal The part of `principal` that was impaired (it returns to the assets
    /// gradually, as income does).
    function recordRepayment(uint256 principal, uint256 income, uint256 impairedPrincipal) external;

    /// @notice Impairs principal lent out: it leaves `totalAssets` until repaid. LINE_ROLE only.
    /// @param principal The principal impaired.
    function recordImpairment(uint256 principal) external;

    /// @notice Writes off impaired principal as lost. LINE_ROLE only.
    /// @param principal The principal written off.
    function recordLoss(uint256 principal) external;

    // ------------------------------------------------------------------ lenders (ERC-7540 redemption)

    /// @notice Locks `shares` of `owner` in the queue for `controller`; claimable after the cooldown.
    /// Only the controller itself adds to a request it already has (adding restarts its cooldown).
    /// @param shares Shares to redeem.
    /// @param controller Who claims them.
    /// @param owner Whose shares (the caller, or one that approved the caller).
    /// @return requestId Always 0: a controller's requests add up (and restart the cooldown).
    function requestRedeem(uint256 shares, address controller, address owner) external returns (uint256 requestId);

    /// @notice Shares of `controller` in the queue and not yet claimable.
    /// @param requestId 0.
    /// @param controller The controller.
    /// @return shares The shares.
    function pendingRedeemRequest(uint256 requestId, address controller) external view returns (uint256 shares);

    /// @notice Shares of `controller` claimable now.
    /// @param requestId 0.
    /// @param controller The controller.
    /// @return shares The shares.
    function claimableRedeemRequest(uint256 requestId, address controller) external view returns (uint256 shares);

    /// @notice When `controller`'s queued shares become claimable, and what they are worth at most.
    /// @param controller The controller.
    /// @return shares Shares in the queue.
    /// @return assetsAtRequest Their value when requested (the most a claim pays).
    /// @return claimableAt When they become claimable.
    function redeemRequestOf(address controller)
        external
        view
        returns (uint256 shares, uint256 assetsAtRequest, uint256 claimableAt);

    // ------------------------------------------------------------------ admin

    /// @notice Sets the cooldown of redemption requests made from now on.
    /// @param cooldown Seconds.
    function setRedeemCooldown(uint32 cooldown) external;

    /// @notice Stops deposits, claims and lending; repayments and requests continue.
    function pause() external;

    /// @notice Resumes deposits, claims and lending.
    function unpause() external;

    // ------------------------------------------------------------------ views

    /// @notice Cash the vault holds (available to lend, to claims, or owed to queued exits).
    /// @return The idle assets.
    function idleAssets() external view returns (uint256);

    /// @notice Principal lent out and neither repaid nor written off.
    /// @return The lent assets.
    function lentAssets() external view returns (uint256);

    /// @notice Principal lent out to lines past due and grace, not counted in `totalAssets`.
    /// @return The impaired principal.
    function impairedAssets() external view returns (uint256);

    /// @notice Income and recoveries received but still unlocking, not counted in `totalAssets` yet.
    /// @return The locked amount now.
    function lockedIncome() external view returns (uint256);

    /// @notice The value, at request time, of all queued shares: idle cash kept for them.
    /// @return The amount.
    function queuedAssets() external view returns (uint256);

    /// @notice All principal ever written off.
    /// @return The cumulative losses.
    function totalLosses() external view returns (uint256);

    /// @notice The cooldown of a redemption request made now.
    /// @return Seconds.
    function redeemCooldown() external view returns (uint32);
}

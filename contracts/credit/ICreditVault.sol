// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ICreditVault
/// @notice Vocabulary of the credit pool: an ERC-4626 vault of the stablecoin that lenders fund and
/// credit lines draw from and repay into.
/// @dev The vault's assets are its idle cash plus the principal lent out and not yet repaid or
/// written off. Interest and fees count when they are paid (they arrive as cash and raise the share
/// price); a written-off loan leaves the lent principal at once (the share price falls). Lenders may
/// withdraw only idle cash, never funds lent out.
interface ICreditVault {
    // ------------------------------------------------------------------ errors

    /// @notice Thrown when an address that must be set is zero.
    error CreditPoolZeroAddress();
    /// @notice Thrown when a line asks to lend more than the vault holds idle.
    error CreditPoolInsufficientLiquidity(uint256 idle, uint256 requested);
    /// @notice Thrown when a repayment or loss names more principal than is lent out.
    error CreditPoolPrincipalExceedsLent(uint256 lent, uint256 principal);

    // ------------------------------------------------------------------ events

    /// @notice Emitted when a credit line draws principal from the pool.
    event LiquidityLent(address indexed line, address indexed to, uint256 amount);
    /// @notice Emitted when a credit line pays back principal and income (interest, fees, recoveries).
    event RepaymentReceived(address indexed line, uint256 principal, uint256 income);
    /// @notice Emitted when a credit line writes off principal as lost; the share price falls.
    event LossRecognized(address indexed line, uint256 principal);

    // ------------------------------------------------------------------ lines

    /// @notice Sends idle cash to `to` as principal lent out. LINE_ROLE only; refused while paused.
    /// @param to The recipient (the lines contract paying an order, or a borrower's wallet).
    /// @param amount The principal.
    function lend(address to, uint256 amount) external;

    /// @notice Records a repayment the line has already transferred into the vault. LINE_ROLE only;
    /// allowed while paused (repayments are never blocked).
    /// @param principal The part that repays principal lent out (leaves the lent total).
    /// @param income The part that is interest, fees or a recovery of written-off principal.
    function recordRepayment(uint256 principal, uint256 income) external;

    /// @notice Writes off principal lent out as lost. LINE_ROLE only.
    /// @param principal The principal written off.
    function recordLoss(uint256 principal) external;

    // ------------------------------------------------------------------ admin

    /// @notice Stops deposits, withdrawals and lending; repayments continue.
    function pause() external;

    /// @notice Resumes deposits, withdrawals and lending.
    function unpause() external;

    // ------------------------------------------------------------------ views

    /// @notice Cash the vault holds (available to lend or to withdraw).
    /// @return The idle assets.
    function idleAssets() external view returns (uint256);

    /// @notice Principal lent out and neither repaid nor written off.
    /// @return The lent assets.
    function lentAssets() external view returns (uint256);

    /// @notice All principal ever written off.
    /// @return The cumulative losses.
    function totalLosses() external view returns (uint256);
}

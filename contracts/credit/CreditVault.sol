// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {ICreditVault} from "./ICreditVault.sol";

/// @title CreditVault
/// @notice The liquidity pool of the credit lines: an OpenZeppelin ERC-4626 vault of the stablecoin.
/// @dev Decisions:
/// - `totalAssets = idle cash (the vault's token balance) + principal lent out`. Interest is counted
///   when paid (cash basis), so the share price never rests on interest that may not be collected.
/// - A decimals offset of 6 (shares have 12 decimals over a 6-decimals stablecoin) makes the first-
///   depositor inflation attack cost the attacker about a million times what it could steal.
/// - `maxWithdraw`/`maxRedeem` are capped at idle cash; all four `max*` read 0 while paused, as
///   ERC-4626 requires of disabled operations, and the operations themselves revert `EnforcedPause`.
contract CreditVault is ICreditVault, ERC4626, AccessControl, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice May lend from the pool and record repayments and losses (the credit lines contract).
    bytes32 public constant LINE_ROLE = keccak256("LINE_ROLE");

    uint8 private constant _DECIMALS_OFFSET = 6;

    uint256 private _lent;
    uint256 private _losses;

    /// @param asset_ The stablecoin.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE: grants LINE_ROLE, pauses.
    constructor(IERC20 asset_, address admin)
        ERC20("TrustMall Credit Pool", "tmCREDIT")
        ERC4626(asset_)
    {
        if (address(asset_) == address(0) || admin == address(0)) revert CreditPoolZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ lines

    /// @inheritdoc ICreditVault
    function lend(address to, uint256 amount) external nonReentrant whenNotPaused onlyRole(LINE_ROLE) {
        if (to == address(0)) revert CreditPoolZeroAddress();
        uint256 idle = _idle();
        if (amount > idle) revert CreditPoolInsufficientLiquidity(idle, amount);
        _lent += amount;
        emit LiquidityLent(msg.sender, to, amount);
        IERC20(asset()).safeTransfer(to, amount);
    }

    /// @inheritdoc ICreditVault
    function recordRepayment(uint256 principal, uint256 income) external onlyRole(LINE_ROLE) {
        _reduceLent(principal);
        emit RepaymentReceived(msg.sender, principal, income);
    }

    /// @inheritdoc ICreditVault
    function recordLoss(uint256 principal) external onlyRole(LINE_ROLE) {
        _reduceLent(principal);
        _losses += principal;
        emit LossRecognized(msg.sender, principal);
    }

    // ------------------------------------------------------------------ lenders (ERC-4626)

    /// @notice Deposits assets for shares; refused while paused.
    /// @param assets Stablecoin amount.
    /// @param receiver Who receives the shares.
    /// @return Shares minted.
    function deposit(uint256 assets, address receiver) public override whenNotPaused nonReentrant returns (uint256) {
        return super.deposit(assets, receiver);
    }

    /// @notice Mints exact shares for assets; refused while paused.
    /// @param shares Shares to mint.
    /// @param receiver Who receives the shares.
    /// @return Assets taken.
    function mint(uint256 shares, address receiver) public override whenNotPaused nonReentrant returns (uint256) {
        return super.mint(shares, receiver);
    }

    /// @notice Withdraws assets (up to idle cash) by burning shares; refused while paused.
    /// @param assets Stablecoin amount.
    /// @param receiver Who receives the assets.
    /// @param owner Whose shares are burned.
    /// @return Shares burned.
    function withdraw(uint256 assets, address receiver, address owner)
        public
        override
        whenNotPaused
        nonReentrant
        returns (uint256)
    {
        return super.withdraw(assets, receiver, owner);
    }

    /// @notice Redeems shares for assets (up to idle cash); refused while paused.
    /// @param shares Shares to burn.
    /// @param receiver Who receives the assets.
    /// @param owner Whose shares are burned.
    /// @return Assets paid.
    function redeem(uint256 shares, address receiver, address owner)
        public
        override
        whenNotPaused
        nonReentrant
        returns (uint256)
    {
        return super.redeem(shares, receiver, owner);
    }

    /// @notice Idle cash plus principal lent out.
    /// @return The vault's assets.
    function totalAssets() public view override returns (uint256) {
        return _idle() + _lent;
    }

    /// @notice What `receiver` may deposit now (0 while paused).
    /// @param receiver The receiver.
    /// @return The maximum.
    function maxDeposit(address receiver) public view override returns (uint256) {
        return paused() ? 0 : super.maxDeposit(receiver);
    }

    /// @notice What shares `receiver` may mint now (0 while paused).
    /// @param receiver The receiver.
    /// @return The maximum.
    function maxMint(address receiver) public view override returns (uint256) {
        return paused() ? 0 : super.maxMint(receiver);
    }

    /// @notice What `owner` may withdraw now: its claim, capped at idle cash (0 while paused).
    /// @param owner The share owner.
    /// @return The maximum.
    function maxWithdraw(address owner) public view override returns (uint256) {
        if (paused()) return 0;
        return Math.min(super.maxWithdraw(owner), _idle());
    }

    /// @notice What shares `owner` may redeem now: its shares, capped at idle cash (0 while paused).
    /// @param owner The share owner.
    /// @return The maximum.
    function maxRedeem(address owner) public view override returns (uint256) {
        if (paused()) return 0;
        return Math.min(super.maxRedeem(owner), _convertToShares(_idle(), Math.Rounding.Floor));
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc ICreditVault
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @inheritdoc ICreditVault
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ICreditVault
    function idleAssets() external view returns (uint256) {
        return _idle();
    }

    /// @inheritdoc ICreditVault
    function lentAssets() external view returns (uint256) {
        return _lent;
    }

    /// @inheritdoc ICreditVault
    function totalLosses() external view returns (uint256) {
        return _losses;
    }

    // ------------------------------------------------------------------ internals

    function _idle() private view returns (uint256) {
        return IERC20(asset()).balanceOf(address(this));
    }

    function _reduceLent(uint256 principal) private {
        uint256 lent = _lent;
        if (principal > lent) revert CreditPoolPrincipalExceedsLent(lent, principal);
        // Checked just above: principal <= lent.
        unchecked {
            _lent = lent - principal;
        }
    }

    function _decimalsOffset() internal pure override returns (uint8) {
        return _DECIMALS_OFFSET;
    }
}

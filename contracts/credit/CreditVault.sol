// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {ADMIN_TRANSFER_DELAY} from "../common/AdminDelay.sol";
import {ICreditVault} from "./ICreditVault.sol";

/// @title CreditVault
/// @notice The liquidity pool of the credit lines: an OpenZeppelin ERC-4626 vault of the stablecoin,
/// with impairment of past-due principal, income that unlocks over time, and queued exits.
/// @dev Decisions (see ICreditVault for the rules):
/// - Deposits are ERC-4626's, synchronous. Exits are asynchronous as ERC-7540 specifies for redemptions
///   (`requestRedeem`, then `redeem` by the controller); `withdraw` and the synchronous previews revert,
///   `maxWithdraw` is 0 and `maxRedeem` is what a controller may claim now. Operators are not supported:
///   the controller claims itself.
/// - A claim pays `min(value at request, value now)`; the difference stays with the pool.
/// - Income unlocking follows Yearn V3's profit unlocking: new income joins what is still locked and the
///   whole unlocks linearly over `INCOME_UNLOCK_PERIOD` from now.
/// - A decimals offset of 6 (shares have 12 decimals over a 6-decimals stablecoin) makes the first-
///   depositor inflation attack cost the attacker about a million times what it could steal.
contract CreditVault is ICreditVault, ERC4626, AccessControlDefaultAdminRules, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice May lend from the pool and record repayments, impairments and losses (the credit lines).
    bytes32 public constant LINE_ROLE = keccak256("LINE_ROLE");
    /// @notice How long income and recovered principal take to count fully in the share price.
    uint32 public constant INCOME_UNLOCK_PERIOD = 7 days;
    /// @notice The shortest redemption cooldown the admin may set.
    uint32 public constant MIN_REDEEM_COOLDOWN = 1 days;
    /// @notice The longest redemption cooldown the admin may set.
    uint32 public constant MAX_REDEEM_COOLDOWN = 30 days;

    uint8 private constant _DECIMALS_OFFSET = 6;

    /// @dev A controller's queued shares and their value when queued.
    struct Request {
        uint128 shares;
        uint128 assets;
        uint40 claimableAt;
    }

    uint256 private _lent;
    uint256 private _impaired;
    uint256 private _losses;
    uint256 private _queuedAssets;
    uint128 private _locked;
    uint40 private _lockedAt;
    uint40 private _unlockedAt;
    uint32 private _redeemCooldown;
    mapping(address controller => Request) private _requests;

    /// @param asset_ The stablecoin.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE: grants LINE_ROLE, pauses, sets the cooldown; handed over
    /// only in two steps `ADMIN_TRANSFER_DELAY` apart.
    constructor(IERC20 asset_, address admin)
        ERC20("TrustMall Credit Pool", "tmCREDIT")
        ERC4626(asset_)
        AccessControlDefaultAdminRules(ADMIN_TRANSFER_DELAY, admin)
    {
        if (address(asset_) == address(0)) revert CreditPoolZeroAddress();
        _redeemCooldown = 3 days;
    }

    // ------------------------------------------------------------------ lines

    /// @inheritdoc ICreditVault
    function lend(address to, uint256 amount) external nonReentrant whenNotPaused onlyRole(LINE_ROLE) {
        if (to == address(0)) revert CreditPoolZeroAddress();
        uint256 idle = _idle();
        uint256 available = idle > _queuedAssets ? idle - _queuedAssets : 0;
        if (amount > available) revert CreditPoolInsufficientLiquidity(available, amount);
        _lent += amount;
        emit LiquidityLent(msg.sender, to, amount);
        IERC20(asset()).safeTransfer(to, amount);
    }

    /// @inheritdoc ICreditVault
    function recordRepayment(uint256 principal, uint256 income, uint256 impairedPrincipal)
        external
        onlyRole(LINE_ROLE)
    {
        _reduceLent(principal);
        if (impairedPrincipal > principal) revert CreditPoolPrincipalExceedsLent(principal, impairedPrincipal);
        _reduceImpaired(impairedPrincipal);
        emit RepaymentReceived(msg.sender, principal, income);
        _lock(income + impairedPrincipal);
    }

    /// @inheritdoc ICreditVault
    function recordImpairment(uint256 principal) external onlyRole(LINE_ROLE) {
        uint256 impaired = _impaired + principal;
        if (impaired > _lent) revert CreditPoolPrincipalExceedsLent(_lent, impaired);
        _impaired = impaired;
        emit PrincipalImpaired(msg.sender, principal);
        _absorb(principal);
    }

    /// @inheritdoc ICreditVault
    function recordLoss(uint256 principal) external onlyRole(LINE_ROLE) {
        _reduceLent(principal);
        _reduceImpaired(principal);
        _losses += principal;
        emit LossRecognized(msg.sender, principal);
    }

    // ------------------------------------------------------------------ lenders

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

    /// @inheritdoc ICreditVault
    function requestRedeem(uint256 shares, address controller, address owner)
        external
        nonReentrant
        returns (uint256 requestId)
    {
        if (shares == 0) revert CreditPoolZeroShares();
        if (controller == address(0)) revert CreditPoolZeroAddress();
        if (msg.sender != owner) _spendAllowance(owner, msg.sender, shares);
        uint256 value = _convertToAssets(shares, Math.Rounding.Floor);
        _transfer(owner, address(this), shares);
        Request storage request = _requests[controller];
        // Adding restarts the cooldown of the whole request: only its controller may do that, or
        // anyone could push a lender's claim back forever with one share every few days.
        if (msg.sender != controller && request.shares != 0) revert CreditPoolNotController(msg.sender, controller);
        request.shares += uint128(shares); // at most the total supply
        request.assets += uint128(value); // at most the total assets
        request.claimableAt = uint40(block.timestamp + _redeemCooldown);
        _queuedAssets += value;
        emit RedeemRequest(controller, owner, 0, msg.sender, shares);
        return 0;
    }

    /// @notice Claims `shares` of the caller's queued request: pays the lower of their value at the
    /// request and now; refused while paused or before the cooldown ends.
    /// @param shares Shares to claim.
    /// @param receiver Who receives the assets.
    /// @param controller The request's controller: the caller.
    /// @return assets Assets paid.
    function redeem(uint256 shares, address receiver, address controller)
        public
        override
        whenNotPaused
        nonReentrant
        returns (uint256 assets)
    {
        if (shares == 0) revert CreditPoolZeroShares();
        if (msg.sender != controller) revert CreditPoolNotController(msg.sender, controller);
        if (receiver == address(0)) revert CreditPoolZeroAddress();
        Request storage request = _requests[controller];
        uint256 queued = request.shares;
        if (shares > queued || block.timestamp < request.claimableAt) {
            revert CreditPoolNotClaimable(controller, shares, _claimable(request), request.claimableAt);
        }
        uint256 assetsAtRequest = Math.mulDiv(shares, request.assets, queued);
        assets = Math.min(assetsAtRequest, _convertToAssets(shares, Math.Rounding.Floor));
        uint256 idle = _idle();
        if (assets > idle) revert CreditPoolInsufficientLiquidity(idle, assets);
        request.shares = uint128(queued - shares);
        request.assets -= uint128(assetsAtRequest);
        _queuedAssets -= assetsAtRequest;
        _burn(address(this), shares);
        emit Withdraw(msg.sender, receiver, controller, assets, shares);
        IERC20(asset()).safeTransfer(receiver, assets);
    }

    /// @notice Not available: lenders leave through `requestRedeem` and `redeem`.
    /// @return Never returns.
    function withdraw(uint256, address, address) public pure override returns (uint256) {
        revert CreditPoolRedeemOnly();
    }

    /// @notice Idle cash plus principal lent out, less impaired principal and income still unlocking.
    /// @return The vault's assets.
    function totalAssets() public view override returns (uint256) {
        // Impaired principal is at most the principal lent out, and losses eat locked income first
        // (`_absorb`), so impaired plus locked never exceed idle plus lent; ERC-4626 says totalAssets
        // must not revert, so the subtraction is guarded all the same.
        uint256 held = _idle() + _lent - _impaired;
        uint256 locked = _lockedNow();
        return held > locked ? held - locked : 0;
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

    /// @notice Always 0: exits are claimed with `redeem`.
    /// @return 0.
    function maxWithdraw(address) public pure override returns (uint256) {
        return 0;
    }

    /// @notice The shares `controller` may claim now, as far as idle cash pays them (0 while paused).
    /// @param controller The request's controller.
    /// @return The maximum.
    function maxRedeem(address controller) public view override returns (uint256) {
        if (paused()) return 0;
        Request storage request = _requests[controller];
        uint256 claimable = _claimable(request);
        if (claimable == 0) return 0;
        uint256 perShare = Math.min(
            Math.mulDiv(claimable, request.assets, request.shares), _convertToAssets(claimable, Math.Rounding.Floor)
        );
        uint256 idle = _idle();
        if (perShare <= idle) return claimable;
        return Math.mulDiv(claimable, idle, perShare);
    }

    /// @notice Not available for an asynchronous exit (ERC-7540).
    /// @return Never returns.
    function previewRedeem(uint256) public pure override returns (uint256) {
        revert CreditPoolAsyncRedeem();
    }

    /// @notice Not available for an asynchronous exit (ERC-7540).
    /// @return Never returns.
    function previewWithdraw(uint256) public pure override returns (uint256) {
        revert CreditPoolAsyncRedeem();
    }

    /// @inheritdoc ICreditVault
    function pendingRedeemRequest(uint256, address controller) external view returns (uint256) {
        Request storage request = _requests[controller];
        return block.timestamp < request.claimableAt ? request.shares : 0;
    }

    /// @inheritdoc ICreditVault
    function claimableRedeemRequest(uint256, address controller) external view returns (uint256) {
        return _claimable(_requests[controller]);
    }

    /// @inheritdoc ICreditVault
    function redeemRequestOf(address controller)
        external
        view
        returns (uint256 shares, uint256 assetsAtRequest, uint256 claimableAt)
    {
        Request storage request = _requests[controller];
        return (request.shares, request.assets, request.claimableAt);
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc ICreditVault
    function setRedeemCooldown(uint32 cooldown) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (cooldown < MIN_REDEEM_COOLDOWN || cooldown > MAX_REDEEM_COOLDOWN) {
            revert CreditPoolInvalidCooldown(cooldown);
        }
        _redeemCooldown = cooldown;
        emit RedeemCooldownChanged(cooldown);
    }

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
    function impairedAssets() external view returns (uint256) {
        return _impaired;
    }

    /// @inheritdoc ICreditVault
    function lockedIncome() external view returns (uint256) {
        return _lockedNow();
    }

    /// @inheritdoc ICreditVault
    function queuedAssets() external view returns (uint256) {
        return _queuedAssets;
    }

    /// @inheritdoc ICreditVault
    function totalLosses() external view returns (uint256) {
        return _losses;
    }

    /// @inheritdoc ICreditVault
    function redeemCooldown() external view returns (uint32) {
        return _redeemCooldown;
    }

    // ------------------------------------------------------------------ internals

    function _idle() private view returns (uint256) {
        return IERC20(asset()).balanceOf(address(this));
    }

    function _claimable(Request storage request) private view returns (uint256) {
        return block.timestamp < request.claimableAt ? 0 : request.shares;
    }

    /// @dev What is still locked now: the last locked amount, unlocking linearly until `_unlockedAt`.
    function _lockedNow() private view returns (uint256) {
        uint256 unlockedAt = _unlockedAt;
        if (block.timestamp >= unlockedAt) return 0;
        return Math.mulDiv(_locked, unlockedAt - block.timestamp, unlockedAt - _lockedAt);
    }

    /// @dev A loss is set against income still unlocking first (as Yearn V3 does): that income was never
    /// in the share price, and the cash it came as may be what was lent and lost. This keeps
    /// `impaired + locked <= idle + lent`, so `totalAssets` never needs its floor, and a deposit made
    /// after a loss cannot buy shares cheaply and then collect income that unlocks.
    function _absorb(uint256 loss) private {
        uint256 locked = _lockedNow();
        // An amount compared with zero (nothing left to absorb), not a time: one wei more would only
        // absorb one wei.
        // slither-disable-next-line incorrect-equality
        if (locked == 0) return;
        uint256 absorbed = Math.min(locked, loss);
        uint256 left = locked - absorbed;
        // The rest unlocks by the same date as before, from now.
        _locked = uint128(left);
        _lockedAt = uint40(block.timestamp);
        emit LockedIncomeAbsorbed(absorbed, left);
    }

    /// @dev Adds `amount` to what is locked and restarts the unlocking over a whole period.
    function _lock(uint256 amount) private {
        if (amount == 0) return;
        uint256 locked = _lockedNow() + amount;
        uint256 unlockedAt = block.timestamp + INCOME_UNLOCK_PERIOD;
        _locked = uint128(locked); // at most the assets ever repaid
        _lockedAt = uint40(block.timestamp);
        _unlockedAt = uint40(unlockedAt);
        emit IncomeLocked(amount, locked, unlockedAt);
    }

    function _reduceLent(uint256 principal) private {
        uint256 lent = _lent;
        if (principal > lent) revert CreditPoolPrincipalExceedsLent(lent, principal);
        // Checked just above: principal <= lent.
        unchecked {
            _lent = lent - principal;
        }
    }

    function _reduceImpaired(uint256 principal) private {
        uint256 impaired = _impaired;
        if (principal > impaired) revert CreditPoolPrincipalExceedsImpaired(impaired, principal);
        // Checked just above: principal <= impaired.
        unchecked {
            _impaired = impaired - principal;
        }
    }

    function _decimalsOffset() internal pure override returns (uint8) {
        return _DECIMALS_OFFSET;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {ADMIN_TRANSFER_DELAY} from "../common/AdminDelay.sol";
import {IOrderEscrow} from "./IOrderEscrow.sol";

/// @title EscrowConfig
/// @notice The admin's settings of the order escrow: platform fee and its recipient, the ERC-20
/// allow-list, bounds on dispute windows, the arbitration period, the seller-record floor, and the pause.
/// @dev The fee, the window bounds and the arbitration period pack into the slot of Pausable's
/// `_paused` flag (declared just before them in the linearised layout), so opening an order reads
/// all its settings from one cold slot.
abstract contract EscrowConfig is IOrderEscrow, AccessControlDefaultAdminRules, Pausable {
    /// @notice The highest platform fee the admin may set: 10%.
    uint16 public constant MAX_FEE_BPS = 1_000;
    /// @notice The shortest dispute window the admin may allow: one hour.
    uint32 public constant MIN_DISPUTE_WINDOW = 1 hours;
    /// @notice The longest dispute window the admin may allow: 90 days.
    uint32 public constant MAX_DISPUTE_WINDOW = 90 days;
    /// @notice The shortest arbitration period: one day.
    uint32 public constant MIN_ARBITRATION_PERIOD = 1 days;
    /// @notice The longest arbitration period: 90 days.
    uint32 public constant MAX_ARBITRATION_PERIOD = 90 days;
    /// @notice The shortest ship-by horizon the admin may set: one day.
    uint32 public constant MIN_SHIP_BY_HORIZON = 1 days;
    /// @notice The longest ship-by horizon the admin may set: 180 days.
    uint32 public constant MAX_SHIP_BY_HORIZON = 180 days;

    uint16 private _feeBps;
    uint32 private _minDisputeWindow;
    uint32 private _maxDisputeWindow;
    uint32 private _arbitrationPeriod;
    uint32 private _shipByHorizon;
    address private _feeRecipient;
    mapping(address token => bool allowed) private _allowedTokens;
    mapping(address token => uint256 amount) private _sellerRecordFloors;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE, handed over only in two steps `ADMIN_TRANSFER_DELAY` apart.
    /// @param recipient Who is credited the platform fee.
    constructor(address admin, address recipient) AccessControlDefaultAdminRules(ADMIN_TRANSFER_DELAY, admin) {
        if (recipient == address(0)) revert EscrowZeroAddress();
        _feeRecipient = recipient;
        _minDisputeWindow = 1 days;
        _maxDisputeWindow = 30 days;
        _arbitrationPeriod = 14 days;
        _shipByHorizon = 60 days;
    }

    /// @inheritdoc IOrderEscrow
    function setFee(uint16 newFeeBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newFeeBps > MAX_FEE_BPS) revert EscrowFeeAboveCap(newFeeBps, MAX_FEE_BPS);
        emit FeeChanged(_feeBps, newFeeBps);
        _feeBps = newFeeBps;
    }

    /// @inheritdoc IOrderEscrow
    function setFeeRecipient(address recipient) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (recipient == address(0)) revert EscrowZeroAddress();
        emit FeeRecipientChanged(_feeRecipient, recipient);
        _feeRecipient = recipient;
    }

    /// @inheritdoc IOrderEscrow
    function setTokenAllowed(address token, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (token == address(0)) revert EscrowZeroAddress();
        _allowedTokens[token] = allowed;
        emit TokenAllowListed(token, allowed);
    }

    /// @inheritdoc IOrderEscrow
    function setDisputeWindowBounds(uint32 min, uint32 max) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (min < MIN_DISPUTE_WINDOW || min > max || max > MAX_DISPUTE_WINDOW) {
            revert EscrowInvalidDisputeWindowBounds(min, max);
        }
        _minDisputeWindow = min;
        _maxDisputeWindow = max;
        emit DisputeWindowBoundsChanged(min, max);
    }

    /// @inheritdoc IOrderEscrow
    function setArbitrationPeriod(uint32 period) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (period < MIN_ARBITRATION_PERIOD || period > MAX_ARBITRATION_PERIOD) {
            revert EscrowInvalidArbitrationPeriod(period);
        }
        _arbitrationPeriod = period;
        emit ArbitrationPeriodChanged(period);
    }

    /// @inheritdoc IOrderEscrow
    function setShipByHorizon(uint32 horizon) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (horizon < MIN_SHIP_BY_HORIZON || horizon > MAX_SHIP_BY_HORIZON) revert EscrowInvalidShipByHorizon(horizon);
        _shipByHorizon = horizon;
        emit ShipByHorizonChanged(horizon);
    }

    /// @inheritdoc IOrderEscrow
    function setSellerRecordFloor(address token, uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _sellerRecordFloors[token] = amount;
        emit SellerRecordFloorChanged(token, amount);
    }

    /// @inheritdoc IOrderEscrow
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @inheritdoc IOrderEscrow
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    /// @inheritdoc IOrderEscrow
    function feeBps() external view returns (uint16) {
        return _feeBps;
    }

    /// @inheritdoc IOrderEscrow
    function feeRecipient() external view returns (address) {
        return _feeRecipient;
    }

    /// @inheritdoc IOrderEscrow
    function isTokenAllowed(address token) external view returns (bool) {
        return _allowedTokens[token];
    }

    /// @inheritdoc IOrderEscrow
    function shipByHorizon() external view returns (uint32) {
        return _shipByHorizon;
    }

    /// @inheritdoc IOrderEscrow
    function sellerRecordFloor(address token) external view returns (uint256) {
        return _sellerRecordFloors[token];
    }

    /// @inheritdoc IOrderEscrow
    function disputeWindowBounds() external view returns (uint32 min, uint32 max) {
        return (_minDisputeWindow, _maxDisputeWindow);
    }

    /// @inheritdoc IOrderEscrow
    function arbitrationPeriod() external view returns (uint32) {
        return _arbitrationPeriod;
    }

    /// @dev Checks an order's dispute window, fee snapshot and ship-by against the current settings.
    function _checkSettings(OrderTerms calldata terms) internal view {
        uint32 window = terms.disputeWindow;
        if (window < _minDisputeWindow || window > _maxDisputeWindow) {
            revert EscrowDisputeWindowOutOfBounds(window, _minDisputeWindow, _maxDisputeWindow);
        }
        if (terms.feeBps != _feeBps) revert EscrowFeeMismatch(terms.feeBps, _feeBps);
        uint256 latest = block.timestamp + _shipByHorizon;
        if (terms.shipBy > latest) revert EscrowShipByTooFar(terms.shipBy, latest);
    }

    /// @dev Whether new orders may use an ERC-20.
    function _isAllowed(address token) internal view returns (bool) {
        return _allowedTokens[token];
    }

    /// @dev The arbitration period for a dispute opened now.
    function _currentArbitrationPeriod() internal view returns (uint32) {
        return _arbitrationPeriod;
    }

    /// @dev Who is credited fees now.
    function _currentFeeRecipient() internal view returns (address) {
        return _feeRecipient;
    }
}

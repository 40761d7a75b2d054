// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {ICreditPolicies} from "./ICreditPolicies.sol";

/// @title CreditPolicies
/// @notice The admin's versioned, append-only credit policies, read by the credit lines, and the count
/// of new credit per window that the current policy caps.
/// @dev A band's tier lives in one slot keyed by (version, band); a published tier always has a
/// non-zero term, so a zero term reads "no tier for this band". The current version and the window's
/// count share one slot, which every draw reads anyway; Pausable is inherited here, just before them in
/// the linearised layout, so the lines' pause flag packs into that slot too and the pause check of an
/// application or a draw reads no slot of its own.
abstract contract CreditPolicies is ICreditPolicies, AccessControlDefaultAdminRules, Pausable {
    /// @notice May publish credit policies.
    bytes32 public constant POLICY_ROLE = keccak256("POLICY_ROLE");
    /// @notice The highest APR a tier may carry: 100% (10,000 basis points).
    uint16 public constant MAX_APR_BPS = 10_000;
    /// @notice The most tiers a policy may have: one per possible band.
    uint256 public constant MAX_TIERS = 256;

    /// @dev A line's own part of a window's count: what it drew in the window that began at `start`.
    struct LineWindow {
        uint40 start;
        uint96 drawn;
    }

    uint16 private _currentVersion;
    uint40 private _windowStart;
    uint128 private _drawnInWindow;
    mapping(address borrower => LineWindow) private _lineWindows;
    mapping(uint16 version => PolicyRules) private _rules;
    mapping(uint16 version => mapping(uint8 band => Tier)) private _tiers;

    /// @inheritdoc ICreditPolicies
    function publishPolicy(PolicyRules calldata rules, Tier[] calldata tiers)
        external
        onlyRole(POLICY_ROLE)
        returns (uint16 version)
    {
        uint256 count = tiers.length;
        if (count == 0 || count > MAX_TIERS) revert CreditPolicyInvalidTier(count);
        if (rules.minBand >= count || rules.refreshPeriod == 0 || rules.capPeriod == 0 || rules.periodCap == 0) {
            revert CreditPolicyInvalidRules(rules.minBand, count, rules.refreshPeriod);
        }
        version = _currentVersion + 1;
        for (uint256 i; i < count; ++i) {
            Tier calldata tier = tiers[i];
            if (tier.term == 0 || tier.aprBps > MAX_APR_BPS || tier.gracePeriod >= rules.defaultAfter) {
                revert CreditPolicyInvalidTier(i);
            }
            _tiers[version][uint8(i)] = tier;
        }
        _rules[version] = rules;
        _currentVersion = version;
        emit PolicyPublished(version, rules, tiers);
    }

    /// @inheritdoc ICreditPolicies
    function currentPolicyVersion() external view returns (uint16) {
        return _currentVersion;
    }

    /// @inheritdoc ICreditPolicies
    function periodCredit() external view returns (uint256 drawn, uint256 remaining, uint256 windowEndsAt) {
        PolicyRules memory rules = _rules[_currentVersion];
        if (rules.capPeriod == 0) return (0, 0, 0);
        uint256 start = _windowStartNow(rules.capPeriod);
        // Whether the stored count is this window's: two window starts compared as keys, not a deadline.
        // slither-disable-next-line incorrect-equality
        drawn = _windowStart == start ? _drawnInWindow : 0;
        remaining = drawn < rules.periodCap ? rules.periodCap - drawn : 0;
        windowEndsAt = start + rules.capPeriod;
    }

    /// @inheritdoc ICreditPolicies
    function policyRules(uint16 version) external view returns (PolicyRules memory) {
        return _rules[version];
    }

    /// @inheritdoc ICreditPolicies
    function policyTier(uint16 version, uint8 band) external view returns (Tier memory) {
        return _tiers[version][band];
    }

    /// @dev The current version, its rules, and its tier for `band`.
    function _current(uint8 band) internal view returns (uint16 version, PolicyRules memory rules, Tier memory tier) {
        version = _currentVersion;
        if (version == 0) revert CreditNoPolicy();
        rules = _rules[version];
        tier = _tiers[version][band];
    }

    /// @dev Counts `amount` of new credit drawn by `borrower`'s line in the current window, refusing it past the
    /// current policy's cap.
    function _countNewCredit(address borrower, uint256 amount) internal {
        PolicyRules memory rules = _rules[_currentVersion];
        uint256 start = _windowStartNow(rules.capPeriod);
        // Whether the stored count is this window's: two window starts compared as keys, not a deadline.
        // slither-disable-next-line incorrect-equality
        uint256 drawn = _windowStart == start ? _drawnInWindow : 0;
        if (drawn + amount > rules.periodCap) {
            revert CreditPeriodCapReached(drawn, amount, rules.periodCap, start + rules.capPeriod);
        }
        _windowStart = uint40(start);
        _drawnInWindow = uint128(drawn + amount); // at most periodCap, a uint96
        LineWindow memory own = _lineWindows[borrower];
        // Window starts compared as keys, not a deadline.
        // slither-disable-next-line incorrect-equality
        uint256 ownDrawn = own.start == start ? own.drawn : 0;
        _lineWindows[borrower] = LineWindow(uint40(start), uint96(ownDrawn + amount)); // at most periodCap
    }

    /// @dev Takes off the current window's count the part of `principal` (repaid on `borrower`'s line) that the
    /// line drew in this window: credit drawn and repaid within a window is not new credit. Never reverts, so
    /// that no repayment can be refused for it.
    function _uncountRepaid(address borrower, uint256 principal) internal {
        LineWindow memory own = _lineWindows[borrower];
        // Amounts compared with zero: nothing repaid, or nothing of the line's counted; no time compared.
        // slither-disable-next-line incorrect-equality
        if (principal == 0 || own.drawn == 0) return;
        uint256 start = _windowStartNow(_rules[_currentVersion].capPeriod);
        if (own.start != start || _windowStart != start) return; // not this window's draws
        uint256 freed = Math.min(principal, own.drawn);
        _lineWindows[borrower].drawn = uint96(own.drawn - freed);
        uint256 total = _drawnInWindow;
        _drawnInWindow = uint128(total - Math.min(total, freed));
    }

    /// @dev When the current window of `capPeriod` seconds began.
    function _windowStartNow(uint256 capPeriod) private view returns (uint256) {
        // The clock rounded down to a multiple of the cap period, a calendar rule; nothing random is
        // drawn from the clock here.
        // slither-disable-next-line weak-prng
        return block.timestamp - (block.timestamp % capPeriod);
    }

    /// @dev A version's rules and its tier for `band`.
    function _policy(uint16 version, uint8 band) internal view returns (PolicyRules memory, Tier memory) {
        return (_rules[version], _tiers[version][band]);
    }
}

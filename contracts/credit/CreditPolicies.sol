// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {ICreditPolicies} from "./ICreditPolicies.sol";

/// @title CreditPolicies
/// @notice The admin's versioned, append-only credit policies, read by the credit lines.
/// @dev A band's tier lives in one slot keyed by (version, band); a published tier always has a
/// non-zero term, so a zero term reads "no tier for this band".
abstract contract CreditPolicies is ICreditPolicies, AccessControl {
    /// @notice May publish credit policies.
    bytes32 public constant POLICY_ROLE = keccak256("POLICY_ROLE");
    /// @notice The highest APR a tier may carry: 100% (10,000 basis points).
    uint16 public constant MAX_APR_BPS = 10_000;
    /// @notice The most tiers a policy may have: one per possible band.
    uint256 public constant MAX_TIERS = 256;

    uint16 private _currentVersion;
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
        if (rules.minBand >= count || rules.refreshPeriod == 0) {
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
    function policyRules(uint16 version) external view returns (PolicyRules memory) {
        return _rules[version];
    }

    /// @inheritdoc ICreditPolicies
    function policyTier(uint16 version, uint8 band) external view returns (Tier memory) {
        return _tiers[version][band];
    }

    /// @dev The current version, its rules, and its tier for `band`.
    function _current(uint8 band)
        internal
        view
        returns (uint16 version, PolicyRules memory rules, Tier memory tier)
    {
        version = _currentVersion;
        if (version == 0) revert CreditNoPolicy();
        rules = _rules[version];
        tier = _tiers[version][band];
    }

    /// @dev A version's rules and its tier for `band`.
    function _policy(uint16 version, uint8 band) internal view returns (PolicyRules memory, Tier memory) {
        return (_rules[version], _tiers[version][band]);
    }
}

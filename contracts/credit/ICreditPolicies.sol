// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ICreditPolicies
/// @notice Vocabulary of the credit policy: the public rules every application is decided by.
/// @dev Policies are versioned and append-only: publishing makes a new version current and never
/// changes an old one, so a line keeps the terms of the version it was approved under and anyone can
/// recompute any decision from the events. Bands index the tiers: an attested band `b` uses
/// `tiers[b]` of the policy; a band with no tier, or below `minBand`, is denied.
interface ICreditPolicies {
    // ------------------------------------------------------------------ types

    /// @notice The terms of one score band. One storage slot.
    /// @param limit Most principal a line in this band may have outstanding after a draw.
    /// @param aprBps Simple annual interest on outstanding principal, in basis points (365-day year).
    /// @param term Seconds from the first draw of a cycle until everything owed is due.
    /// @param gracePeriod Seconds after the due time before the late fee is charged.
    /// @param lateFee Charged once per cycle when the grace period has run out.
    struct Tier {
        uint96 limit;
        uint16 aprBps;
        uint32 term;
        uint32 gracePeriod;
        uint80 lateFee;
    }

    /// @notice The rules of a policy version besides its tiers. One storage slot.
    /// @param minBand The lowest band approved.
    /// @param refreshPeriod Seconds an attestation keeps a line drawable after it was issued; an older
    /// one puts the line on hold (no draws) until a fresher attestation is applied.
    /// @param defaultAfter Seconds after the due time at which an unpaid line is defaulted and frozen.
    /// @param walletDraws Whether borrowers may draw to their wallet (otherwise only into escrow orders).
    /// @param capPeriod Length of the windows in which new credit is counted (seconds, windows aligned to
    /// multiples of it since the epoch).
    /// @param periodCap Most new principal all lines together may draw in one window, whoever attested it:
    /// bounds what a stolen attester key, or a flaw in the policy, can lend before anyone reacts. Principal a
    /// line repays of what it drew in the same window is not new credit and is taken off the count again (so
    /// drawing and repaying in turn cannot use up everyone's credit); principal drawn in an earlier window
    /// frees nothing.
    struct PolicyRules {
        uint8 minBand;
        uint32 refreshPeriod;
        uint32 defaultAfter;
        bool walletDraws;
        uint32 capPeriod;
        uint96 periodCap;
    }

    // ------------------------------------------------------------------ errors

    /// @notice Thrown when applying or drawing before any policy was published.
    error CreditNoPolicy();
    /// @notice Thrown when a policy's rules are inconsistent (minBand without a tier, zero refresh period,
    /// no cap on new credit or no window for it).
    error CreditPolicyInvalidRules(uint8 minBand, uint256 tierCount, uint32 refreshPeriod);
    /// @notice Thrown when a draw would take the new credit of the current window past the policy's cap.
    error CreditPeriodCapReached(uint256 drawnInWindow, uint256 requested, uint256 cap, uint256 windowEndsAt);
    /// @notice Thrown when a tier has no term, an APR above the cap, or a grace period not shorter than
    /// the default threshold; or when there are no tiers or more than 256.
    error CreditPolicyInvalidTier(uint256 index);

    // ------------------------------------------------------------------ events

    /// @notice Emitted when the admin publishes a policy; it is current from now on.
    event PolicyPublished(uint16 indexed version, PolicyRules rules, Tier[] tiers);

    // ------------------------------------------------------------------ functions

    /// @notice Publishes a new policy version and makes it current. POLICY_ROLE only.
    /// @dev Allowed while the credit lines are paused: a policy can be corrected during a pause; it binds
    /// applications and draws, which the pause refuses until it is lifted.
    /// @param rules The rules.
    /// @param tiers The tiers; `tiers[b]` applies to band `b`.
    /// @return version The new version (the first is 1).
    function publishPolicy(PolicyRules calldata rules, Tier[] calldata tiers) external returns (uint16 version);

    /// @notice The version new applications are decided by (0 before the first).
    /// @return The version.
    function currentPolicyVersion() external view returns (uint16);

    /// @notice New credit drawn in the current window and what the current policy still allows in it.
    /// @return drawn Principal drawn since the window began, less what each line repaid of its own draws in it.
    /// @return remaining What may still be drawn before the window ends.
    /// @return windowEndsAt When the next window begins.
    function periodCredit() external view returns (uint256 drawn, uint256 remaining, uint256 windowEndsAt);

    /// @notice A policy version's rules.
    /// @param version The version.
    /// @return The rules (zero when unknown).
    function policyRules(uint16 version) external view returns (PolicyRules memory);

    /// @notice A policy version's tier for a band.
    /// @param version The version.
    /// @param band The band.
    /// @return The tier (zero term when the band has none).
    function policyTier(uint16 version, uint8 band) external view returns (Tier memory);
}

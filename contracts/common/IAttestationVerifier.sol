// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IAttestationVerifier
/// @notice Vocabulary of the credit-score attestation verifier: a bureau's signed statement that a
/// borrower's score falls in a policy band, checked against a k-of-n set of authorised attesters.
/// @dev The signed message is EIP-712 typed data, domain `TrustMall Credit Attestations`, version
/// `1`, bound to the chain id and this contract's address:
///   CreditAttestation(address borrower,bytes32 identityHash,uint8 band,bytes32 modelId,
///     bytes32 reportHash,uint40 issuedAt,uint40 expiresAt,uint256 nonce,uint64 attesterSetVersion)
/// `attesterSetVersion` is the version of the attester set (and quorum) the attesters signed under;
/// every change to the set bumps it, so signatures made before an attester was removed stop working.
/// Only the band, the model id, a commitment to the full report and a keyed commitment to the
/// borrower's legal identity reach the chain.
/// Nonces form one namespace per verifier, spent in a bitmap (word = nonce >> 8): sequential nonces
/// share a storage word and cost little to spend.
interface IAttestationVerifier {
    // ------------------------------------------------------------------ types

    /// @notice A bureau's statement about a borrower's credit score, as signed (EIP-712).
    /// @param borrower The account the score belongs to.
    /// @param identityHash The borrower's identity commitment: HMAC-SHA256 of its legal identifier under
    /// the platform's identity key, computed as for a merchant's owner (`IProductRegistry.approveMerchant`),
    /// so one person is one line and cannot pay its own shop with credit. Never zero.
    /// @param band The policy tier the score falls in (not the raw score).
    /// @param modelId Identifier of the scoring model that produced the score.
    /// @param reportHash Commitment (hash) to the full off-chain report.
    /// @param issuedAt When the attester issued the statement (unix seconds).
    /// @param expiresAt First second at which the statement is no longer valid.
    /// @param nonce Single-use number; spent when the attestation is consumed.
    /// @param attesterSetVersion The attester set version the statement was signed under.
    struct Attestation {
        address borrower;
        bytes32 identityHash;
        uint8 band;
        bytes32 modelId;
        bytes32 reportHash;
        uint40 issuedAt;
        uint40 expiresAt;
        uint256 nonce;
        uint64 attesterSetVersion;
    }

    // ------------------------------------------------------------------ errors

    /// @notice Thrown when an address that must be set is zero.
    error AttestationZeroAddress();
    /// @notice Thrown when an attestation carries no identity commitment.
    error AttestationMissingIdentity();
    /// @notice Thrown when adding an account that already is an attester.
    error AttestationAttesterExists(address attester);
    /// @notice Thrown when removing an account that is no attester.
    error AttestationAttesterNotFound(address attester);
    /// @notice Thrown when a quorum is zero or larger than the attester set.
    error AttestationInvalidQuorum(uint256 quorum, uint256 attesterCount);
    /// @notice Thrown when fewer signatures than the quorum are given.
    error AttestationQuorumNotMet(uint256 signatures, uint256 quorum);
    /// @notice Thrown when a signature is malformed or recovers no address.
    error AttestationInvalidSignature(uint256 index);
    /// @notice Thrown when a signature has a high `s` value (a malleated copy of a valid one).
    error AttestationMalleableSignature(uint256 index);
    /// @notice Thrown when a signature recovers an account that is not an attester.
    error AttestationUnknownAttester(uint256 index, address signer);
    /// @notice Thrown when signers are not in strictly ascending address order (this rejects duplicates).
    error AttestationSignersNotAscending(uint256 index, address signer);
    /// @notice Thrown when an attestation was signed under another attester set version.
    error AttestationSetVersionMismatch(uint64 signedVersion, uint64 currentVersion);
    /// @notice Thrown when an attestation's issue time is in the future or not before its expiry.
    error AttestationNotYetValid(uint40 issuedAt, uint40 expiresAt, uint256 blockTime);
    /// @notice Thrown when an attestation has expired.
    error AttestationExpired(uint40 expiresAt, uint256 blockTime);
    /// @notice Thrown when an attestation's nonce was already spent.
    error AttestationNonceUsed(uint256 nonce);

    // ------------------------------------------------------------------ events

    /// @notice Emitted when the admin adds an attester; the set version is now `setVersion`.
    event AttesterAdded(address indexed attester, uint64 setVersion);
    /// @notice Emitted when the admin removes an attester; the set version is now `setVersion`.
    event AttesterRemoved(address indexed attester, uint64 setVersion);
    /// @notice Emitted when the admin changes the quorum; the set version is now `setVersion`.
    event QuorumChanged(uint256 quorum, uint64 setVersion);

    // ------------------------------------------------------------------ checks

    /// @notice Checks an attestation without spending it: quorum of authorised, distinct signers
    /// (ascending by address), current set version, issued and not expired, nonce unspent.
    /// @param attestation The statement.
    /// @param signatures 65-byte signatures (r, s, v) of the EIP-712 digest, ascending by signer.
    /// @return digest The EIP-712 digest the attesters signed.
    function verify(Attestation calldata attestation, bytes[] calldata signatures)
        external
        view
        returns (bytes32 digest);

    /// @notice Checks an attestation as `verify` does and spends its nonce.
    /// @dev CONSUMER_ROLE only (the credit lines contract).
    /// @param attestation The statement.
    /// @param signatures 65-byte signatures of the EIP-712 digest, ascending by signer.
    /// @return digest The EIP-712 digest the attesters signed.
    function consume(Attestation calldata attestation, bytes[] calldata signatures) external returns (bytes32 digest);

    // ------------------------------------------------------------------ admin

    /// @notice Authorises an attester; bumps the set version (outstanding signatures stop working).
    /// @param attester The attester's signing address.
    function addAttester(address attester) external;

    /// @notice Removes an attester; bumps the set version, so its unused attestations stop working.
    /// @param attester The attester's signing address.
    function removeAttester(address attester) external;

    /// @notice Sets how many distinct attesters must sign; bumps the set version.
    /// @param quorum The k of k-of-n, between 1 and the number of attesters.
    function setQuorum(uint256 quorum) external;

    // ------------------------------------------------------------------ views

    /// @notice The EIP-712 digest of an attestation under this verifier's domain.
    /// @param attestation The statement.
    /// @return The digest attesters sign.
    function digestOf(Attestation calldata attestation) external view returns (bytes32);

    /// @notice Whether an account is an authorised attester.
    /// @param account The account.
    /// @return True if authorised.
    function isAttester(address account) external view returns (bool);

    /// @notice How many attesters are authorised (the n of k-of-n).
    /// @return The count.
    function attesterCount() external view returns (uint256);

    /// @notice How many distinct attesters must sign (the k of k-of-n).
    /// @return The quorum.
    function quorum() external view returns (uint256);

    /// @notice The current attester set version; attestations must carry it.
    /// @return The version.
    function attesterSetVersion() external view returns (uint64);

    /// @notice Whether a nonce was already spent.
    /// @param nonce The nonce.
    /// @return True if spent.
    function isNonceUsed(uint256 nonce) external view returns (bool);
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {ADMIN_TRANSFER_DELAY} from "./AdminDelay.sol";
import {IAttestationVerifier} from "./IAttestationVerifier.sol";

/// @title AttestationVerifier
/// @notice Checks credit-score attestations signed by a k-of-n quorum of authorised attesters and
/// spends each one once.
/// @dev Decisions:
/// - Signatures come ascending by signer address; each must recover a distinct authorised attester,
///   so a duplicate (or one key signing twice) cannot count twice toward the quorum.
/// - Every signature given must be valid, not only the first k: a bad one is an error, not noise.
/// - OpenZeppelin's ECDSA refuses high-`s` signatures, so a malleated copy of a signature fails.
/// - Any change to the set (add, remove, quorum) bumps `attesterSetVersion`, which is part of the
///   signed struct: signatures made under an older set stop working, a removed attester's included.
/// - Time window: `issuedAt <= now < expiresAt`. How old an attestation may be to keep a credit line
///   drawable is the credit policy's business (its refresh period), not the verifier's.
contract AttestationVerifier is IAttestationVerifier, AccessControlDefaultAdminRules, EIP712 {
    /// @notice May spend attestations (the credit lines contract).
    bytes32 public constant CONSUMER_ROLE = keccak256("CONSUMER_ROLE");
    /// @notice EIP-712 type hash of `Attestation`.
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "CreditAttestation(address borrower,bytes32 identityHash,uint8 band,bytes32 modelId,bytes32 reportHash,"
        "uint40 issuedAt,uint40 expiresAt,uint256 nonce,uint64 attesterSetVersion)"
    );

    uint64 private _setVersion;
    uint16 private _attesterCount;
    uint16 private _quorum;
    mapping(address account => bool authorised) private _attesters;
    mapping(uint256 word => uint256 bits) private _nonceBitmap;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE, who manages attesters and grants CONSUMER_ROLE; handed
    /// over only in two steps `ADMIN_TRANSFER_DELAY` apart.
    /// @param attesters The initial attesters.
    /// @param initialQuorum The initial k (the suite's deployment uses at least 2: no single key decides).
    constructor(address admin, address[] memory attesters, uint256 initialQuorum)
        AccessControlDefaultAdminRules(ADMIN_TRANSFER_DELAY, admin)
        EIP712("TrustMall Credit Attestations", "1")
    {
        for (uint256 i; i < attesters.length; ++i) {
            _add(attesters[i]);
        }
        _setQuorum(initialQuorum);
    }

    // ------------------------------------------------------------------ checks

    /// @inheritdoc IAttestationVerifier
    function verify(Attestation calldata attestation, bytes[] calldata signatures)
        external
        view
        returns (bytes32 digest)
    {
        digest = _check(attestation, signatures);
        if (isNonceUsed(attestation.nonce)) revert AttestationNonceUsed(attestation.nonce);
    }

    /// @inheritdoc IAttestationVerifier
    function consume(Attestation calldata attestation, bytes[] calldata signatures)
        external
        onlyRole(CONSUMER_ROLE)
        returns (bytes32 digest)
    {
        digest = _check(attestation, signatures);
        uint256 nonce = attestation.nonce;
        uint256 bit = 1 << (nonce & 0xff);
        uint256 bits = _nonceBitmap[nonce >> 8];
        if (bits & bit != 0) revert AttestationNonceUsed(nonce);
        _nonceBitmap[nonce >> 8] = bits | bit;
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc IAttestationVerifier
    function addAttester(address attester) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _add(attester);
    }

    /// @inheritdoc IAttestationVerifier
    function removeAttester(address attester) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_attesters[attester]) revert AttestationAttesterNotFound(attester);
        uint256 remaining = _attesterCount - 1;
        if (remaining < _quorum) revert AttestationInvalidQuorum(_quorum, remaining);
        _attesters[attester] = false;
        _attesterCount = uint16(remaining);
        emit AttesterRemoved(attester, _bump());
    }

    /// @inheritdoc IAttestationVerifier
    function setQuorum(uint256 newQuorum) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setQuorum(newQuorum);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IAttestationVerifier
    function digestOf(Attestation calldata attestation) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ATTESTATION_TYPEHASH, attestation)));
    }

    /// @inheritdoc IAttestationVerifier
    function isAttester(address account) external view returns (bool) {
        return _attesters[account];
    }

    /// @inheritdoc IAttestationVerifier
    function attesterCount() external view returns (uint256) {
        return _attesterCount;
    }

    /// @inheritdoc IAttestationVerifier
    function quorum() external view returns (uint256) {
        return _quorum;
    }

    /// @inheritdoc IAttestationVerifier
    function attesterSetVersion() external view returns (uint64) {
        return _setVersion;
    }

    /// @inheritdoc IAttestationVerifier
    function isNonceUsed(uint256 nonce) public view returns (bool) {
        return _nonceBitmap[nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    // ------------------------------------------------------------------ internals

    /// @dev Everything but the nonce: set version, time window, quorum of ascending authorised signers.
    function _check(Attestation calldata attestation, bytes[] calldata signatures)
        private
        view
        returns (bytes32 digest)
    {
        if (attestation.attesterSetVersion != _setVersion) {
            revert AttestationSetVersionMismatch(attestation.attesterSetVersion, _setVersion);
        }
        if (attestation.borrower == address(0)) revert AttestationZeroAddress();
        if (attestation.identityHash == bytes32(0)) revert AttestationMissingIdentity();
        uint40 issuedAt = attestation.issuedAt;
        uint40 expiresAt = attestation.expiresAt;
        if (issuedAt > block.timestamp || issuedAt >= expiresAt) {
            revert AttestationNotYetValid(issuedAt, expiresAt, block.timestamp);
        }
        if (block.timestamp >= expiresAt) revert AttestationExpired(expiresAt, block.timestamp);
        uint256 count = signatures.length;
        if (count < _quorum) revert AttestationQuorumNotMet(count, _quorum);

        digest = digestOf(attestation);
        address previous = address(0);
        for (uint256 i; i < count; ++i) {
            // The third value (the error's argument) is not needed: `error` alone picks the revert.
            // slither-disable-next-line unused-return
            (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecover(digest, signatures[i]);
            if (error == ECDSA.RecoverError.InvalidSignatureS) revert AttestationMalleableSignature(i);
            if (error != ECDSA.RecoverError.NoError) revert AttestationInvalidSignature(i);
            if (signer <= previous) revert AttestationSignersNotAscending(i, signer);
            if (!_attesters[signer]) revert AttestationUnknownAttester(i, signer);
            previous = signer;
        }
    }

    function _add(address attester) private {
        if (attester == address(0)) revert AttestationZeroAddress();
        if (_attesters[attester]) revert AttestationAttesterExists(attester);
        _attesters[attester] = true;
        ++_attesterCount;
        emit AttesterAdded(attester, _bump());
    }

    function _setQuorum(uint256 newQuorum) private {
        if (newQuorum == 0 || newQuorum > _attesterCount) revert AttestationInvalidQuorum(newQuorum, _attesterCount);
        _quorum = uint16(newQuorum);
        emit QuorumChanged(newQuorum, _bump());
    }

    function _bump() private returns (uint64 version) {
        version = _setVersion + 1;
        _setVersion = version;
    }
}

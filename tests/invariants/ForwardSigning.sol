// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

import {TrustMallForwarder} from "../../contracts/common/TrustMallForwarder.sol";

import {Cheats} from "./Cheats.sol";

/// @notice Signed requests through the suite's forwarder, as the merchant API relays them, and the
/// oracle they are held to: a forwarded call does what its signer's own call would, no more, no less.
abstract contract ForwardSigning is Cheats {
    bytes32 private constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant _REQUEST_TYPEHASH = keccak256(
        "ForwardRequest(address from,address to,uint256 value,uint256 gas,uint256 nonce,uint48 deadline,bytes data)"
    );
    uint256 private constant _REQUEST_GAS = 5_000_000;

    /// @dev `from`'s request to call `data` on `to`, at `from`'s next nonce, signed with `signingKey`.
    /// It never expires: expiry is the unit tests' (tests/contracts/forwarder), and a request that
    /// expired would make a replay refused for the wrong reason.
    function _signedRequest(
        TrustMallForwarder forwarder,
        address from,
        address to,
        bytes memory data,
        uint256 signingKey
    ) internal view returns (ERC2771Forwarder.ForwardRequestData memory request) {
        uint48 deadline = type(uint48).max;
        bytes32 structHash = keccak256(
            abi.encode(
                _REQUEST_TYPEHASH, from, to, uint256(0), _REQUEST_GAS, forwarder.nonces(from), deadline, keccak256(data)
            )
        );
        bytes32 domain = keccak256(
            abi.encode(_DOMAIN_TYPEHASH, keccak256("TrustMall"), keccak256("1"), block.chainid, address(forwarder))
        );
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(signingKey, keccak256(abi.encodePacked("\x19\x01", domain, structHash)));
        request = ERC2771Forwarder.ForwardRequestData({
            from: from,
            to: to,
            value: 0,
            gas: _REQUEST_GAS,
            deadline: deadline,
            data: data,
            signature: abi.encodePacked(r, s, v)
        });
    }

    /// @dev Whether `from` calling `data` on `to` itself would succeed now: run, then rolled back.
    function _directCallSucceeds(address from, address to, bytes memory data) internal returns (bool ok) {
        uint256 snapshot = vm.snapshotState();
        vm.prank(from);
        (ok,) = to.call(data);
        vm.revertToStateAndDelete(snapshot);
    }
}

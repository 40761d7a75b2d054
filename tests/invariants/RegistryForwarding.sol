// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

import {TrustMallForwarder} from "../../contracts/common/TrustMallForwarder.sol";
import {IProductRegistry} from "../../contracts/registry/IProductRegistry.sol";

import {ForwardSigning} from "./ForwardSigning.sol";
import {RegistryBooks} from "./RegistryBooks.sol";

/// @notice The registry driven through the suite's ERC-2771 forwarder, as the merchant API relays
/// merchants' signed requests: honest requests relayed by anyone, requests whose signature is not
/// their sender's, requests sent again, and callers with no forwarder appending a merchant's address
/// to their own calldata. A forwarded call must act as its signer and as nobody else.
abstract contract RegistryForwarding is RegistryBooks, ForwardSigning {
    TrustMallForwarder public immutable forwarder;
    uint256[4] internal _merchantKeys;

    // Breaches, counted at the call that makes them.
    uint256 public forwardedNotAsSigner; // a signed request did other than its signer's own call would
    uint256 public forgedForwarded; // a request whose signature is not its sender's was valid or ran
    uint256 public replayedForwarded; // a request already run was valid or ran again
    uint256 public spoofedSenders; // a direct call with a merchant's address appended acted as that merchant

    // Coverage: how often each path really ran.
    uint256 public forwardedRegistrations;

    ERC2771Forwarder.ForwardRequestData internal _lastRun;
    bool internal _hasLastRun;

    constructor(TrustMallForwarder forwarder_, uint256[4] memory merchantKeys_) {
        forwarder = forwarder_;
        _merchantKeys = merchantKeys_;
    }

    /// @dev A merchant's signed `registerItem`, relayed by any actor: valid, and run exactly when the
    /// merchant's own call would go through, the item then the merchant's. One call in four is signed
    /// by another merchant's key in the sender's name, one in four sends the last request run again:
    /// the forwarder must neither call them valid nor run them.
    function forwardRegistration(uint256 merchantSeed, uint256 keySeed, uint256 relayerSeed, uint8 how) external {
        address relayer = _actor(relayerSeed % 8);
        if (how % 4 == 3) {
            if (_hasLastRun) _refused(_lastRun, relayer, false);
            return;
        }
        uint256 index = merchantSeed % 4;
        address merchant = merchants[index];
        IProductRegistry.ItemKey memory key = keySeed % 3 == 0 ? _gs1Key(keySeed) : _skuKey(keySeed);
        bytes32 expected = _expectedId(merchant, key);
        bytes32 metadataHash = keccak256(abi.encode("meta", expected));
        bytes memory data = abi.encodeCall(IProductRegistry.registerItem, (key, metadataHash, "ipfs://forwarded"));
        if (how % 4 == 2) {
            uint256 otherKey = _merchantKeys[(index + 1) % 4];
            return _refused(_signedRequest(forwarder, merchant, address(registry), data, otherKey), relayer, true);
        }
        ERC2771Forwarder.ForwardRequestData memory request =
            _signedRequest(forwarder, merchant, address(registry), data, _merchantKeys[index]);
        bool direct = _directCallSucceeds(merchant, address(registry), data);
        if (!forwarder.verify(request)) ++forwardedNotAsSigner;
        vm.prank(relayer);
        try forwarder.execute(request) {
            if (!direct) ++forwardedNotAsSigner;
        } catch {
            if (direct) ++forwardedNotAsSigner;
            _sweep();
            return;
        }
        ++forwardedRegistrations;
        if (registry.itemOf(expected).merchant != merchant) ++forwardedNotAsSigner;
        _claimed(merchant, key, expected, expected);
        _track(expected, metadataHash, merchant, 0, 0, key);
        _lastRun = request;
        _hasLastRun = true;
        _sweep();
    }

    /// @dev An actor that is no forwarder appends a merchant's address to its own `registerItem`
    /// calldata, as a forwarder would: the registry must read the actor as the caller (no merchant,
    /// so refused), never the appended address.
    function spoofSender(uint256 actorSeed, uint256 merchantSeed, uint256 keySeed) external {
        address merchant = merchants[merchantSeed % 4];
        IProductRegistry.ItemKey memory key = _skuKey(keySeed);
        bytes memory call = abi.encodePacked(
            abi.encodeCall(IProductRegistry.registerItem, (key, keccak256("spoofed"), "ipfs://spoofed")), merchant
        );
        vm.prank(_actor(actorSeed % 8));
        (bool ok,) = address(registry).call(call);
        if (ok) ++spoofedSenders;
        _sweep();
    }

    /// @dev A request the forwarder must refuse (forged, or already run: its nonce is spent, and it
    /// never expires, so only the nonce refuses it): neither valid nor run.
    function _refused(ERC2771Forwarder.ForwardRequestData memory request, address relayer, bool forged) private {
        bool accepted = forwarder.verify(request);
        vm.prank(relayer);
        try forwarder.execute(request) {
            accepted = true;
        } catch {}
        if (accepted && forged) ++forgedForwarded;
        if (accepted && !forged) ++replayedForwarded;
        _sweep();
    }
}

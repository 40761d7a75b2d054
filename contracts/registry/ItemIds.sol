// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IProductRegistry} from "./IProductRegistry.sol";

/// @title ItemIds
/// @notice The two documented ways to name an item by a `bytes32` id. Python's `app.domain.ids`
/// computes the same ids byte for byte; a test holds them together.
library ItemIds {
    uint256 private constant _GTIN_LENGTH = 14;
    uint256 private constant _MAX_SERIAL_LENGTH = 20;

    /// @notice keccak256(abi.encode(merchant, sku, serial)).
    function fromSku(address merchant, string calldata sku, string calldata serial) internal pure returns (bytes32) {
        return keccak256(abi.encode(merchant, sku, serial));
    }

    /// @notice keccak256(abi.encode("gs1", gtin14, serial)) after validating and padding the GTIN.
    function fromGs1(string calldata gtin, string calldata serial) internal pure returns (bytes32) {
        return keccak256(abi.encode("gs1", normalizeGtin(gtin), validSerial(serial)));
    }

    /// @notice Left-pads a GTIN-8/12/13/14 to 14 digits after checking its digits and check digit.
    function normalizeGtin(string calldata gtin) internal pure returns (string memory) {
        bytes calldata raw = bytes(gtin);
        uint256 length = raw.length;
        if (length != 8 && length != 12 && length != 13 && length != _GTIN_LENGTH) {
            revert IProductRegistry.RegistryInvalidGtin(gtin);
        }
        bytes memory padded = new bytes(_GTIN_LENGTH);
        uint256 pad = _GTIN_LENGTH - length;
        uint256 sum = 0;
        for (uint256 i; i < _GTIN_LENGTH; ++i) {
            bytes1 char = i < pad ? bytes1("0") : raw[i - pad];
            if (char < "0" || char > "9") revert IProductRegistry.RegistryInvalidGtin(gtin);
            padded[i] = char;
            // Weights run 3,1,3,... from the left over the first 13 digits of a GTIN-14.
            if (i < _GTIN_LENGTH - 1) sum += (uint8(char) - 48) * (i % 2 == 0 ? 3 : 1);
        }
        if ((10 - (sum % 10)) % 10 != uint8(padded[_GTIN_LENGTH - 1]) - 48) {
            revert IProductRegistry.RegistryInvalidGtin(gtin);
        }
        return string(padded);
    }

    /// @notice Returns the serial if it is 1-20 characters of GS1 character set 82, else reverts.
    function validSerial(string calldata serial) internal pure returns (string calldata) {
        bytes calldata raw = bytes(serial);
        if (raw.length == 0 || raw.length > _MAX_SERIAL_LENGTH) revert IProductRegistry.RegistryInvalidSerial(serial);
        for (uint256 i; i < raw.length; ++i) {
            if (!_isCharacterSet82(raw[i])) revert IProductRegistry.RegistryInvalidSerial(serial);
        }
        return serial;
    }

    /// @notice keccak256 of the first `length` digits after a GTIN-14's indicator digit: the GS1 company
    /// prefix in its GTIN-13 form, as a verifier grants it (`length` at most 13).
    function companyPrefixHash(string memory gtin14, uint256 length) internal pure returns (bytes32 hash) {
        assembly ("memory-safe") {
            hash := keccak256(add(gtin14, 33), length)
        }
    }

    function _isCharacterSet82(bytes1 c) private pure returns (bool) {
        return
            c == "!" || c == '"' || (c >= "%" && c <= "?") || (c >= "A" && c <= "Z") || c == "_"
                || (c >= "a" && c <= "z");
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {IProductRegistry} from "../../contracts/registry/IProductRegistry.sol";

/// @notice GS1 keys for the handlers: a few company prefixes (some nested inside others, as a
/// careless grant would make them: the registry must refuse a grant inside or around another) and
/// valid GTINs under them, written in their 12-, 13- and 14-digit forms, which all name the same item.
abstract contract Gs1Keys {
    using Strings for uint256;

    uint256 internal constant PREFIX_COUNT = 6;
    /// @dev GTIN-13 form. 95060001 lies inside 9506000, which lies inside 950600; 4006381 inside 40063.
    function _prefix(uint256 seed) internal pure returns (string memory) {
        uint256 i = seed % PREFIX_COUNT;
        if (i == 0) return "9506000";
        if (i == 1) return "95060001";
        if (i == 2) return "4006381";
        if (i == 3) return "0614141";
        if (i == 4) return "950600";
        return "40063";
    }

    /// @dev A GTIN from four families (under 95060001; under 9506000 but not 95060001; under 4006381;
    /// under the U.P.C. prefix 0614141), four item references each, a serial of four.
    function _gs1Key(uint256 seed) internal pure returns (IProductRegistry.ItemKey memory) {
        uint256 family = (seed / 3) % 4;
        uint256 ref = (seed / 12) % 4;
        string memory body = family == 0
            ? string.concat("95060001", _digits(ref, 4))
            : family == 1
                ? string.concat("95060002", _digits(ref, 4))
                : family == 2 ? string.concat("4006381", _digits(ref, 5)) : string.concat("0614141", _digits(ref, 5));
        string memory gtin13 = string.concat(body, _checkDigit(bytes(body)).toString());
        uint256 form = (seed / 48) % 3;
        string memory code = gtin13;
        if (form == 1) code = string.concat("0", gtin13);
        else if (form == 2 && family == 3) code = _tail(gtin13, 1);
        return IProductRegistry.ItemKey(
            IProductRegistry.IdScheme.Gs1, code, string.concat("S", ((seed / 144) % 4).toString())
        );
    }

    /// @dev The GTIN-13 form of a 12-, 13- or 14-digit GTIN (the forms the keys above use).
    function _gtin13Of(string memory gtin) internal pure returns (string memory) {
        uint256 length = bytes(gtin).length;
        if (length == 14) return _tail(gtin, 1);
        if (length == 12) return string.concat("0", gtin);
        return gtin;
    }

    function _startsWith(string memory text, string memory prefix) internal pure returns (bool) {
        bytes memory a = bytes(text);
        bytes memory b = bytes(prefix);
        if (b.length > a.length) return false;
        for (uint256 i; i < b.length; ++i) {
            if (a[i] != b[i]) return false;
        }
        return true;
    }

    /// @dev GTIN-13 check digit of its first 12 digits: weights 1,3,1,3... from the left.
    function _checkDigit(bytes memory body) private pure returns (uint256) {
        uint256 sum;
        for (uint256 i; i < 12; ++i) {
            sum += (uint8(body[i]) - 48) * (i % 2 == 0 ? 1 : 3);
        }
        return (10 - (sum % 10)) % 10;
    }

    function _digits(uint256 value, uint256 width) private pure returns (string memory text) {
        text = value.toString();
        while (bytes(text).length < width) {
            text = string.concat("0", text);
        }
    }

    function _tail(string memory text, uint256 from) private pure returns (string memory) {
        bytes memory raw = bytes(text);
        bytes memory tail = new bytes(raw.length - from);
        for (uint256 i; i < tail.length; ++i) {
            tail[i] = raw[i + from];
        }
        return string(tail);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";

import {IOrderEscrow} from "../../escrow/IOrderEscrow.sol";
import {ICreditLines} from "../../credit/ICreditLines.sol";
import {ICreditVault} from "../../credit/ICreditVault.sol";

/// @title CreditBooksLens
/// @notice Test-only: reads everything the credit invariant test checks in one call (the test makes
/// hundreds of steps; one view per step instead of dozens keeps it fast). Pure reads of the real
/// contracts' public views, no logic of its own.
contract CreditBooksLens {
    /// @notice A lender's queued redemption.
    /// @param shares Shares in the queue.
    /// @param assetsAtRequest Their value when requested.
    /// @param valueNow What they convert to now.
    struct Queued {
        uint256 shares;
        uint256 assetsAtRequest;
        uint256 valueNow;
    }

    /// @notice The books as of now.
    /// @param idle The vault's stablecoin balance.
    /// @param lent The vault's principal lent out.
    /// @param impaired The vault's impaired principal.
    /// @param locked Income still unlocking.
    /// @param queued Assets owed to queued redemptions (their value at request).
    /// @param queuedShares Shares the vault holds for queued redemptions.
    /// @param totalAssets The vault's total assets.
    /// @param supplyClaim What all shares together convert to (convertToAssets(totalSupply)).
    /// @param lenderClaims Sum of what the listed lenders' own shares convert to.
    /// @param linesHeld Stablecoins held by the lines contract plus its escrow credit.
    /// @param lines The listed borrowers' lines.
    /// @param requests The listed lenders' queued redemptions.
    struct Books {
        uint256 idle;
        uint256 lent;
        uint256 impaired;
        uint256 locked;
        uint256 queued;
        uint256 queuedShares;
        uint256 totalAssets;
        uint256 supplyClaim;
        uint256 lenderClaims;
        uint256 linesHeld;
        ICreditLines.LineView[] lines;
        Queued[] requests;
    }

    /// @notice Reads the books.
    /// @param lines The credit lines.
    /// @param vault The credit vault.
    /// @param escrow The order escrow.
    /// @param borrowers Borrowers whose lines to read.
    /// @param lenders Lenders whose claims and requests to read.
    /// @return books The books.
    function read(
        ICreditLines lines,
        ICreditVault vault,
        IOrderEscrow escrow,
        address[] calldata borrowers,
        address[] calldata lenders
    ) external view returns (Books memory books) {
        IERC4626 shares = IERC4626(address(vault));
        IERC20 asset = IERC20(shares.asset());
        books.idle = asset.balanceOf(address(vault));
        books.lent = vault.lentAssets();
        books.impaired = vault.impairedAssets();
        books.locked = vault.lockedIncome();
        books.queued = vault.queuedAssets();
        books.queuedShares = shares.balanceOf(address(vault));
        books.totalAssets = shares.totalAssets();
        books.supplyClaim = shares.convertToAssets(shares.totalSupply());
        books.requests = new Queued[](lenders.length);
        for (uint256 i; i < lenders.length; ++i) {
            books.lenderClaims += shares.convertToAssets(shares.balanceOf(lenders[i]));
            (uint256 queuedShares, uint256 atRequest,) = vault.redeemRequestOf(lenders[i]);
            books.requests[i] = Queued(queuedShares, atRequest, shares.convertToAssets(queuedShares));
        }
        books.linesHeld = asset.balanceOf(address(lines)) + escrow.creditOf(address(lines), address(asset));
        books.lines = new ICreditLines.LineView[](borrowers.length);
        for (uint256 i; i < borrowers.length; ++i) {
            books.lines[i] = lines.lineOf(borrowers[i]);
        }
    }
}

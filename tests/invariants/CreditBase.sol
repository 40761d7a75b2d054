// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {AttestationVerifier} from "../../contracts/common/AttestationVerifier.sol";
import {IAttestationVerifier} from "../../contracts/common/IAttestationVerifier.sol";
import {CreditLines} from "../../contracts/credit/CreditLines.sol";
import {CreditVault} from "../../contracts/credit/CreditVault.sol";
import {ICreditLines} from "../../contracts/credit/ICreditLines.sol";
import {ICreditVault} from "../../contracts/credit/ICreditVault.sol";
import {OrderEscrow} from "../../contracts/escrow/OrderEscrow.sol";
import {IOrderEscrow} from "../../contracts/escrow/IOrderEscrow.sol";
import {ProductRegistry} from "../../contracts/registry/ProductRegistry.sol";
import {MockStable6} from "../../contracts/test/escrow/MockStable6.sol";

import {Cheats, Vm} from "./Cheats.sol";

/// @notice The credit handler's actors, ghost books and helpers: attestations signed by a 2-of-3
/// quorum (real keys, vm.sign), identity commitments, the lines' impairment as the vault was told of
/// it (read from the logs of each call), the income lock, the lenders' redemption queue.
abstract contract CreditBase is Cheats {
    uint256 internal constant USD = 1e6;
    uint256 internal constant MAX_SIGNED = 16;
    uint256 internal constant MAX_ORDERS = 16;
    uint16 internal constant CARRIER = 1;
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    /// @dev Spelled out here rather than read from the verifier, so a wrong type hash there shows.
    bytes32 internal constant ATTESTATION_TYPEHASH = keccak256(
        "CreditAttestation(address borrower,bytes32 identityHash,uint8 band,bytes32 modelId,bytes32 reportHash,"
        "uint40 issuedAt,uint40 expiresAt,uint256 nonce,uint64 attesterSetVersion)"
    );

    /// @notice The people and keys around the lines besides borrowers, lenders and merchants.
    struct Roles {
        address risk; // writes off defaulted lines
        address oracle; // the escrow's logistics oracle, relaying carrier CARRIER's reports
        address arbiter; // rules on disputes
    }

    CreditLines public immutable lines;
    CreditVault public immutable vault;
    AttestationVerifier public immutable verifier;
    OrderEscrow public immutable escrow;
    ProductRegistry public immutable registry;
    MockStable6 public immutable stable;
    address public immutable risk;
    address public immutable oracle;
    address public immutable arbiter;
    uint256 public immutable refreshPeriod;
    address[4] public borrowers;
    address[3] public lenders;
    /// @dev 0 and 1 honest; 2 owned by borrower 0 (its identity); 3 suspended.
    address[4] public merchants;
    uint256[3] internal _keys;

    struct Signed {
        IAttestationVerifier.Attestation attestation;
        bytes[] signatures;
        bytes[] otherSignatures; // the same attestation signed by another pair of attesters
    }

    Signed[] internal _signed;
    IOrderEscrow.OrderTerms[] internal _orders;
    uint256 internal _nonce;
    uint256 internal _salt;
    uint256 internal _serial;

    // Money, as the handler saw it move.
    uint256 public ghostPrincipalOut; // drawn, less principal repaid into the pool
    uint256 public ghostWriteOffs; // principal of lines written off
    uint256 public ghostLenderWithdrawn;
    uint256 public ghostLockedAtLast; // income locked in total right after the last lock
    uint256 public ghostUnlockedAt; // when that lock has fully unlocked
    mapping(address borrower => bool) public ghostLateFeeCharged; // this cycle's: principal impaired
    uint256 public ghostWindowStart;
    uint256 public ghostWindowDrawn; // net: less what each line repaid of its own draws in the window
    mapping(address borrower => uint256) public ghostLineWindowStart;
    mapping(address borrower => uint256) public ghostLineWindowDrawn;

    // Lines, as the handler saw them decided.
    mapping(address borrower => bool) public ghostApproved;
    mapping(address borrower => uint40) public ghostAttestedAt;
    mapping(address borrower => uint256) public ghostDrawLimit;
    mapping(bytes32 identityHash => address borrower) public ghostIdentityOwner;

    // The redemption queue, as the handler saw it filled.
    mapping(address lender => uint256) public ghostQueuedShares;
    mapping(address lender => uint256) public ghostQueuedAssets;

    // Breaches seen by the handler at the moment they happened.
    uint256 public overLimitDraws;
    uint256 public overCapDraws;
    uint256 public heldDraws; // a draw on a line held by the denial of a newer attestation
    uint256 public staleAccepted;
    uint256 public replayAccepted;
    uint256 public identityShared;
    uint256 public lentWithdrawn; // a claim paid more than the idle cash
    uint256 public queuedCashLent; // a draw took idle cash owed to queued exits
    uint256 public claimsBeatingImpairment; // a claim paid more than the shares' value now or at request
    uint256 public creditToUnverified; // credit paid an order of a merchant not active, the borrower's, or items not its own
    uint256 public paidWithoutDelivery; // a credit-paid order paid its merchant for items no carrier delivered

    // Coverage: how often each path really ran.
    uint256 public approvals;
    uint256 public staleRefused;
    uint256 public replaysRefused;
    uint256 public writeOffs;
    uint256 public refundsSettled;
    uint256 public impairments;
    uint256 public claims;
    uint256 public merchantPayments;
    uint256 public absorptions;

    /// @param keys The attesters' private keys, ascending by address.
    constructor(
        CreditLines lines_,
        Roles memory roles,
        uint256[3] memory keys,
        address[4] memory borrowers_,
        address[3] memory lenders_,
        address[4] memory merchants_
    ) {
        lines = lines_;
        (IAttestationVerifier verifier_, ICreditVault vault_, IOrderEscrow escrow_, IERC20 asset_) = lines_.contracts();
        verifier = AttestationVerifier(address(verifier_));
        vault = CreditVault(address(vault_));
        escrow = OrderEscrow(address(escrow_));
        registry = ProductRegistry(escrow.registry());
        stable = MockStable6(address(asset_));
        (risk, oracle, arbiter) = (roles.risk, roles.oracle, roles.arbiter);
        refreshPeriod = lines_.policyRules(lines_.currentPolicyVersion()).refreshPeriod;
        _keys = keys;
        borrowers = borrowers_;
        lenders = lenders_;
        merchants = merchants_;
    }

    /// @dev Every action runs inside: the logs it made tell which lines were impaired and what income
    /// was locked; a line whose cycle ended (nothing owed, no due date) is no longer impaired.
    modifier observed() {
        vm.recordLogs();
        _;
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory log = logs[i];
            if (log.emitter == address(lines) && log.topics[0] == ICreditLines.CreditRepaid.selector) {
                (,, uint256 principal) = abi.decode(log.data, (uint256, uint256, uint256));
                _repaidInWindow(address(uint160(uint256(log.topics[1]))), principal);
            } else if (log.emitter == address(lines) && log.topics[0] == ICreditLines.CreditLateFeeCharged.selector) {
                ghostLateFeeCharged[address(uint160(uint256(log.topics[1])))] = true;
                ++impairments;
            } else if (log.emitter == address(vault) && log.topics[0] == ICreditVault.IncomeLocked.selector) {
                (, uint256 lockedTotal, uint256 unlockedAt) = abi.decode(log.data, (uint256, uint256, uint256));
                (ghostLockedAtLast, ghostUnlockedAt) = (lockedTotal, unlockedAt);
            } else if (log.emitter == address(vault) && log.topics[0] == ICreditVault.LockedIncomeAbsorbed.selector) {
                // A loss set against income still unlocking: less stays locked, until the same date.
                (, ghostLockedAtLast) = abi.decode(log.data, (uint256, uint256));
                ++absorptions;
            }
        }
        for (uint256 b; b < 4; ++b) {
            if (lines.lineOf(borrowers[b]).dueAt == 0) ghostLateFeeCharged[borrowers[b]] = false;
        }
    }

    // ------------------------------------------------------------------ what the invariants read

    function signedCount() external view returns (uint256) {
        return _signed.length;
    }

    function signedNonce(uint256 i) external view returns (uint256) {
        return _signed[i].attestation.nonce;
    }

    function orderCount() external view returns (uint256) {
        return _orders.length;
    }

    function orderAt(uint256 i) external view returns (IOrderEscrow.OrderTerms memory) {
        return _orders[i];
    }

    /// @notice The principal the vault should count impaired: lines whose late fee (and so impairment)
    /// was charged this cycle, written-off ones aside (their principal left the pool).
    function ghostImpaired() external view returns (uint256 total) {
        for (uint256 b; b < 4; ++b) {
            ICreditLines.LineView memory line = lines.lineOf(borrowers[b]);
            if (ghostLateFeeCharged[borrowers[b]] && line.status != ICreditLines.LineStatus.WrittenOff) {
                total += line.principal;
            }
        }
    }

    /// @notice The identity commitment a borrower's bureau attests (app.domain.identity's stand-in).
    function identityOf(address borrower) public pure returns (bytes32) {
        return keccak256(abi.encode("identity", borrower));
    }

    // ------------------------------------------------------------------ internals

    /// @dev Signs with a pair of the three attesters (ascending by address, as the verifier wants)
    /// and keeps a copy signed by another pair for replays.
    function _sign(
        address borrower,
        bytes32 identityHash,
        uint8 band,
        uint40 issuedAt,
        uint40 expiresAt,
        uint256 seed
    ) internal returns (Signed storage signed) {
        IAttestationVerifier.Attestation memory attestation = IAttestationVerifier.Attestation({
            borrower: borrower,
            identityHash: identityHash,
            band: band,
            modelId: keccak256("trustmall-score-v3"),
            reportHash: keccak256(abi.encode("report", borrower, _nonce)),
            issuedAt: issuedAt,
            expiresAt: expiresAt,
            nonce: ++_nonce,
            attesterSetVersion: verifier.attesterSetVersion()
        });
        bytes32 digest = _digest(attestation);
        uint256 pair = seed % 3;
        if (_signed.length >= MAX_SIGNED) {
            // Keep the store bounded; the newest replaces an older one.
            signed = _signed[_nonce % MAX_SIGNED];
        } else {
            signed = _signed.push();
        }
        signed.attestation = attestation;
        signed.signatures = _quorum(digest, pair);
        signed.otherSignatures = _quorum(digest, (pair + 1) % 3);
    }

    function _quorum(bytes32 digest, uint256 pair) private view returns (bytes[] memory signatures) {
        (uint256 a, uint256 b) = pair == 0 ? (0, 1) : pair == 1 ? (0, 2) : (1, 2);
        signatures = new bytes[](2);
        signatures[0] = _signature(_keys[a], digest);
        signatures[1] = _signature(_keys[b], digest);
    }

    function _signature(uint256 key, bytes32 digest) private pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev EIP-712, computed here from the standard's definition.
    function _digest(IAttestationVerifier.Attestation memory attestation) private view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                DOMAIN_TYPEHASH,
                keccak256("TrustMall Credit Attestations"),
                keccak256("1"),
                block.chainid,
                address(verifier)
            )
        );
        bytes32 structHash = keccak256(abi.encode(ATTESTATION_TYPEHASH, attestation));
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    /// @dev Whether a line was opened, re-banded, re-versioned or re-dated since `before`.
    function _moved(address borrower, ICreditLines.LineView memory before) internal view returns (bool) {
        ICreditLines.LineView memory line = lines.lineOf(borrower);
        bool opened = before.status == ICreditLines.LineStatus.None && line.status != ICreditLines.LineStatus.None;
        return opened || line.attestedAt != before.attestedAt || line.band != before.band
            || line.policyVersion != before.policyVersion || line.limit > before.limit;
    }

    /// @dev After a draw of `amount` new principal: within the line's limit and the window's cap.
    function _checkDraw(address borrower, uint256 amount) internal {
        ICreditLines.LineView memory line = lines.lineOf(borrower);
        uint256 limit = lines.policyTier(line.policyVersion, line.band).limit;
        if (line.principal > limit) ++overLimitDraws;
        // A draw changes neither attestation time, and it leaves the line neither past due nor defaulted:
        // standing Denied now means it was held when it drew.
        if (line.standing == ICreditLines.Standing.Denied) ++heldDraws;
        ghostDrawLimit[borrower] = limit;
        uint256 start = _windowStartNow();
        if (start != ghostWindowStart) (ghostWindowStart, ghostWindowDrawn) = (start, 0);
        ghostWindowDrawn += amount;
        if (ghostLineWindowStart[borrower] != start) (ghostLineWindowStart[borrower], ghostLineWindowDrawn[borrower]) = (start, 0);
        ghostLineWindowDrawn[borrower] += amount;
        if (ghostWindowDrawn > lines.policyRules(lines.currentPolicyVersion()).periodCap) ++overCapDraws;
    }

    /// @dev Principal a line repaid: what it drew of it in this window is new credit no more.
    function _repaidInWindow(address borrower, uint256 principal) internal {
        uint256 start = _windowStartNow();
        if (ghostLineWindowStart[borrower] != start || ghostWindowStart != start) return;
        uint256 freed = principal < ghostLineWindowDrawn[borrower] ? principal : ghostLineWindowDrawn[borrower];
        ghostLineWindowDrawn[borrower] -= freed;
        ghostWindowDrawn -= freed < ghostWindowDrawn ? freed : ghostWindowDrawn;
    }

    function _windowStartNow() internal view returns (uint256) {
        uint256 period = lines.policyRules(lines.currentPolicyVersion()).capPeriod;
        return block.timestamp - (block.timestamp % period);
    }

    /// @dev Checks a draw against the queue: the vault may lend only idle cash not owed to queued exits.
    function _checkLiquidity(uint256 idleBefore, uint256 queuedBefore, uint256 lent) internal {
        if (idleBefore < queuedBefore + lent) ++queuedCashLent;
    }

    function _principal(address borrower) internal view returns (uint256, bool) {
        ICreditLines.LineView memory line = lines.lineOf(borrower);
        return (line.principal, line.status == ICreditLines.LineStatus.WrittenOff);
    }

    /// @dev Principal repaid into the pool; on a written-off line it left the pool at the write-off.
    function _repaid(address borrower, uint256 principalBefore, bool writtenOff) internal {
        (uint256 principal,) = _principal(borrower);
        if (!writtenOff) ghostPrincipalOut -= principalBefore - principal;
    }

    /// @dev Mostly a borrower with a line, so repayments and servicing are not wasted on strangers.
    function _borrowerWithLine(uint256 seed) internal view returns (address) {
        for (uint256 k; k < 4 && seed % 8 != 0; ++k) {
            address borrower = borrowers[(seed + k) % 4];
            if (ghostApproved[borrower]) return borrower;
        }
        return borrowers[seed % 4];
    }

    /// @dev Mostly a borrower whose line may draw now (eligible), else one with a line; one time in
    /// eight anyone, so draws on held, past-due, frozen or missing lines are tried too.
    function _drawingBorrower(uint256 seed) internal view returns (address) {
        for (uint256 k; k < 4 && seed % 8 != 0; ++k) {
            address borrower = borrowers[(seed + k) % 4];
            if (lines.lineOf(borrower).standing == ICreditLines.Standing.Eligible) return borrower;
        }
        return _borrowerWithLine(seed);
    }

    /// @dev Mostly a borrower who owes something.
    function _owingBorrower(uint256 seed) internal view returns (address) {
        for (uint256 k; k < 4 && seed % 8 != 0; ++k) {
            address borrower = borrowers[(seed + k) % 4];
            if (lines.debtOf(borrower) != 0) return borrower;
        }
        return _borrowerWithLine(seed);
    }

    /// @dev At least `min`: mostly up to a quarter of what the line may still draw (so lines and the
    /// window's cap fill over several draws), one time in eight up to a quarter beyond it (so the
    /// limit gets tested).
    function _drawAmount(address borrower, uint256 seed, uint256 min) internal view returns (uint256) {
        ICreditLines.LineView memory line = lines.lineOf(borrower);
        uint256 room = line.limit > line.principal ? line.limit - line.principal : 0;
        uint256 max = seed % 8 == 0 ? room + room / 4 + 1 : room / 4 + 1;
        return _bound(seed >> 3, min, max > min ? max : min);
    }

    function _idle() internal view returns (uint256) {
        return stable.balanceOf(address(vault));
    }
}

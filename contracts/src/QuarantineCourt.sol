// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title Disputes over quarantined transactions (DESIGN §7).
/// @notice Anyone (normally the sender) opens a dispute on a quarantined transaction hash with a
/// bond of at least `minBond` and a reference to the quarantine evidence (a 32-byte hash or
/// content id of the record). The arbiter (a council address that governance sets) rules
/// within `window` blocks of the opening:
///
/// - `Released`: the gate admits the transaction (it watches the `Released(txHash)` event, or
///   asks `isReleased`); the opener won and gets the bond back.
/// - `Upheld`: the transaction stays out; the quarantine won and the bond goes to `treasury`.
/// - no ruling by the deadline: anyone may close the dispute as `Expired`; the transaction stays
///   out, and since no one lost a ruling the bond is returned to the opener.
///
/// Payments are credited and withdrawn (`withdraw`), so that an opener that cannot receive
/// ether cannot block a ruling. A transaction hash has at most one dispute that is open or
/// was ruled on; after an unruled (`Expired`) dispute a new one may be opened.
contract QuarantineCourt {
    enum State {
        None,
        Open,
        Released,
        Upheld,
        Expired
    }

    struct Dispute {
        bytes32 txHash;
        bytes32 evidenceRef;
        address opener;
        uint256 bond;
        uint64 openedAt;
        uint64 deadline;
        State state;
    }

    /// Who may change the arbiter.
    address public governance;
    /// Who rules.
    address public arbiter;
    /// Receives the bonds of upheld disputes.
    address public immutable treasury;
    /// Least bond, in wei.
    uint256 public immutable minBond;
    /// Blocks the arbiter has to rule, counted from the opening block: a ruling is accepted up
    /// to and including block `openedAt + window`.
    uint64 public immutable window;

    Dispute[] private disputes;
    /// The latest dispute on a transaction hash, as its id + 1 (0: none).
    mapping(bytes32 txHash => uint256 idPlusOne) private latest;
    /// Ether owed to each address (bonds returned or won).
    mapping(address who => uint256 amount) public claimable;

    event DisputeOpened(
        uint256 indexed id, bytes32 indexed txHash, address indexed opener, uint256 bond, bytes32 evidenceRef, uint64 deadline
    );
    /// The arbiter released `txHash`: the gate admits it.
    event Released(bytes32 indexed txHash);
    event Upheld(uint256 indexed id, bytes32 indexed txHash);
    event Expired(uint256 indexed id, bytes32 indexed txHash);
    event ArbiterChanged(address indexed previous, address indexed arbiter);
    event GovernanceChanged(address indexed previous, address indexed governance);
    event Withdrawn(address indexed who, uint256 amount);

    error ZeroAddress();
    error ZeroWindow();
    error NotGovernance();
    error NotArbiter();
    error BondTooLow(uint256 bond, uint256 minBond);
    error NoEvidence();
    error DisputeExists(bytes32 txHash, uint256 id, State state);
    error UnknownDispute(uint256 id);
    error NotOpen(uint256 id, State state);
    error DeadlinePassed(uint256 id, uint64 deadline);
    error DeadlineNotPassed(uint256 id, uint64 deadline);
    error NothingToWithdraw();
    error TransferFailed(address to);

    constructor(address arbiter_, address treasury_, uint256 minBond_, uint64 window_) {
        if (arbiter_ == address(0) || treasury_ == address(0)) revert ZeroAddress();
        if (window_ == 0) revert ZeroWindow();
        governance = msg.sender;
        arbiter = arbiter_;
        treasury = treasury_;
        minBond = minBond_;
        window = window_;
        emit GovernanceChanged(address(0), msg.sender);
        emit ArbiterChanged(address(0), arbiter_);
    }

    /// Opens a dispute on `txHash` with `msg.value` as the bond.
    function open(bytes32 txHash, bytes32 evidenceRef) external payable returns (uint256 id) {
        if (msg.value < minBond) revert BondTooLow(msg.value, minBond);
        if (evidenceRef == bytes32(0)) revert NoEvidence();
        uint256 prev = latest[txHash];
        if (prev != 0) {
            State s = disputes[prev - 1].state;
            if (s != State.Expired) revert DisputeExists(txHash, prev - 1, s);
        }
        id = disputes.length;
        uint64 deadline = uint64(block.number) + window;
        disputes.push(Dispute(txHash, evidenceRef, msg.sender, msg.value, uint64(block.number), deadline, State.Open));
        latest[txHash] = id + 1;
        emit DisputeOpened(id, txHash, msg.sender, msg.value, evidenceRef, deadline);
    }

    /// The arbiter's ruling on dispute `id`: `release` admits the transaction, otherwise the
    /// quarantine is upheld. Accepted until the deadline block, inclusive.
    function rule(uint256 id, bool release) external {
        if (msg.sender != arbiter) revert NotArbiter();
        Dispute storage d = _open(id);
        if (block.number > d.deadline) revert DeadlinePassed(id, d.deadline);
        if (release) {
            d.state = State.Released;
            claimable[d.opener] += d.bond;
            emit Released(d.txHash);
        } else {
            d.state = State.Upheld;
            claimable[treasury] += d.bond;
            emit Upheld(id, d.txHash);
        }
    }

    /// Closes dispute `id` unruled after its deadline: the transaction stays out, the bond goes
    /// back to the opener. Anyone may call it.
    function expire(uint256 id) external {
        Dispute storage d = _open(id);
        if (block.number <= d.deadline) revert DeadlineNotPassed(id, d.deadline);
        d.state = State.Expired;
        claimable[d.opener] += d.bond;
        emit Expired(id, d.txHash);
    }

    /// Sends the caller what it is owed.
    function withdraw() external {
        uint256 amount = claimable[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        claimable[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender);
    }

    /// Governance names a new arbiter; it rules on every dispute still open.
    function setArbiter(address arbiter_) external {
        if (msg.sender != governance) revert NotGovernance();
        if (arbiter_ == address(0)) revert ZeroAddress();
        emit ArbiterChanged(arbiter, arbiter_);
        arbiter = arbiter_;
    }

    /// Governance hands itself over.
    function setGovernance(address governance_) external {
        if (msg.sender != governance) revert NotGovernance();
        if (governance_ == address(0)) revert ZeroAddress();
        emit GovernanceChanged(governance, governance_);
        governance = governance_;
    }

    /// Dispute `id`.
    function disputeAt(uint256 id) external view returns (Dispute memory) {
        if (id >= disputes.length) revert UnknownDispute(id);
        return disputes[id];
    }

    /// How many disputes were opened.
    function disputeCount() external view returns (uint256) {
        return disputes.length;
    }

    /// The state of the latest dispute on `txHash` (`None` if there was none).
    function stateOf(bytes32 txHash) external view returns (State) {
        uint256 idPlusOne = latest[txHash];
        return idPlusOne == 0 ? State.None : disputes[idPlusOne - 1].state;
    }

    /// Whether the arbiter released `txHash` (what the gate acts on).
    function isReleased(bytes32 txHash) external view returns (bool) {
        uint256 idPlusOne = latest[txHash];
        return idPlusOne != 0 && disputes[idPlusOne - 1].state == State.Released;
    }

    function _open(uint256 id) private view returns (Dispute storage d) {
        if (id >= disputes.length) revert UnknownDispute(id);
        d = disputes[id];
        if (d.state != State.Open) revert NotOpen(id, d.state);
    }
}

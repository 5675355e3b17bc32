// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {ReentrancyGuard} from "../utils/ReentrancyGuard.sol";

/// @notice Token-voting governance that also holds the DAO treasury. A proposal is one call. It
/// passes after the voting period with a quorum and a majority, or at once when a two-thirds
/// supermajority of the supply has voted for it (emergency path).
contract Governor is ReentrancyGuard {
    uint256 public constant VOTING_PERIOD = 7_200; // blocks
    uint256 public constant PROPOSAL_THRESHOLD_BPS = 100;
    uint256 public constant QUORUM_BPS = 2_000;
    uint256 public constant SUPERMAJORITY_BPS = 6_667;

    struct Proposal {
        address proposer;
        address target;
        uint256 value;
        bytes data;
        uint64 startBlock;
        uint64 endBlock;
        uint256 forVotes;
        uint256 againstVotes;
        bool executed;
    }

    IERC20 public immutable token;
    Proposal[] public proposals;
    mapping(uint256 => mapping(address => bool)) public hasVoted;

    event ProposalCreated(uint256 indexed id, address indexed proposer, address target, uint256 value, bytes data, string description);
    event VoteCast(address indexed voter, uint256 indexed id, bool support, uint256 weight);
    event ProposalExecuted(uint256 indexed id);

    constructor(IERC20 token_) {
        token = token_;
    }

    receive() external payable {}

    function proposalCount() external view returns (uint256) {
        return proposals.length;
    }

    function propose(address target, uint256 value, bytes calldata data, string calldata description)
        external
        returns (uint256 id)
    {
        require(
            token.balanceOf(msg.sender) * 10_000 >= token.totalSupply() * PROPOSAL_THRESHOLD_BPS, "below threshold"
        );
        id = proposals.length;
        proposals.push(
            Proposal({
                proposer: msg.sender,
                target: target,
                value: value,
                data: data,
                startBlock: uint64(block.number),
                endBlock: uint64(block.number + VOTING_PERIOD),
                forVotes: 0,
                againstVotes: 0,
                executed: false
            })
        );
        emit ProposalCreated(id, msg.sender, target, value, data, description);
    }

    function castVote(uint256 id, bool support) external {
        Proposal storage p = proposals[id];
        require(block.number <= p.endBlock && !p.executed, "voting closed");
        require(!hasVoted[id][msg.sender], "already voted");
        uint256 weight = token.balanceOf(msg.sender);
        require(weight > 0, "no votes");
        hasVoted[id][msg.sender] = true;
        if (support) p.forVotes += weight;
        else p.againstVotes += weight;
        emit VoteCast(msg.sender, id, support, weight);
    }

    function succeeded(uint256 id) public view returns (bool) {
        Proposal storage p = proposals[id];
        uint256 supply = token.totalSupply();
        if (p.forVotes * 10_000 >= supply * SUPERMAJORITY_BPS) return true;
        return block.number > p.endBlock && p.forVotes > p.againstVotes && p.forVotes * 10_000 >= supply * QUORUM_BPS;
    }

    function execute(uint256 id) external nonReentrant returns (bytes memory result) {
        Proposal storage p = proposals[id];
        require(!p.executed, "already executed");
        require(succeeded(id), "not passed");
        p.executed = true;
        bool ok;
        (ok, result) = p.target.call{value: p.value}(p.data);
        require(ok, "proposal call failed");
        emit ProposalExecuted(id);
    }
}

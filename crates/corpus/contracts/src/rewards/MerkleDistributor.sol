// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {Ownable} from "../utils/Ownable.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {MerkleProof} from "../utils/MerkleProof.sol";

/// @notice Airdrop against a Merkle root (Uniswap's merkle-distributor with a deadline): leaf
/// `i` is `keccak256(abi.encodePacked(uint256 index, address account, uint256 amount))`, inner
/// nodes hash their children in ascending order. Anyone may submit a claim; the tokens go to
/// the account the leaf names, once. After `endTime` the owner takes back what is unclaimed.
contract MerkleDistributor is Ownable {
    using SafeTransfer for IERC20;

    IERC20 public immutable token;
    bytes32 public immutable merkleRoot;
    uint256 public immutable endTime;

    mapping(uint256 => uint256) private claimedBitMap;

    event Claimed(uint256 index, address account, uint256 amount);

    constructor(IERC20 token_, bytes32 merkleRoot_, uint256 endTime_) Ownable(msg.sender) {
        require(endTime_ > block.timestamp, "end time in the past");
        token = token_;
        merkleRoot = merkleRoot_;
        endTime = endTime_;
    }

    function isClaimed(uint256 index) public view returns (bool) {
        return claimedBitMap[index / 256] & (1 << (index % 256)) != 0;
    }

    function claim(uint256 index, address account, uint256 amount, bytes32[] calldata merkleProof) external {
        require(block.timestamp <= endTime, "claim window finished");
        require(!isClaimed(index), "drop already claimed");
        bytes32 leaf = keccak256(abi.encodePacked(index, account, amount));
        require(MerkleProof.processProof(merkleProof, leaf) == merkleRoot, "invalid proof");
        claimedBitMap[index / 256] |= 1 << (index % 256);
        token.safeTransfer(account, amount);
        emit Claimed(index, account, amount);
    }

    function withdraw(address to) external onlyOwner {
        require(block.timestamp > endTime, "claim window not finished");
        token.safeTransfer(to, token.balanceOf(address(this)));
    }
}

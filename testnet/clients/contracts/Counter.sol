// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// Test contract for the real-client (wallet library) tests of Vigil.
/// Compiled ahead of time by ../compile.mjs into ../artifacts/Counter.json.
contract Counter {
    uint256 public count;
    address public immutable deployer;

    event Incremented(address indexed by, uint256 newCount);

    constructor(uint256 initial) {
        count = initial;
        deployer = msg.sender;
    }

    function increment() external {
        uint256 n = count + 1;
        count = n;
        emit Incremented(msg.sender, n);
    }

    function add(uint256 amount) external {
        uint256 n = count + amount;
        count = n;
        emit Incremented(msg.sender, n);
    }

    function fail() external pure {
        revert("counter: fail");
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "../utils/AccessControl.sol";
import {ReentrancyGuard} from "../utils/ReentrancyGuard.sol";

/// @notice Timelock in the shape of OpenZeppelin's TimelockController: proposers schedule
/// operations (one call or a batch), which become executable `delay` seconds later and then
/// run once. The executor role may be granted to `address(0)`, which opens execution to
/// anyone. The timelock administers itself: changing its roles or delay is an operation too.
/// It holds the DAO's ETH and tokens, so grants and payments are scheduled calls.
contract Timelock is AccessControl, ReentrancyGuard {
    bytes32 public constant PROPOSER_ROLE = keccak256("PROPOSER_ROLE");
    bytes32 public constant EXECUTOR_ROLE = keccak256("EXECUTOR_ROLE");
    bytes32 public constant CANCELLER_ROLE = keccak256("CANCELLER_ROLE");
    uint256 internal constant DONE_TIMESTAMP = 1;

    uint256 public minDelay;
    mapping(bytes32 => uint256) private _timestamps;

    event CallScheduled(
        bytes32 indexed id, uint256 indexed index, address target, uint256 value, bytes data, bytes32 predecessor, uint256 delay
    );
    event CallExecuted(bytes32 indexed id, uint256 indexed index, address target, uint256 value, bytes data);
    event CallSalt(bytes32 indexed id, bytes32 salt);
    event Cancelled(bytes32 indexed id);
    event MinDelayChange(uint256 oldDuration, uint256 newDuration);

    constructor(uint256 minDelay_, address[] memory proposers, address[] memory executors, address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, address(this));
        if (admin != address(0)) _grantRole(DEFAULT_ADMIN_ROLE, admin);
        for (uint256 i = 0; i < proposers.length; i++) {
            _grantRole(PROPOSER_ROLE, proposers[i]);
            _grantRole(CANCELLER_ROLE, proposers[i]);
        }
        for (uint256 i = 0; i < executors.length; i++) {
            _grantRole(EXECUTOR_ROLE, executors[i]);
        }
        minDelay = minDelay_;
        emit MinDelayChange(0, minDelay_);
    }

    modifier onlyRoleOrOpenRole(bytes32 role) {
        if (!hasRole(role, address(0))) require(hasRole(role, msg.sender), "missing role");
        _;
    }

    receive() external payable {}

    function isOperationPending(bytes32 id) public view returns (bool) {
        return _timestamps[id] > DONE_TIMESTAMP;
    }

    function isOperationReady(bytes32 id) public view returns (bool) {
        uint256 ts = _timestamps[id];
        return ts > DONE_TIMESTAMP && ts <= block.timestamp;
    }

    function isOperationDone(bytes32 id) public view returns (bool) {
        return _timestamps[id] == DONE_TIMESTAMP;
    }

    function getTimestamp(bytes32 id) external view returns (uint256) {
        return _timestamps[id];
    }

    function hashOperation(address target, uint256 value, bytes calldata data, bytes32 predecessor, bytes32 salt)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(target, value, data, predecessor, salt));
    }

    function hashOperationBatch(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata payloads,
        bytes32 predecessor,
        bytes32 salt
    ) public pure returns (bytes32) {
        return keccak256(abi.encode(targets, values, payloads, predecessor, salt));
    }

    function schedule(
        address target,
        uint256 value,
        bytes calldata data,
        bytes32 predecessor,
        bytes32 salt,
        uint256 delay
    ) external onlyRole(PROPOSER_ROLE) {
        bytes32 id = hashOperation(target, value, data, predecessor, salt);
        _schedule(id, delay);
        emit CallScheduled(id, 0, target, value, data, predecessor, delay);
        if (salt != bytes32(0)) emit CallSalt(id, salt);
    }

    function scheduleBatch(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata payloads,
        bytes32 predecessor,
        bytes32 salt,
        uint256 delay
    ) external onlyRole(PROPOSER_ROLE) {
        require(targets.length == values.length && targets.length == payloads.length, "length mismatch");
        bytes32 id = hashOperationBatch(targets, values, payloads, predecessor, salt);
        _schedule(id, delay);
        for (uint256 i = 0; i < targets.length; i++) {
            emit CallScheduled(id, i, targets[i], values[i], payloads[i], predecessor, delay);
        }
        if (salt != bytes32(0)) emit CallSalt(id, salt);
    }

    function cancel(bytes32 id) external onlyRole(CANCELLER_ROLE) {
        require(isOperationPending(id), "not pending");
        delete _timestamps[id];
        emit Cancelled(id);
    }

    function execute(address target, uint256 value, bytes calldata payload, bytes32 predecessor, bytes32 salt)
        external
        payable
        onlyRoleOrOpenRole(EXECUTOR_ROLE)
        nonReentrant
    {
        bytes32 id = hashOperation(target, value, payload, predecessor, salt);
        _beforeCall(id, predecessor);
        _call(target, value, payload);
        emit CallExecuted(id, 0, target, value, payload);
        _timestamps[id] = DONE_TIMESTAMP;
    }

    function executeBatch(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata payloads,
        bytes32 predecessor,
        bytes32 salt
    ) external payable onlyRoleOrOpenRole(EXECUTOR_ROLE) nonReentrant {
        require(targets.length == values.length && targets.length == payloads.length, "length mismatch");
        bytes32 id = hashOperationBatch(targets, values, payloads, predecessor, salt);
        _beforeCall(id, predecessor);
        for (uint256 i = 0; i < targets.length; i++) {
            _call(targets[i], values[i], payloads[i]);
            emit CallExecuted(id, i, targets[i], values[i], payloads[i]);
        }
        _timestamps[id] = DONE_TIMESTAMP;
    }

    function updateDelay(uint256 newDelay) external {
        require(msg.sender == address(this), "only the timelock");
        emit MinDelayChange(minDelay, newDelay);
        minDelay = newDelay;
    }

    function _schedule(bytes32 id, uint256 delay) private {
        require(_timestamps[id] == 0, "operation already scheduled");
        require(delay >= minDelay, "insufficient delay");
        _timestamps[id] = block.timestamp + delay;
    }

    function _beforeCall(bytes32 id, bytes32 predecessor) private view {
        require(isOperationReady(id), "operation is not ready");
        require(predecessor == bytes32(0) || isOperationDone(predecessor), "missing dependency");
    }

    function _call(address target, uint256 value, bytes calldata data) private {
        (bool ok, bytes memory ret) = target.call{value: value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}

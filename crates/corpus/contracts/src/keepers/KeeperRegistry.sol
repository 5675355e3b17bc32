// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "../interfaces/IERC20.sol";
import {ReentrancyGuard} from "../utils/ReentrancyGuard.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {Initializable, UUPSUpgradeable} from "../proxy/Initializable.sol";

interface IAutomationCompatible {
    function checkUpkeep(bytes calldata checkData) external view returns (bool upkeepNeeded, bytes memory performData);
    function performUpkeep(bytes calldata performData) external;
}

/// @notice Keeper registry in the shape of Chainlink Automation's (implementation, used behind
/// an ERC1967Proxy and upgraded by its owner): the owner registers upkeeps and the keepers
/// that may perform them; anyone funds an upkeep in the payment token. A keeper performs a due
/// upkeep (not the one it performed last: keepers take turns), the registry pays it from the
/// upkeep's balance and keeps the owner's premium; keepers' payees withdraw what was earned
/// (from release 1.2 on, each perform is paid to the payee at once).
abstract contract KeeperRegistryBase is Initializable, UUPSUpgradeable, ReentrancyGuard {
    using SafeTransfer for IERC20;

    struct Upkeep {
        address target;
        uint32 executeGas;
        uint96 balance;
        address admin;
        address lastKeeper;
        uint64 performCount;
    }

    struct KeeperInfo {
        address payee;
        bool active;
        uint96 balance;
    }

    address public owner;
    IERC20 public paymentToken;
    uint96 public flatFee;
    uint96 public feePerGas;
    uint16 public premiumBps;
    uint96 public ownerFunds;
    Upkeep[] internal _upkeeps;
    address[] internal _keeperList;
    mapping(address => KeeperInfo) public keepers;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event ConfigSet(uint96 flatFee, uint96 feePerGas, uint16 premiumBps);
    event KeepersUpdated(address[] keepers, address[] payees);
    event UpkeepRegistered(uint256 indexed id, address target, uint32 executeGas, address admin);
    event FundsAdded(uint256 indexed id, address indexed from, uint96 amount);
    event UpkeepPerformed(uint256 indexed id, bool success, address indexed keeper, uint96 payment, bytes performData);
    event PaymentWithdrawn(address indexed keeper, uint256 amount, address indexed to, address indexed payee);
    event OwnerFundsWithdrawn(uint96 amount, address to);

    modifier onlyOwner() {
        require(msg.sender == owner, "only owner");
        _;
    }

    function initialize(address owner_, IERC20 paymentToken_, uint96 flatFee_, uint96 feePerGas_, uint16 premiumBps_)
        external
        initializer
    {
        owner = owner_;
        paymentToken = paymentToken_;
        _setConfig(flatFee_, feePerGas_, premiumBps_);
        emit OwnershipTransferred(address(0), owner_);
    }

    function typeAndVersion() external pure virtual returns (string memory);

    // ---- owner ----

    function transferOwnership(address newOwner) external onlyOwner {
        require(newOwner != address(0), "zero owner");
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    function setConfig(uint96 flatFee_, uint96 feePerGas_, uint16 premiumBps_) external onlyOwner {
        _setConfig(flatFee_, feePerGas_, premiumBps_);
    }

    /// @notice Replaces the keeper set; a keeper's accrued balance stays withdrawable by its payee.
    function setKeepers(address[] calldata keepers_, address[] calldata payees) external onlyOwner {
        require(keepers_.length == payees.length && keepers_.length >= 2, "bad keeper set");
        for (uint256 i = 0; i < _keeperList.length; i++) {
            keepers[_keeperList[i]].active = false;
        }
        for (uint256 i = 0; i < keepers_.length; i++) {
            KeeperInfo storage k = keepers[keepers_[i]];
            require(!k.active, "duplicate keeper");
            require(k.payee == address(0) || k.payee == payees[i], "payee is fixed");
            require(payees[i] != address(0), "zero payee");
            k.active = true;
            k.payee = payees[i];
        }
        _keeperList = keepers_;
        emit KeepersUpdated(keepers_, payees);
    }

    function registerUpkeep(address target, uint32 executeGas, address admin) external onlyOwner returns (uint256 id) {
        require(executeGas >= 2_300 && executeGas <= 5_000_000, "bad gas limit");
        id = _upkeeps.length;
        _upkeeps.push(Upkeep(target, executeGas, 0, admin, address(0), 0));
        emit UpkeepRegistered(id, target, executeGas, admin);
    }

    function withdrawOwnerFunds(address to) external onlyOwner nonReentrant {
        uint96 amount = ownerFunds;
        require(amount > 0, "nothing to withdraw");
        ownerFunds = 0;
        paymentToken.safeTransfer(to, amount);
        emit OwnerFundsWithdrawn(amount, to);
    }

    // ---- upkeeps ----

    function upkeepCount() external view returns (uint256) {
        return _upkeeps.length;
    }

    function getUpkeep(uint256 id) external view returns (Upkeep memory) {
        return _upkeeps[id];
    }

    function getKeeperList() external view returns (address[] memory) {
        return _keeperList;
    }

    function addFunds(uint256 id, uint96 amount) external nonReentrant {
        Upkeep storage u = _upkeeps[id];
        u.balance += amount;
        paymentToken.safeTransferFrom(msg.sender, address(this), amount);
        emit FundsAdded(id, msg.sender, amount);
    }

    function checkUpkeep(uint256 id) external view returns (bool upkeepNeeded, bytes memory performData) {
        Upkeep storage u = _upkeeps[id];
        (upkeepNeeded, performData) = IAutomationCompatible(u.target).checkUpkeep("");
        if (u.balance < maxPayment(u.executeGas)) upkeepNeeded = false;
    }

    function maxPayment(uint32 gasLimit) public view returns (uint96 payment) {
        (payment,) = _payment(uint256(gasLimit) + 80_000);
    }

    function performUpkeep(uint256 id, bytes calldata performData) external nonReentrant returns (bool success) {
        KeeperInfo storage k = keepers[msg.sender];
        require(k.active, "only active keepers");
        Upkeep storage u = _upkeeps[id];
        require(u.lastKeeper != msg.sender, "keepers must take turns");
        require(u.balance >= maxPayment(u.executeGas), "insufficient funds");
        uint256 gasStart = gasleft();
        (success,) = u.target.call{gas: u.executeGas}(abi.encodeCall(IAutomationCompatible.performUpkeep, (performData)));
        require(success, "upkeep failed");
        (uint96 payment, uint96 premium) = _payment(gasStart - gasleft() + 80_000);
        u.balance -= payment;
        u.lastKeeper = msg.sender;
        u.performCount += 1;
        ownerFunds += premium;
        _payKeeper(k, payment - premium);
        emit UpkeepPerformed(id, success, msg.sender, payment, performData);
    }

    // ---- keepers ----

    /// @notice The payee of keeper `from` takes its earnings, to any address.
    function withdrawPayment(address from, address to) external nonReentrant {
        KeeperInfo storage k = keepers[from];
        require(msg.sender == k.payee, "only the payee");
        uint96 amount = k.balance;
        require(amount > 0, "nothing earned");
        k.balance = 0;
        paymentToken.safeTransfer(to, amount);
        emit PaymentWithdrawn(from, amount, to, msg.sender);
    }

    // ---- internals ----

    /// Payment in the payment token for `gasUsed`, and the owner's premium included in it.
    function _payment(uint256 gasUsed) internal view virtual returns (uint96 payment, uint96 premium);

    /// Credits the keeper; its payee withdraws with `withdrawPayment`.
    function _payKeeper(KeeperInfo storage k, uint96 amount) internal virtual {
        k.balance += amount;
    }

    function _setConfig(uint96 flatFee_, uint96 feePerGas_, uint16 premiumBps_) private {
        require(premiumBps_ <= 5_000, "premium too high");
        flatFee = flatFee_;
        feePerGas = feePerGas_;
        premiumBps = premiumBps_;
        emit ConfigSet(flatFee_, feePerGas_, premiumBps_);
    }

    function _authorizeUpgrade(address) internal view override onlyOwner {}
}

/// @notice First release: a flat fee per perform plus gas at `feePerGas`, with the premium on top.
contract KeeperRegistryV1 is KeeperRegistryBase {
    constructor() {
        _disableInitializers();
    }

    function typeAndVersion() external pure override returns (string memory) {
        return "KeeperRegistry 1.0.0";
    }

    function _payment(uint256 gasUsed) internal view override returns (uint96 payment, uint96 premium) {
        uint256 base = flatFee + gasUsed * feePerGas;
        premium = uint96(base * premiumBps / 10_000);
        payment = uint96(base) + premium;
    }
}

/// @notice 1.1: the premium applies to the gas part only (the flat fee is the keeper's).
contract KeeperRegistryV2 is KeeperRegistryBase {
    constructor() {
        _disableInitializers();
    }

    function typeAndVersion() external pure override returns (string memory) {
        return "KeeperRegistry 1.1.0";
    }

    function _payment(uint256 gasUsed) internal view override returns (uint96 payment, uint96 premium) {
        uint256 gasPart = gasUsed * feePerGas;
        premium = uint96(gasPart * premiumBps / 10_000);
        payment = uint96(flatFee + gasPart) + premium;
    }
}

/// @notice 1.2: as 1.1, with the gas part billed in blocks of 1,000 gas, and each perform paid
/// to the keeper's payee at once (earlier credits stay withdrawable).
contract KeeperRegistryV3 is KeeperRegistryBase {
    using SafeTransfer for IERC20;

    constructor() {
        _disableInitializers();
    }

    function typeAndVersion() external pure override returns (string memory) {
        return "KeeperRegistry 1.2.0";
    }

    function _payKeeper(KeeperInfo storage k, uint96 amount) internal override {
        paymentToken.safeTransfer(k.payee, amount);
        emit PaymentWithdrawn(msg.sender, amount, k.payee, k.payee);
    }

    function _payment(uint256 gasUsed) internal view override returns (uint96 payment, uint96 premium) {
        uint256 gasPart = (gasUsed + 999) / 1_000 * 1_000 * feePerGas;
        premium = uint96(gasPart * premiumBps / 10_000);
        payment = uint96(flatFee + gasPart) + premium;
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Ownable} from "../utils/Ownable.sol";
import {SafeTransfer} from "../utils/SafeTransfer.sol";
import {IERC721Receiver} from "../interfaces/IERC721Receiver.sol";

/// @notice ERC-721 collection with a public paid mint (sequential ids from 1) and owner proceeds.
contract Collectible is Ownable {
    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId);
    event ApprovalForAll(address indexed owner, address indexed operator, bool approved);

    string public name;
    string public symbol;
    uint256 public immutable mintPrice;
    uint256 public immutable maxSupply;
    uint256 public totalSupply;

    mapping(uint256 => address) private _owners;
    mapping(address => uint256) private _balances;
    mapping(uint256 => address) public getApproved;
    mapping(address => mapping(address => bool)) public isApprovedForAll;

    constructor(string memory name_, string memory symbol_, uint256 mintPrice_, uint256 maxSupply_)
        Ownable(msg.sender)
    {
        name = name_;
        symbol = symbol_;
        mintPrice = mintPrice_;
        maxSupply = maxSupply_;
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == 0x01ffc9a7 || interfaceId == 0x80ac58cd || interfaceId == 0x5b5e139f;
    }

    function ownerOf(uint256 tokenId) public view returns (address holder) {
        holder = _owners[tokenId];
        require(holder != address(0), "nonexistent token");
    }

    function balanceOf(address holder) external view returns (uint256) {
        require(holder != address(0), "zero address");
        return _balances[holder];
    }

    function mint(uint256 quantity) external payable returns (uint256 firstId) {
        require(quantity > 0 && totalSupply + quantity <= maxSupply, "sold out");
        require(msg.value == mintPrice * quantity, "wrong payment");
        firstId = totalSupply + 1;
        for (uint256 id = firstId; id < firstId + quantity; id++) {
            _owners[id] = msg.sender;
            emit Transfer(address(0), msg.sender, id);
        }
        _balances[msg.sender] += quantity;
        totalSupply += quantity;
    }

    function approve(address spender, uint256 tokenId) external {
        address holder = ownerOf(tokenId);
        require(msg.sender == holder || isApprovedForAll[holder][msg.sender], "not authorized");
        getApproved[tokenId] = spender;
        emit Approval(holder, spender, tokenId);
    }

    function setApprovalForAll(address operator, bool approved) external {
        isApprovedForAll[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    function transferFrom(address from, address to, uint256 tokenId) public {
        require(ownerOf(tokenId) == from, "wrong owner");
        require(to != address(0), "transfer to zero");
        require(
            msg.sender == from || isApprovedForAll[from][msg.sender] || getApproved[tokenId] == msg.sender,
            "not authorized"
        );
        delete getApproved[tokenId];
        _balances[from] -= 1;
        _balances[to] += 1;
        _owners[tokenId] = to;
        emit Transfer(from, to, tokenId);
    }

    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        safeTransferFrom(from, to, tokenId, "");
    }

    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory data) public {
        transferFrom(from, to, tokenId);
        if (to.code.length > 0) {
            require(
                IERC721Receiver(to).onERC721Received(msg.sender, from, tokenId, data)
                    == IERC721Receiver.onERC721Received.selector,
                "unsafe recipient"
            );
        }
    }

    function withdrawProceeds(address to) external onlyOwner {
        SafeTransfer.sendValue(to, address(this).balance);
    }
}

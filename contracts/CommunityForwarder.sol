// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/// @title The community's trusted forwarder: relays members' EIP-712 signed requests
/// @notice Every contract of a community trusts this one forwarder, so one signature scheme
/// (ForwardRequest with nonce and deadline, bound to chain id and this address) covers
/// proposing, voting, delegating, claiming, nominating and attesting.
contract CommunityForwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("CommunityForwarder") {}
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @dev The few forge cheatcodes these tests use (forge serves them at a fixed address), so the
/// tests need no forge-std checkout: everything they import comes from npm.
interface Vm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function warp(uint256 timestamp) external;
    function chainId(uint256 newChainId) external;
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function signP256(uint256 privateKey, bytes32 digest) external pure returns (bytes32 r, bytes32 s);
    function publicKeyP256(uint256 privateKey) external pure returns (uint256 publicKeyX, uint256 publicKeyY);
    function snapshotState() external returns (uint256 snapshotId);
    function revertToState(uint256 snapshotId) external returns (bool);
    function label(address account, string calldata name) external;
    function assume(bool condition) external pure;
    function expectRevert(bytes calldata revertData) external;
    function expectEmit(address emitter) external;
    function skip(bool skipTest) external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);
}

/// @dev What forge-std's Test and StdInvariant provide that these tests need.
abstract contract TestBase {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    address[] private _targetContracts;

    /// @dev forge reads this to know which contracts the invariant fuzzer calls.
    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }

    function targetContract(address target) internal {
        _targetContracts.push(target);
    }

    function fail(string memory message) internal pure {
        revert(message);
    }

    function assertTrue(bool condition, string memory message) internal pure {
        if (!condition) revert(message);
    }

    function assertEq(uint256 a, uint256 b, string memory message) internal pure {
        if (a != b) revert(message);
    }

    function assertEq(address a, address b, string memory message) internal pure {
        if (a != b) revert(message);
    }

    function assertEq(bytes memory a, bytes memory b, string memory message) internal pure {
        if (keccak256(a) != keccak256(b)) revert(message);
    }
}

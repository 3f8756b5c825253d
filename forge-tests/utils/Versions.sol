// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ContributionBadge} from "../../contracts/ContributionBadge.sol";
import {ContributionBadgeV2} from "../../contracts/versions/ContributionBadgeV2.sol";
import {IContributionBadge} from "../../contracts/interfaces/IContributionBadge.sol";

/// @dev A later version of a community's badge contract, deployed as the community's version in
/// use names it (the same name, symbol, membership, registry, forwarder, owner and metadata
/// writer), and its records carried over as anyone would carry them: in batches, each open
/// claim's attesters found by asking the version before who of the accounts one knows attested it.
abstract contract Versions {
    /// @dev Version 2 naming `from` as its predecessor, with everything else `from` has.
    function deploySuccessor(ContributionBadge from) internal returns (ContributionBadgeV2) {
        return new ContributionBadgeV2(
            from.name(),
            from.symbol(),
            from.membership(),
            from.registry(),
            from.trustedForwarder(),
            from.owner(),
            from.metadata(),
            from
        );
    }

    /// @dev The lists `to.carryOver` takes for claims `first` to `last` of its predecessor: for
    /// each claim still open (not minted, not declined), those of `known` who attested it, in
    /// increasing order.
    function attesterLists(IContributionBadge to, uint256 first, uint256 last, address[] memory known)
        internal
        view
        returns (address[][] memory lists)
    {
        IContributionBadge from = IContributionBadge(to.predecessor());
        lists = new address[][](last + 1 - first);
        uint256 open = 0;
        for (uint256 id = first; id <= last; ++id) {
            (IContributionBadge.Claim memory record,,,, address holder) = from.recordOf(id);
            if (holder == address(0) && record.nomination != IContributionBadge.Nomination.Declined) {
                lists[open++] = attestersOf(from, id, known);
            }
        }
        assembly ("memory-safe") {
            mstore(lists, open)
        }
    }

    /// @dev Those of `known` who attested claim `claimId` in `from`, in increasing order.
    function attestersOf(IContributionBadge from, uint256 claimId, address[] memory known)
        internal
        view
        returns (address[] memory found)
    {
        found = new address[](known.length);
        uint256 n = 0;
        for (uint256 i = 0; i < known.length; ++i) {
            address a = known[i];
            if (!from.hasAttested(claimId, a) || _listed(found, n, a)) continue;
            uint256 j = n;
            while (j > 0 && found[j - 1] > a) {
                found[j] = found[j - 1];
                --j;
            }
            found[j] = a;
            ++n;
        }
        assembly ("memory-safe") {
            mstore(found, n)
        }
    }

    function _listed(address[] memory list, uint256 n, address a) private pure returns (bool) {
        for (uint256 i = 0; i < n; ++i) {
            if (list[i] == a) return true;
        }
        return false;
    }

    /// @dev Everything `version` holds of claim `claimId` ({IContributionBadge-recordOf}), encoded.
    function recordOf(IContributionBadge version, uint256 claimId) internal view returns (bytes memory) {
        (
            IContributionBadge.Claim memory record,
            IContributionBadge.Badge memory badge,
            bytes32 evidenceHash,
            uint32 organisationId,
            address holder
        ) = version.recordOf(claimId);
        return abi.encode(record, badge, evidenceHash, organisationId, holder);
    }

    /// @dev Carries every claim of `to`'s predecessor over, `batch` claims a call.
    function carryAll(IContributionBadge to, uint256 batch, address[] memory known) internal {
        uint256 total = IContributionBadge(to.predecessor()).claimCount();
        for (uint256 first = to.claimCount() + 1; first <= total; first += batch) {
            uint256 last = first + batch - 1 < total ? first + batch - 1 : total;
            to.carryOver(batch, attesterLists(to, first, last, known));
        }
        if (total == 0) to.carryOver(batch, new address[][](0));
    }
}

"""The organisation tree (工会隶属关系), read in one query: counties, city-direct unions, subtrees.

Any organisation may be the parent (evaluator, 上一级工会) of another, to any depth: a 乡镇 or 联合
union with a rubric is inspected itself and assesses the village or member unions under it. Every
grassroots union belongs to exactly one group, the county/zone federation above it or the city-direct
unions (市直基层工会), so coverage, the quota and sampling count each union once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.inspection.order import official_key
from chatbot.store.models import Organisation

CITY_DIRECT = "市直基层工会"
WHOLE_CITY = "全市"


@dataclass(frozen=True)
class Node:
    """One organisation as the tree knows it."""

    id: int
    code: str
    name: str
    parent_id: int | None
    rubric_key: str | None
    sort_order: int | None = None

    @property
    def is_grassroots(self) -> bool:
        return self.rubric_key is not None


@dataclass(frozen=True)
class Group:
    """A county/zone federation's unions, or a city's direct unions (``code`` is then the city's)."""

    code: str
    name: str
    unions: tuple[int, ...]


@dataclass
class OrgTree:
    """Every organisation, with its children in official order (``order.official_key``); built by
    ``load_tree``."""

    nodes: dict[int, Node]
    children: dict[int | None, list[int]] = field(default_factory=dict)
    codes: dict[str, int] = field(default_factory=dict)
    #: What ``path`` and ``groups`` worked out, kept: a page asks them thousands of times of one tree.
    _paths: dict[int, tuple[Node, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _groups: tuple[Group, ...] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for node in sorted(self.nodes.values(), key=lambda n: official_key(n.sort_order, n.id)):
            self.children.setdefault(node.parent_id, []).append(node.id)
            self.codes[node.code] = node.id

    def by_code(self, code: str) -> Node | None:
        org_id = self.codes.get(code)
        return None if org_id is None else self.nodes[org_id]

    def path(self, org_id: int) -> list[Node]:
        """The organisation and its ancestors, nearest first, up to its city (root)."""
        known = self._paths.get(org_id)
        if known is None:
            known = self._paths[org_id] = tuple(self._path(org_id))
        return list(known)

    def _path(self, org_id: int) -> list[Node]:
        found: list[Node] = []
        node: Node | None = self.nodes.get(org_id)
        while node is not None and len(found) <= len(self.nodes):
            found.append(node)
            node = self.nodes.get(node.parent_id) if node.parent_id is not None else None
        return found

    def root_of(self, org_id: int) -> Node:
        return self.path(org_id)[-1]

    def county_of(self, org_id: int) -> Node | None:
        """The county/zone federation above the organisation (the city's child without a rubric), or
        None for a city-direct union and everything under it, and for the city itself."""
        path = self.path(org_id)
        if len(path) < 2:
            return None
        top = path[-2]
        return None if top.is_grassroots else top

    def group_of(self, org_id: int) -> tuple[str, str]:
        """(code, name) of the organisation's county group: its county, or its city's direct unions."""
        county = self.county_of(org_id)
        if county is not None:
            return county.code, county.name
        return self.root_of(org_id).code, CITY_DIRECT

    def descendants(self, org_id: int) -> set[int]:
        """The organisation and every organisation below it."""
        found = {org_id}
        frontier = [org_id]
        while frontier:
            frontier = [child for parent in frontier for child in self.children.get(parent, [])]
            frontier = [child for child in frontier if child not in found]
            found.update(frontier)
        return found

    def groups(self) -> list[Group]:
        """Each county/zone federation's grassroots unions (at any depth), in official order, then
        each city's direct unions; every grassroots union is in exactly one group."""
        if self._groups is None:
            self._groups = tuple(self._find_groups())
        return list(self._groups)

    def _find_groups(self) -> list[Group]:
        result: list[Group] = []
        for root in self.children.get(None, []):
            direct: list[int] = []
            for top in self.children.get(root, []):
                below = sorted(self.descendants(top), key=lambda i: self.nodes[i].code)
                unions = [i for i in below if self.nodes[i].is_grassroots]
                if self.nodes[top].is_grassroots:
                    direct += unions
                else:
                    result.append(Group(self.nodes[top].code, self.nodes[top].name, tuple(unions)))
            if direct:
                result.append(Group(self.nodes[root].code, CITY_DIRECT, tuple(direct)))
        return result

    def official_places(self) -> dict[int, int]:
        """Each grassroots union's place in the one official order of every listing: the counties in
        their order, each county's unions by code, the city-direct unions last (``groups``)."""
        unions = [union for group in self.groups() for union in group.unions]
        return {union: place for place, union in enumerate(unions)}

    def grassroots(self, ids: Iterable[int] | None = None) -> list[int]:
        chosen = self.nodes if ids is None else ids
        return [i for i in chosen if i in self.nodes and self.nodes[i].is_grassroots]


def load_tree(session: Session) -> OrgTree:
    """The whole tree in one query."""
    rows = session.execute(
        select(
            Organisation.id,
            Organisation.code,
            Organisation.name,
            Organisation.parent_id,
            Organisation.rubric_key,
            Organisation.sort_order,
        )
    ).all()
    return OrgTree(
        {
            row.id: Node(row.id, row.code, row.name, row.parent_id, row.rubric_key, row.sort_order)
            for row in rows
        }
    )

"""The official order of the county/zone federations (原州区, 西吉县 … 开发区), one for every listing.

Each organisation's ``sort_order`` is its place among its siblings; organisations without one come
after the numbered ones, in the order they were added. ``official_key`` is the one sort key: the tree
(``hierarchy.OrgTree``), and through it the dashboard, ``coverage``, the reports and the campaign and
narratives pages, all list the counties by it. An admin sets the order with ``nianjian org order`` or
the console's form (``set_order``).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.inspection import audit
from chatbot.inspection.errors import AdminError
from chatbot.store.models import Organisation

#: The suffix a federation's short name drops: 原州区总工会 → 原州区.
FEDERATION_SUFFIX = "总工会"


def official_key(sort_order: int | None, org_id: int) -> tuple[int, int, int]:
    """The sort key of an organisation among its siblings: numbered ones by their number, then the
    others in the order they were added (their id)."""
    return (0, sort_order, org_id) if sort_order is not None else (1, 0, org_id)


def in_official_order(organisations: Sequence[Organisation]) -> list[Organisation]:
    return sorted(organisations, key=lambda org: official_key(org.sort_order, org.id))


def federations(session: Session) -> list[Organisation]:
    """The county/zone federations (each city's children without a rubric), in official order."""
    rows = session.scalars(
        select(Organisation).where(Organisation.rubric_key.is_(None), Organisation.parent_id.is_not(None))
    ).all()
    cities = {org.id for org in session.scalars(select(Organisation).where(Organisation.parent_id.is_(None)))}
    return in_official_order([org for org in rows if org.parent_id in cities])


def cities_and_federations(session: Session) -> list[Organisation]:
    """The cities (roots), then their county/zone federations in official order."""
    cities = session.scalars(
        select(Organisation).where(Organisation.parent_id.is_(None)).order_by(Organisation.id)
    )
    return [*cities, *federations(session)]


def short_name(name: str) -> str:
    """原州区总工会 → 原州区; other names unchanged."""
    return name.removesuffix(FEDERATION_SUFFIX) or name


def _match(word: str, candidates: Sequence[Organisation]) -> Organisation | None:
    for org in candidates:
        if word in (org.code, org.name, short_name(org.name)):
            return org
    return None


def set_order(session: Session, words: Sequence[str], actor: str) -> list[Organisation]:
    """Put the federations named by ``words`` (codes, names or short names such as 原州区) first, in
    that order; the others keep their relative order after them. Returns the new order."""
    current = federations(session)
    if not current:
        raise AdminError("还没有县（区）总工会，无法设置顺序。")
    chosen: list[Organisation] = []
    unknown: list[str] = []
    for word in words:
        org = _match(word.strip(), current)
        if org is None:
            unknown.append(word)
        elif org in chosen:
            raise AdminError(f"“{word}”重复出现，每个县（区）只能排一次。")
        else:
            chosen.append(org)
    if unknown:
        valid = "、".join(f"{short_name(org.name)}（{org.code}）" for org in current)
        raise AdminError(f"没有这个县（区）总工会：{'、'.join(unknown)}。可选：{valid}。")
    if not chosen:
        raise AdminError("请按顺序列出县（区），如：原州区 西吉县 隆德县。")
    new_order = chosen + [org for org in current if org not in chosen]
    before = [org.code for org in current]
    for place, org in enumerate(new_order, start=1):
        org.sort_order = place
    audit.record(
        session,
        actor,
        "set_county_order",
        "organisation",
        None,
        before=before,
        after=[o.code for o in new_order],
    )
    session.flush()
    return new_order

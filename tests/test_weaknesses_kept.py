"""The weakness figures are kept between requests (a page asked again answers at once) and computed
afresh as soon as anything they depend on changes: a score, an inspection's state, the tree."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.inspection import campaigns, organisations, weaknesses
from chatbot.inspection.hierarchy import load_tree
from chatbot.store.models import Campaign, Inspection, ItemScore, Organisation
from rubrics import get_rubric

VILLAGE = get_rubric("village")


def _seed(db: Session) -> None:
    """原州区 (YZ) with U01 and U02, 西吉县 (XJ) with X01, rated in 2026 at full points but U01's item 2
    (one point lost)."""
    with db.begin():
        organisations.add_org(db, organisations.OrgRow("GY", "固原市总工会"))
        organisations.add_org(db, organisations.OrgRow("YZ", "原州区总工会", parent="GY"))
        organisations.add_org(db, organisations.OrgRow("XJ", "西吉县总工会", parent="GY"))
        for code, county in (("U01", "YZ"), ("U02", "YZ"), ("X01", "XJ")):
            organisations.add_org(db, organisations.OrgRow(code, f"{code}社区工会", "village", county, 30))
        campaigns.open_year(db, 2026)
        for inspection in db.scalars(select(Inspection)):
            inspection.state = "rated"
            union = db.get(Organisation, inspection.organisation_id)
            assert union is not None
            for item in VILLAGE.items:
                lost = 1 if union.code == "U01" and item.no == 2 else 0
                db.add(
                    ItemScore(inspection_id=inspection.id, item_no=item.no, assessed_score=item.points - lost)
                )


def _item_2(db: Session, county: str | None) -> weaknesses.Loss:
    """Item 2's figures in the county (None: the whole city), read as the console reads them."""
    campaign = db.scalar(select(Campaign).where(Campaign.year == 2026))
    assert campaign is not None
    tree = load_tree(db)
    if county is None:
        found = weaknesses.survey(db, campaign, tree)[0]
    else:
        found = weaknesses.of_group(db, campaign, next(g for g in tree.groups() if g.code == county))
    return next(i.now for i in found.items if i.no == 2)


def _inspection(db: Session, code: str) -> Inspection:
    found = db.scalar(
        select(Inspection)
        .join(Organisation, Inspection.organisation_id == Organisation.id)
        .where(Organisation.code == code)
    )
    assert found is not None
    return found


def test_the_figures_are_kept_until_a_score_or_a_state_changes(db: Session) -> None:
    _seed(db)
    first = _item_2(db, "YZ")
    assert (first.assessed, first.losing, first.lost) == (2, 1, 1)
    assert _item_2(db, "YZ") is first  # kept: not computed again
    assert _item_2(db, None).losing == 1

    row = db.scalar(
        select(ItemScore).where(ItemScore.inspection_id == _inspection(db, "U02").id, ItemScore.item_no == 2)
    )
    assert row is not None
    row.assessed_score = Decimal(2)
    db.commit()
    assert (_item_2(db, "YZ").losing, _item_2(db, "YZ").lost) == (2, 4)
    assert (_item_2(db, None).losing, _item_2(db, None).lost) == (2, 4)

    _inspection(db, "U01").state = "self_checking"  # no longer rated: not counted
    db.commit()
    assert (_item_2(db, "YZ").assessed, _item_2(db, "YZ").losing) == (1, 1)
    assert (_item_2(db, None).assessed, _item_2(db, None).losing) == (2, 1)


def test_the_figures_follow_a_union_moved_to_another_county(db: Session) -> None:
    _seed(db)
    assert _item_2(db, "XJ").losing == 0
    campaign = db.scalar(select(Campaign).where(Campaign.year == 2026))
    assert campaign is not None
    before = weaknesses.survey(db, campaign, load_tree(db))[1]
    assert [(g.code, g.rated) for g in before if g.rated] == [("YZ", 2), ("XJ", 1)]

    union = db.scalar(select(Organisation).where(Organisation.code == "U01"))
    county = db.scalar(select(Organisation).where(Organisation.code == "XJ"))
    assert union is not None and county is not None
    union.parent_id = county.id
    db.commit()
    assert _item_2(db, "XJ").losing == 1
    after = weaknesses.survey(db, campaign, load_tree(db))[1]
    assert [(g.code, g.rated) for g in after if g.rated] == [("YZ", 1), ("XJ", 2)]

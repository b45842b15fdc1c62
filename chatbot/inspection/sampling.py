"""抽查: the city federation draws rated inspections to re-check, spread across counties in proportion.

A draw is reproducible: the same seed over the same rated inspections gives the same sample. From 2025
(回头看) a draw may also take unions rated in an earlier year and not yet this year: their latest result
is re-checked. A re-check that changes a result's stars goes through the quota and is published again.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from chatbot.config import Config
from chatbot.inspection import audit, results, scores
from chatbot.inspection.errors import Refused
from chatbot.inspection.hierarchy import load_tree
from chatbot.inspection.rubric_versions import rubric_of
from chatbot.store.models import Campaign, Inspection, ItemScore, Sample, SampledInspection
from rubrics.lifecycle import RATED, InspectionState, values
from rubrics.quota import band
from rubrics.scoring import format_score, percent_score, raw_total, star_level


@dataclass(frozen=True)
class Drawn:
    sample_id: int
    seed: int
    population: int
    codes: list[str]
    by_county: dict[str, list[str]]


def allocate(sizes: dict[str, int], total: int) -> dict[str, int]:
    """Split ``total`` across groups in proportion to their sizes (largest remainder, ties by name)."""
    population = sum(sizes.values())
    if population == 0:
        return {name: 0 for name in sizes}
    exact = {name: Decimal(total) * size / population for name, size in sizes.items()}
    given = {name: int(value) for name, value in exact.items()}
    left = total - sum(given.values())
    for name in sorted(exact, key=lambda n: (-(exact[n] - given[n]), n))[:left]:
        given[name] += 1
    return given


def _population(session: Session, campaign: Campaign, earlier: bool) -> dict[int, Inspection]:
    """The rated inspections a draw chooses from, by union: this year's, and with ``earlier`` the
    latest earlier result of each union not yet rated this year."""
    rated = session.scalars(
        select(Inspection)
        .options(joinedload(Inspection.organisation))
        .where(Inspection.campaign_id == campaign.id, Inspection.state.in_(values(RATED)))
    ).all()
    by_union = {inspection.organisation_id: inspection for inspection in rated}
    if earlier:
        older = session.scalars(
            select(Inspection)
            .options(joinedload(Inspection.organisation))
            .join(Campaign, Inspection.campaign_id == Campaign.id)
            .where(Campaign.year < campaign.year, Inspection.state.in_(values(RATED)))
            .order_by(Campaign.year.desc())
        ).all()
        for inspection in older:
            by_union.setdefault(inspection.organisation_id, inspection)
    return by_union


def draw(
    session: Session,
    campaign: Campaign,
    share: float,
    seed: int | None = None,
    actor: str = "cli",
    earlier: bool = False,
) -> Drawn:
    seed = seed if seed is not None else secrets.randbelow(2**31)
    by_union = _population(session, campaign, earlier)
    rated = list(by_union.values())
    pools: dict[str, list[Inspection]] = {}
    for group in load_tree(session).groups():
        members = sorted(
            (by_union[u] for u in group.unions if u in by_union), key=lambda i: i.organisation.code
        )
        if members:
            pools[group.code] = members
    total = int((Decimal(str(share)) * len(rated)).quantize(Decimal(1), ROUND_HALF_UP)) if rated else 0
    if rated and total == 0:
        total = 1
    counts = allocate({code: len(pool) for code, pool in pools.items()}, total)
    rng = random.Random(seed)
    chosen: dict[str, list[Inspection]] = {}
    for code in sorted(pools):
        picked = rng.sample(pools[code], counts[code])
        chosen[code] = sorted(picked, key=lambda i: i.organisation.code)
    sample = Sample(campaign_id=campaign.id, seed=seed, share=Decimal(str(share)), earlier=earlier)
    session.add(sample)
    session.flush()
    for inspections in chosen.values():
        for inspection in inspections:
            session.add(
                SampledInspection(
                    sample_id=sample.id,
                    inspection_id=inspection.id,
                    county_score=inspection.score,
                    county_stars=inspection.stars,
                )
            )
    codes = [i.organisation.code for inspections in chosen.values() for i in inspections]
    audit.record(
        session,
        actor,
        "draw",
        "sample",
        sample.id,
        after={"seed": seed, "share": share, "earlier": earlier, "codes": codes},
    )
    return Drawn(
        sample.id,
        seed,
        len(rated),
        codes,
        # Drawn in code order (a seed draws the same whatever the counties' order), listed in official order.
        {code: [i.organisation.code for i in chosen[code]] for code in pools if chosen[code]},
    )


def pending_for_org(session: Session, org_id: int) -> SampledInspection | None:
    """The newest entry of the organisation, in any year, not yet re-checked by the city."""
    return session.scalar(
        select(SampledInspection)
        .join(Inspection, SampledInspection.inspection_id == Inspection.id)
        .where(Inspection.organisation_id == org_id, SampledInspection.checked_at.is_(None))
        .order_by(SampledInspection.id.desc())
        .limit(1)
    )


def pending_check(session: Session, inspection_id: int) -> SampledInspection | None:
    """The newest sample entry of the inspection not yet re-checked by the city."""
    return session.scalar(
        select(SampledInspection)
        .where(SampledInspection.inspection_id == inspection_id, SampledInspection.checked_at.is_(None))
        .order_by(SampledInspection.id.desc())
        .limit(1)
    )


def mark(session: Session, inspection: Inspection, actor: str) -> SampledInspection:
    """Put one rated inspection on the re-check list by hand (a sample of its own, seed 0)."""
    sample = Sample(campaign_id=inspection.campaign_id, seed=0, share=Decimal(0))
    session.add(sample)
    session.flush()
    entry = SampledInspection(
        sample_id=sample.id,
        inspection_id=inspection.id,
        county_score=inspection.score,
        county_stars=inspection.stars,
    )
    session.add(entry)
    audit.record(session, actor, "mark_for_sampling", "inspection", inspection.id)
    return entry


def submit_check(
    session: Session,
    inspection: Inspection,
    entry: SampledInspection,
    config: Config,
    account_id: int,
    actor: str,
    now: datetime,
) -> None:
    """The city's re-check. Where its score gives other stars than the county's result, the city's
    scores become the assessed scores (each change audited), the result is rated again through the
    quota and, if it was published, published again as a new round (chair and members told)."""
    rubric = rubric_of(session, inspection)
    rows = session.scalars(select(ItemScore).where(ItemScore.inspection_id == inspection.id)).all()
    city = {row.item_no: Decimal(row.city_score) for row in rows if row.city_score is not None}
    if len(city) < rubric.item_count:
        raise Refused(f"还有 {rubric.item_count - len(city)} 项未抽查评分，未能提交。")
    state = InspectionState(inspection.state)
    if state.awaits_re_review:
        raise Refused(f"“{inspection.organisation.name}”的结果有待复查的异议，请在复查完成后再提交抽查。")
    score = percent_score(raw_total(city.values()), rubric.max_total)
    entry.city_score = score
    entry.checked_at, entry.checker_account_id = now, account_id
    before = {"score": entry.county_score, "stars": entry.county_stars}
    # The county's result stands unless the city's score falls in another band (or across the standard).
    changed = band(score, config.pass_mark) != band(Decimal(inspection.score or 0), config.pass_mark)
    if changed:
        for row in rows:
            if row.assessed_score != row.city_score:
                scores.audit_change(
                    session,
                    actor,
                    "assessed_score",
                    inspection,
                    row.item_no,
                    row.assessed_score,
                    row.city_score,
                    "市总工会抽查",
                )
                row.assessed_score = row.city_score
        inspection.override_stars = inspection.override_reason = None
        results.rate_in_scope(
            session, inspection, config, now, results.Cause.SAMPLE, actor, publishing=state.is_published
        )
        if state.is_published:
            results.open_publication(
                session,
                inspection,
                now,
                inspection.publication_days or results.DEFAULT_PUBLICATION_DAYS,
                actor,
                note="经市总工会抽查重新评定，",
            )
        audit.record(
            session,
            actor,
            "sample_stars_changed",
            "inspection",
            inspection.id,
            before={"stars": entry.county_stars},
            after={"stars": inspection.stars, "score": score},
            reason=f"市总工会抽查：{format_score(score)} 分（县级考评 {format_score(entry.county_score or 0)} 分）",
        )
    entry.city_stars = inspection.stars if changed else int(star_level(score))
    audit.record(
        session,
        actor,
        "sample_check",
        "inspection",
        inspection.id,
        before=before,
        after={"score": score, "stars": entry.city_stars},
    )

"""`帮助` and `进度`: what each user may send, and where their annual inspection stands.

`帮助` lists, for each of the user's roles, the words the routers included in dialogs/router.py
registered with a line for it (``Route.usage``), each once.
"""

from __future__ import annotations

from dialogs.context import ROLE_LABELS, UserContext
from dialogs.engine import DialogState, Outcome, Reply
from dialogs.parsing import Intent
from dialogs.routing import Needs, Route, Router
from dialogs.selfcheck import progress_text, result_line
from dialogs.texts import common as texts
from rubrics import words
from rubrics.lifecycle import RemediationStatus
from rubrics.objections import ObjectionView, outcome_words, source_short

MAX_CHILDREN_LISTED = 20
#: `帮助` and `进度` stay well inside WeChat's 2048 bytes, leaving room for a link.
HELP_BYTES = 1900

router = Router.of("guide")


def _progress(intent: Intent) -> Needs:
    """An evaluator's children, a chair's remediation, a member's evaluation and published result, and
    the objections the user filed."""
    return Needs(children=True, remediation=True, member_evaluation=True, result=True, filed_objections=True)


@router.word(
    words.PROGRESS, needs=_progress, usage=texts.PROGRESS_USAGE, anywhere=False, loads_self_check=True
)
def _show_progress(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    return Outcome(Reply(progress(ctx)), DialogState())


@router.word(words.HELP, usage=texts.HELP_USAGE, anywhere=False, synonyms=("?", "help", "菜单"))
def _help(state: DialogState, intent: Intent, ctx: UserContext) -> Outcome:
    return Outcome(Reply(help_text(ctx)), DialogState())


def _routes() -> dict[str, Route]:
    """Every word of the routers included with this one."""
    return router.root.routes


def help_text(ctx: UserContext) -> str:
    """`帮助`: for each of the user's roles, its command words (from the included routers, each once) and what
    works inside its dialogs; then the words for everyone. Within WeChat's limit whatever the roles:
    where all of it would not fit, the lines about answering are left out for the roles listed after
    the first."""
    if not ctx.bound:
        return texts.UNBOUND_HELP
    listed: set[str] = set()
    sections = [
        _role_help(role, label, ctx, listed) for role, label in ROLE_LABELS.items() if ctx.has_role(role)
    ]
    everyone = texts.everyone_line(
        [route.usage for route in _routes().values() if not route.roles and route.usage]
    )
    return _fitted(texts.identities([r.label for r in ctx.roles]), sections, everyone)


def _role_help(role: str, label: str, ctx: UserContext, listed: set[str]) -> tuple[list[str], list[str]]:
    """One role's part of `帮助`: its heading, the command words not ``listed`` for a role before it
    (added to ``listed``) and the lines that always apply; and the lines about answering inside its
    dialogs."""
    offered = [w for w, route in _routes().items() if route.usage and route.offered_to(role, ctx)]
    words = [w for w in offered if w not in listed]
    listed.update(words)
    lines_of_role = texts.DIALOG_HELP.get(role, ())
    always = [f"· {line}" for word, line in lines_of_role if not word]
    inside = [f"· {line}" for word, line in lines_of_role if word and word in offered]
    heading = [texts.role_heading(label)] if words or always or inside else []
    return [*heading, *(f"· {_routes()[w].usage}" for w in words), *always], inside


def _fitted(identities: str, sections: list[tuple[list[str], list[str]]], everyone: str) -> str:
    """The help within WeChat's limit: the answering lines of as many roles, from the first, as fit."""
    for keep in range(len(sections), -1, -1):  # answering lines for the first ``keep`` roles
        body = [
            line
            for n, (commands, inside) in enumerate(sections)
            for line in commands + (inside if n < keep else [])
        ]
        full = "\n".join([identities, *body, everyone])
        if len(full.encode("utf-8")) <= HELP_BYTES:
            return full
    return full


def progress(ctx: UserContext) -> str:
    """`进度` outside a dialog: the user's bindings, own self-check, and an evaluator's children."""
    filed = _filed_lines(ctx)
    if not ctx.bound:
        if filed:  # their objections first, then what anyone may do (bound or not, said once)
            return "\n".join([*filed, texts.UNBOUND_HELP])
        return "\n".join([texts.UNBOUND_PROGRESS, *texts.UNBOUND_HELP_LINES])
    lines = [texts.bindings_line([r.label for r in ctx.roles])]
    own = ctx.self_check
    if own is not None:
        lines.append(progress_text(own, own.sheet, ctx.result))
    elif ctx.has_role("chair"):
        lines.append(texts.NO_CAMPAIGN if ctx.campaign_year is None else texts.NOT_IN_SCOPE)
    if ctx.has_role("member"):
        # A chair who is also a member reads the result once, in the stages of the self-check.
        told = own is not None and ctx.result is not None and ctx.result.inspection_id == own.inspection_id
        lines.extend(_member_progress(ctx, result_told=told))
    if ctx.remediation is not None and ctx.remediation.status != RemediationStatus.PASSED:
        lines.append(texts.remediation_line(ctx.remediation.status_label, ctx.remediation.due))
    for line in ctx.coverage:
        lines.append(
            texts.coverage_line(
                line.name,
                line.rated,
                line.unions,
                line.share,
                line.cumulative_share,
                line.target,
            )
        )
    by_union: dict[str, list[ObjectionView]] = {}  # one line a union, however many objections it has
    for objection in ctx.objections:
        by_union.setdefault(objection.org_code, []).append(objection)
    for code, group in by_union.items():
        said = [(source_short(o.source), o.text[:60]) for o in group]
        lines.append(texts.objection_line(code, group[0].org_name, group[0].due, said))
    lines.extend(filed)
    if ctx.has_role("evaluator") or ctx.has_role("admin"):
        total = max(ctx.children_total, len(ctx.children))
        if not ctx.children:
            lines.append(texts.NO_CHILDREN)
        else:
            lines.append(texts.children_heading(total))
            size = len("\n".join(lines).encode("utf-8")) + len(texts.more_children(total).encode("utf-8"))
            shown = 0
            for child in ctx.children[:MAX_CHILDREN_LISTED]:
                shown_child = texts.child_line(
                    child.org_code, child.org_name, child.state_label, child.self_total, child.assessed_total
                )
                size += len(shown_child.encode("utf-8")) + 1
                if size > HELP_BYTES:
                    break
                lines.append(shown_child)
                shown += 1
            if total > shown:
                lines.append(texts.more_children(total - shown))
    return "\n".join(lines)


def _member_progress(ctx: UserContext, result_told: bool = False) -> list[str]:
    """A member's `进度`: their union's democratic evaluation as it stands for them, and the published
    result with their objection, if any (``result_told``: already in the chair's lines)."""
    ballot = ctx.ballot
    shown = ballot is not None and ballot.status in ("open", "voted", "closed", "not_eligible", "full")
    lines = [
        texts.ballot_line(ballot.org_name, ballot.status, len(ballot.answers))
        if ballot and shown
        else texts.NO_BALLOT
    ]
    result = ctx.result
    if result is None:
        lines.append(texts.NO_RESULT)
    elif not result_told:
        lines.append(result_line(result))
    return lines


def _filed_lines(ctx: UserContext) -> list[str]:
    """The objections the user filed: each waiting for its re-review, or what the re-review decided."""
    if not ctx.filed_objections:
        return []
    lines = [texts.FILED_OBJECTIONS]
    for filed in ctx.filed_objections:
        outcome = outcome_words(filed.outcome) if filed.outcome is not None else ""
        lines.append(
            texts.filed_objection_line(
                filed.org_code,
                filed.org_name,
                filed.year,
                filed.filed,
                filed.text,
                outcome,
                filed.publication_ends,
            )
        )
    return lines

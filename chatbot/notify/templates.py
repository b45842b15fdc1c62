"""The account's template messages: per kind of notice, the template id and its typed fields, read
from a TOML file (``WECHAT_TEMPLATES_FILE``) and checked once at start.

The file names templates, each with its id, its title, the kinds of notice it carries and its fields:
a field's key as the template has it (``thing1``, ``time3``; its type is the key's prefix, or ``type``)
and its source, what goes in it (``SOURCES``). An unknown kind, type or source, a source a kind does
not have, a kind in two templates or a key twice refuse the start with a Chinese message naming the
line. ``default`` is the mapping shipped in the package (``templates.toml`` beside this module), for
the category-library templates a federation would pick; its ids are placeholders to be replaced by the
account's own. Without the file, ``WECHAT_TEMPLATE_ID``/``WECHAT_TEMPLATE_ID_<KIND>`` keep working with
the old industry template's layout (``LEGACY_FIELDS``), its values now composed to fit.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatbot.notify.compose import FieldType
from chatbot.store.notice_kinds import NoticeKind

DEFAULT_FILE = Path(__file__).with_name("templates.toml")
#: WECHAT_TEMPLATES_FILE's value that names the shipped mapping.
DEFAULT_NAME = "default"

#: What a field may carry, with the types it may be shown in (text types take any fact as text).
TEXT_TYPES = frozenset({FieldType.THING, FieldType.KEYWORD})
SOURCES: dict[str, tuple[str, frozenset[FieldType]]] = {
    "subject": ("通知事项（如“年检结果公示”）", TEXT_TYPES),
    "union": ("工会名称（过长时按规则缩短）", TEXT_TYPES | {FieldType.NAME}),
    "stars": ("星级（如“四星级”）", TEXT_TYPES | {FieldType.PHRASE}),
    "score": ("得分（百分制）", TEXT_TYPES | {FieldType.NUMBER}),
    "round": ("公示轮次（如“第 1 轮”）", TEXT_TYPES),
    "result": ("办理结果（如“已退回”“通过”）", TEXT_TYPES | {FieldType.PHRASE}),
    "deadline": ("截止日期", TEXT_TYPES | {FieldType.TIME, FieldType.DATE}),
    "period": ("公示期（发布日至截止日）", TEXT_TYPES | {FieldType.DATE}),
    "action": ("要在对话中发送的命令词", TEXT_TYPES),
    "summary": ("通知全文的第一句（过长时缩短；全文见链接）", TEXT_TYPES),
    "sent": ("发送时间", TEXT_TYPES | {FieldType.TIME, FieldType.DATE}),
}
#: Sources every kind has; the others only the kinds of ``SOME_KINDS``.
EVERY_KIND_HAS = frozenset({"subject", "union", "action", "summary", "sent"})
K = NoticeKind
_NO_DEADLINE = {
    K.SELF_CHECK_SUBMITTED,
    K.SELF_CHECK_WITHDRAWN,
    K.SELF_CHECK_RETURNED,
    K.RESULT_FINAL,
    K.REMEDIATION_REPORTED,
    K.REMEDIATION_CHECKED,
    K.OBJECTION_DECIDED,
}
SOME_KINDS: dict[str, frozenset[NoticeKind]] = {
    "deadline": frozenset(set(NoticeKind) - _NO_DEADLINE),
    "period": frozenset({K.RESULT_PUBLISHED}),
    "stars": frozenset({K.RESULT_PUBLISHED, K.RESULT_FINAL}),
    "score": frozenset({K.RESULT_PUBLISHED}),
    "round": frozenset({K.RESULT_PUBLISHED}),
    "result": frozenset(
        {K.SELF_CHECK_RETURNED, K.REMEDIATION_CHECKED, K.SELF_CHECK_WITHDRAWN, K.OBJECTION_DECIDED}
    ),
}
KEY = re.compile(r"^([a-z_]+?)(\d+)$")


class TemplateError(ValueError):
    """The templates file is wrong: the Chinese message names the file, the line and what is wrong."""


@dataclass(frozen=True)
class TemplateField:
    key: str
    type: FieldType
    source: str
    #: The field's name as the template shows it (事项名称), for previews and the fake's log.
    label: str = ""


@dataclass(frozen=True)
class Template:
    """One template of the account: its id, its title (as the library names it) and its fields."""

    name: str
    id: str
    title: str
    fields: tuple[TemplateField, ...]


@dataclass(frozen=True)
class TemplateMap:
    """Which template each kind of notice is sent with; ``source`` is the file it was read from."""

    source: str
    by_kind: Mapping[str, Template]

    @property
    def templates(self) -> list[Template]:
        """Each template once, in the order of the file."""
        return list({t.name: t for t in self.by_kind.values()}.values())


#: The old industry template's layout (事项, 截止时间, 说明) for WECHAT_TEMPLATE_ID(_<KIND>).
LEGACY_FIELDS = (
    TemplateField("keyword1", FieldType.KEYWORD, "subject", "事项"),
    TemplateField("keyword2", FieldType.KEYWORD, "deadline", "截止时间"),
    TemplateField("keyword3", FieldType.KEYWORD, "summary", "说明"),
)


def legacy_template(template_id: str) -> Template:
    """A template set by WECHAT_TEMPLATE_ID(_<KIND>): the old layout."""
    return Template("legacy", template_id, "行业模板（keyword1–3）", LEGACY_FIELDS)


def field_type(key: str, declared: str | None) -> FieldType | None:
    """A field's type: ``declared``, else its key's prefix (``thing1`` → thing); None when unknown."""
    found = KEY.match(key)
    name = declared or (found.group(1) if found else "")
    try:
        return FieldType(name)
    except ValueError:
        return None


def load_templates(path: str) -> TemplateMap:
    """The mapping in ``path`` (``default``: the shipped one), checked; TemplateError when wrong."""
    file = DEFAULT_FILE if path == DEFAULT_NAME else Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise TemplateError(f"读不到模板配置文件 {file}：{error.strerror or error}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise TemplateError(f"模板配置文件 {file} 格式有误：{error}") from None
    return _Reader(str(file), text).read(data)


@dataclass
class _Reader:
    file: str
    text: str

    def fail(self, needle: str, problem: str) -> TemplateError:
        """The error, naming the first line of the file where ``needle`` is written."""
        for number, line in enumerate(self.text.splitlines(), start=1):
            if needle and needle in line:
                return TemplateError(f"模板配置文件 {self.file} 第 {number} 行：{problem}")
        return TemplateError(f"模板配置文件 {self.file}：{problem}")

    def read(self, data: dict[str, Any]) -> TemplateMap:
        tables = data.get("templates")
        if not isinstance(tables, dict) or not tables:
            raise self.fail("[templates", "没有任何模板（应有 [templates.<名称>] 表）。")
        by_kind: dict[str, Template] = {}
        for name, table in tables.items():
            template, kinds = self.template(name, table)
            for kind in kinds:
                if kind in by_kind:
                    raise self.fail(
                        f'"{kind}"', f"通知类型“{kind}”出现在两个模板中（{by_kind[kind].name}、{name}）。"
                    )
                by_kind[kind] = template
        return TemplateMap(self.file, by_kind)

    def template(self, name: str, table: Any) -> tuple[Template, list[NoticeKind]]:
        if not isinstance(table, dict):
            raise self.fail(name, f"“{name}”应为一个表 [templates.{name}]。")
        template_id = table.get("id")
        if not isinstance(template_id, str) or not template_id.strip():
            raise self.fail(f"[templates.{name}]", f'模板“{name}”缺少模板 ID（id = "…"）。')
        kinds = self.kinds(name, table.get("kinds"))
        raw_fields = table.get("fields")
        if not isinstance(raw_fields, list) or not raw_fields:
            raise self.fail(f"[templates.{name}]", f"模板“{name}”没有字段（fields = [...]）。")
        fields = tuple(self.field(name, raw) for raw in raw_fields)
        keys = [f.key for f in fields]
        for key in keys:
            if keys.count(key) > 1:
                raise self.fail(f'"{key}"', f"模板“{name}”的字段 {key} 写了两次。")
        for field in fields:
            lacking = [kind for kind in kinds if kind not in SOME_KINDS.get(field.source, set(NoticeKind))]
            if lacking:
                raise self.fail(
                    f'"{field.source}"',
                    f"字段 {field.key} 的来源“{field.source}”在通知类型 {'、'.join(lacking)} 中没有"
                    "（这类通知不含这项内容），请换一个来源或把这类通知放到别的模板。",
                )
        title = str(table.get("title", name))
        return Template(name, template_id.strip(), title, fields), kinds

    def kinds(self, name: str, raw: Any) -> list[NoticeKind]:
        if not isinstance(raw, list) or not raw:
            raise self.fail(f"[templates.{name}]", f"模板“{name}”没有列出通知类型（kinds = [...]）。")
        known = {kind.value: kind for kind in NoticeKind}
        found = []
        for value in raw:
            if value not in known:
                raise self.fail(
                    f'"{value}"', f"未知的通知类型“{value}”（nianjian notices kinds 列出全部类型）。"
                )
            found.append(known[value])
        return found

    def field(self, name: str, raw: Any) -> TemplateField:
        if not isinstance(raw, dict) or not isinstance(raw.get("key"), str):
            raise self.fail(f"[templates.{name}]", f"模板“{name}”的字段应写成 {{ key = …, source = … }}。")
        key, source, declared = raw["key"], raw.get("source"), raw.get("type")
        kind = field_type(key, declared if isinstance(declared, str) else None)
        if kind is None:
            types = "、".join(t.value for t in FieldType)
            raise self.fail(
                f'"{declared or key}"', f"字段 {key} 的类型“{declared or key}”无法识别（可用：{types}）。"
            )
        if source not in SOURCES:
            raise self.fail(
                f'"{source}"' if source else f'"{key}"',
                f"字段 {key} 的来源“{source or ''}”未知（可用：{'、'.join(SOURCES)}）。",
            )
        if kind not in SOURCES[source][1]:
            allowed = "、".join(sorted(t.value for t in SOURCES[source][1]))
            raise self.fail(
                f'"{key}"', f"字段 {key} 是 {kind.value} 类型，放不下来源“{source}”（可用类型：{allowed}）。"
            )
        label = raw.get("label")
        return TemplateField(key, kind, source, label if isinstance(label, str) else "")

"""Template notices: values composed to fit each field type (pure), and the templates file checked at start."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot.config import Config, ConfigError
from chatbot.notify.compose import ELLIPSIS, LIMITS, FieldType, Moment, fit, fit_moment, fits, one_line
from chatbot.notify.message import NoticeFacts, compose, link_expires, link_token, send_word, token_notice
from chatbot.notify.templates import DEFAULT_FILE, SOME_KINDS, load_templates
from chatbot.store.notice_kinds import NoticeKind

PUBLISHED = (
    "西吉县供电公司工会 2026 年度年检结果公示（第 1 轮）：四星级，100 分。公示期至 2026-12-12，"
    "发送“结果”查看详情；如有异议请在公示期内向上级工会反映。"
)
HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
TEXT = st.text(alphabet=st.one_of(HAN, st.sampled_from("0123456789 .,，。：\n\tabcXYZ“”（）")), max_size=120)
COUNTIES = st.sampled_from(["西吉县", "原州区", "隆德县", "泾源县", "彭阳县", "固原市", ""])
BODIES = st.text(alphabet=HAN, min_size=1, max_size=24)
SUFFIXES = st.sampled_from(["工会委员会", "工会", "有限责任公司工会", "股份有限公司工会委员会", "联合工会"])


def digit_runs(text: str) -> set[str]:
    return set(re.findall(r"\d+", text))


# ---------------------------------------------------------------- the composer


@settings(max_examples=50, deadline=None)
@given(TEXT)
def test_a_text_fits_a_thing_on_one_line_and_no_number_is_cut(text: str) -> None:
    shown = fit(FieldType.THING, text)
    assert fits(FieldType.THING, shown), shown
    kept = shown.removesuffix(ELLIPSIS)
    assert digit_runs(kept) <= digit_runs(one_line(text).replace("（", "(").replace("）", ")"))


@settings(max_examples=50, deadline=None)
@given(COUNTIES, BODIES, SUFFIXES)
def test_a_union_name_fits_every_text_type(county: str, body: str, suffix: str) -> None:
    union = county + body + suffix
    for kind in (FieldType.THING, FieldType.KEYWORD, FieldType.NAME):
        shown = fit(kind, union)
        assert fits(kind, shown), (kind, shown)
        assert len(shown) <= LIMITS[kind]
    if len(union) <= LIMITS[FieldType.THING]:
        assert fit(FieldType.THING, union) == union  # a name that fits is shown as it is


def test_a_long_name_is_shortened_by_rule_before_any_ellipsis() -> None:
    assert (
        fit(FieldType.THING, "西吉县供电有限责任公司工会委员会") == "西吉县供电有限责任公司工会委员会"
    )  # 16: fits
    long = "西吉县宁夏回族自治区供电有限责任公司工会委员会"
    assert fit(FieldType.THING, long) == "西吉县宁夏回族自治区供电有限责任公司工会"  # only as much as needed
    longer = "西吉县宁夏回族自治区电力供应服务有限责任公司第一分公司工会委员会"
    shown = fit(FieldType.THING, longer)
    assert not shown.startswith("西吉县") and shown.endswith(ELLIPSIS) and len(shown) <= 20


def test_the_publication_notice_keeps_its_first_sentence_and_cuts_no_number() -> None:
    shown = fit(FieldType.THING, PUBLISHED)
    assert len(shown) <= 20 and "\n" not in shown
    assert shown.startswith("供电公司工会 2026 年度")  # the county's prefix dropped first
    assert digit_runs(shown.removesuffix(ELLIPSIS)) <= digit_runs(PUBLISHED)


def test_types_take_wechat_forms() -> None:
    assert fit(FieldType.PHRASE, "四星级") == "四星级"
    assert fit(FieldType.PHRASE, "不达标（一星级）") == "不达标一星"
    assert fit(FieldType.NUMBER, "87.50") == "87.5" and fit(FieldType.NUMBER, "100.0") == "100"
    assert fit(FieldType.NUMBER, "87.455") == "87.46"  # half up
    assert fit(FieldType.CHARACTER_STRING, "XJ-001 号") == "XJ-001"
    day = date(2026, 12, 12)
    assert fit_moment(FieldType.TIME, Moment(day)) == "2026年12月12日 23:59"
    assert fit_moment(FieldType.DATE, Moment(date(2026, 12, 6), until=day)) == "2026年12月6日~12月12日"
    assert fit_moment(FieldType.THING, Moment(date(2026, 12, 6), until=day)) == "12月6日至12月12日"
    assert fit(FieldType.THING, "第一行\n第二行") == "第一行 第二行"
    assert not fits(FieldType.THING, "x" * 21) and not fits(FieldType.THING, "a\nb")


def test_every_kind_composes_fields_that_fit_with_the_default_mapping() -> None:
    mapping = load_templates("default")
    assert set(mapping.by_kind) == set(NoticeKind)  # the default maps every kind
    facts = '{"union":"西吉县宁夏回族自治区电力供应服务有限责任公司工会委员会","stars":"四星级","score":"87.5","round":"1","result":"已退回"}'
    for kind in NoticeKind:
        notice = NoticeFacts(
            7, kind.value, kind.label, "2026-12-12", PUBLISHED, facts, datetime(2026, 12, 6, tzinfo=UTC)
        )
        data = compose(mapping.by_kind[kind], notice, datetime(2026, 12, 6, 1, tzinfo=UTC))
        types = {f.key: f.type for f in mapping.by_kind[kind].fields}
        for key, value in data.items():
            assert fits(types[key], value["value"]), (kind, key, value)


def test_the_word_to_send_is_read_from_the_notice() -> None:
    assert send_word(PUBLISHED) == "结果"
    assert send_word("发送“测评 ABC123”即可匿名作答") == "测评 ABC123"
    assert send_word("请加快进度。") == ""


def test_a_link_token_is_the_services_and_expires_with_the_notice() -> None:
    token = link_token("secret", 42)
    assert token_notice("secret", token) == 42
    assert token_notice("other-secret", token) is None
    assert token_notice("secret", token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert token_notice("secret", "42") is None and token_notice("secret", "../etc") is None
    queued = datetime(2026, 12, 1, tzinfo=UTC)
    assert link_expires("2026-12-12", queued) == datetime(
        2026, 12, 19, 16, tzinfo=UTC
    )  # 12-20 00:00 Shanghai
    assert link_expires("", queued) == datetime(2026, 12, 31, tzinfo=UTC)


# ---------------------------------------------------------------- the templates file, checked at start


def config_with(tmp_path: Path, text: str, **env: str) -> Config:
    file = tmp_path / "templates.toml"
    file.write_text(text, encoding="utf-8")
    return Config.from_env({"NIANJIAN_INSTANCE": str(tmp_path), "WECHAT_TEMPLATES_FILE": str(file), **env})


GOOD = """
[templates.result]
id = "TPL-RESULT"
kinds = ["result_published"]
fields = [
    { key = "thing1", source = "union" },
    { key = "phrase2", source = "stars" },
]
"""


def test_a_good_file_maps_its_kinds_and_leaves_the_rest_to_customer_service(tmp_path: Path) -> None:
    config = config_with(tmp_path, GOOD)
    assert config.template_for(NoticeKind.RESULT_PUBLISHED) == "TPL-RESULT"
    assert config.template_for(NoticeKind.SELF_CHECK_DUE) == ""


@pytest.mark.parametrize(
    ("change", "line", "says"),
    [
        (('"result_published"', '"result_publish"'), 4, "未知的通知类型“result_publish”"),
        (('source = "union"', 'source = "unions"'), 6, "来源“unions”未知"),
        (('key = "phrase2"', 'key = "phrasal2"'), 7, "类型“phrasal2”无法识别"),
        (('source = "stars"', 'source = "deadline"'), 7, "phrase 类型，放不下来源“deadline”"),
        (
            ('kinds = ["result_published"]', 'kinds = ["result_published", "self_check_due"]'),
            7,
            "self_check_due 中没有",
        ),
        (('id = "TPL-RESULT"', 'title = "x"'), 2, "缺少模板 ID"),
        (("fields = [", "fields = [ oops"), 0, "格式有误"),
    ],
)
def test_a_wrong_file_refuses_the_start_naming_the_line(
    tmp_path: Path, change: tuple[str, str], line: int, says: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        config_with(tmp_path, GOOD.replace(*change))
    message = str(refused.value)
    assert says in message and "WECHAT_TEMPLATES_FILE" in message
    if line:
        assert f"第 {line} 行" in message


def test_a_kind_in_two_templates_is_refused(tmp_path: Path) -> None:
    twice = GOOD + GOOD.replace("templates.result", "templates.again")
    with pytest.raises(ConfigError, match="出现在两个模板中"):
        config_with(tmp_path, twice)


def test_the_file_and_the_old_template_ids_are_not_set_together(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="不再使用 WECHAT_TEMPLATE_ID"):
        config_with(tmp_path, GOOD, WECHAT_TEMPLATE_ID="TPL")


def test_the_old_setting_keeps_working_with_its_layout_composed_to_fit(tmp_path: Path) -> None:
    config = Config.from_env({"NIANJIAN_INSTANCE": str(tmp_path), "WECHAT_TEMPLATE_ID": "TPL"})
    template = config.template_of(NoticeKind.RESULT_PUBLISHED)
    assert template is not None and template.id == "TPL"
    notice = NoticeFacts(
        1, "result_published", "年检结果公示", "2026-12-12", PUBLISHED, "", datetime.now(UTC)
    )
    data = compose(template, notice, datetime.now(UTC))
    assert data["keyword1"]["value"] == "年检结果公示" and data["keyword2"]["value"] == "2026年12月12日"
    assert len(data["keyword3"]["value"]) <= 20


def test_every_source_a_kind_lacks_is_declared_for_known_kinds() -> None:
    assert all(kinds <= set(NoticeKind) for kinds in SOME_KINDS.values())
    assert DEFAULT_FILE.exists()

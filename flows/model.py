"""The flow model: what a content editor writes in flows/content/*.yaml, as data.

See flows/README.md for the format as editors see it.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Where:
    """Where a piece of a flow was written, for errors an editor can find."""
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


LANGS = ("zh", "zh-Hant", "en")   # zh-Hant is derived from zh with OpenCC, never written


@dataclass(frozen=True)
class Text:
    """A text in simplified Chinese with an optional English version (`say_en:`, `label_en:`)."""
    zh: str
    en: str | None = None
    where: Where | None = None

    def pick(self, lang: str | None) -> str:
        return self.en if lang == "en" and self.en else self.zh


@dataclass(frozen=True)
class Action:
    name: str
    args: tuple[tuple[str, object], ...] = ()
    where: Where | None = None

    def arg(self, key: str, default=None):
        return dict(self.args).get(key, default)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Choice:
    label: Text
    value: str
    next: str | None = None      # a step of the same flow
    jump: str | None = None      # another flow
    actions: tuple[Action, ...] = ()
    score: int | None = None     # added to the step's `score:` totals
    set: tuple[tuple[str, object], ...] = ()
    where: Where | None = None


@dataclass(frozen=True)
class Branch:
    condition: str | None        # None: otherwise
    next: str | None = None
    jump: str | None = None
    actions: tuple[Action, ...] = ()
    where: Where | None = None


@dataclass(frozen=True)
class Step:
    name: str
    say: tuple[Text, ...] = ()
    options: tuple[Choice, ...] = ()
    choose_from: str | None = None   # options filled in at run time (e.g. `slots`)
    input: str | None = None         # waits for free text, saved in this variable
    pattern: str | None = None       # regular expression the free text must match
    retry: Text | None = None        # said when the answer does not fit
    save: str | None = None          # the chosen option's value is saved in this variable
    score: tuple[str, ...] = ()      # the chosen option's `score:` is added to these totals
    set: tuple[tuple[str, object], ...] = ()
    branch: tuple[Branch, ...] = ()
    next: str | None = None
    jump: str | None = None
    actions: tuple[Action, ...] = ()
    end: bool = False
    where: Where | None = None

    @property
    def waits(self) -> bool:
        return bool(self.options or self.choose_from or self.input)


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    id: str
    label: Text
    advice: Text | None = None
    where: Where | None = None


@dataclass(frozen=True)
class Score:
    name: str
    low: int
    high: int
    bands: tuple[Band, ...] = ()
    where: Where | None = None

    def band(self, value: int) -> Band | None:
        for b in self.bands:
            if b.low <= value <= b.high:
                return b
        return None


@dataclass(frozen=True)
class Triggers:
    intents: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    entities: tuple[tuple[str, tuple[str, ...]], ...] = ()   # e.g. (("scale", ("phq9",)),)


@dataclass(frozen=True)
class Flow:
    id: str
    title: Text
    start: str
    steps: dict[str, Step]
    triggers: Triggers = field(default_factory=Triggers)
    scores: dict[str, Score] = field(default_factory=dict)
    languages: tuple[str, ...] = ("zh",)
    where: Where | None = None


@dataclass(frozen=True)
class ActionSpec:
    help: str
    args: dict[str, object] = field(default_factory=dict)   # name → "int", "str", "score" or a tuple of choices
    required: tuple[str, ...] = ()


ACTIONS: dict[str, ActionSpec] = {
    "consent_yes": ActionSpec("记录：用户同意知情同意书 / record consent"),
    "consent_no": ActionSpec("记录：用户不同意 / record refusal"),
    "handoff": ActionSpec("请值班人员联系（一般请求）/ ask a counsellor to get in touch"),
    "escalate": ActionSpec("建立危机个案并通知值班人员 / open a case and page staff",
                           {"risk": ("medium", "high", "imminent")}),
    "record_result": ActionSpec("保存测评结果（仅在用户同意后）/ store a screening result (only with consent)",
                                {"score": "score"}, ("score",)),
    "schedule_followup": ActionSpec("安排随访 / schedule a follow-up check-in",
                                    {"days": "int", "kind": "str"}, ("days",)),
    "book": ActionSpec("提交预约咨询申请（用 slot、contact、phone 变量）/ file a booking request"),
    "rate": ActionSpec("记录满意度（用 rating、about 变量，匿名统计）/ record satisfaction, anonymously"),
    "my_data": ActionSpec("查出我们保存的该用户数据，供 {{ my_data }} 显示 / look up what we hold"),
    "delete_my_data": ActionSpec("删除该用户的数据 / delete the user's data"),
    "set_lang": ActionSpec("切换语言 / switch language", {"lang": ("zh", "zh-Hant", "en")}, ("lang",)),
    "end": ActionSpec("结束流程 / end the flow"),
}

LISTS = {"slots": "本机构配置的每周咨询时段 / the organisation's weekly counselling slots (config/services.yaml)"}

GLOBALS = {
    "hotlines": "本机构的热线号码（多行）/ the organisation's hotline numbers",
    "emergency": "急救电话 / emergency numbers",
    "org_name": "机构名称 / organisation name",
    "service_hours": "服务时间 / service hours",
    "counselling_place": "咨询地点与方式 / where counselling happens",
    "consent": "是否已同意（真/假/未问）/ consent given",
    "lang": "当前语言 zh / zh-Hant / en",
    "booking_ref": "刚提交的预约编号 / the booking just filed",
    "my_data": "「我的数据」摘要（my_data 动作之后）/ what we hold (after my_data)",
    "followup_date": "随访日期（schedule_followup 之后）/ the follow-up date",
}

REQUIRED_FLOWS = ("welcome", "main_menu")

"""The estate's staff named in their role are kept (保安員陳先生, 張經理, security guard Mr Chan):
the office must know whose conduct the complaint is about. Words in Simplified characters: the
Chinese rules read a Simplified copy of the text."""

from __future__ import annotations

import re

# Someone who works for the estate: the office, its contractors, the owners' committee.
ROLE_WORDS = (
    "保安员", "保安", "护卫员", "护卫", "看更", "管理员", "管理处职员", "管理处", "管理公司",
    "物业管理处", "物业公司", "物业", "清洁工人", "清洁工", "清洁员", "清洁阿姐", "清洁姐姐",
    "清洁", "技工", "维修员", "维修工", "维修师傅", "水电师傅", "师傅", "工程部", "物业经理",
    "经理", "主任", "主管", "助理", "文员", "职员", "员工", "前台", "接待员", "客服", "管家",
    "司机", "园丁", "花王", "水电工", "电工", "工人", "承办商", "业委会", "业主委员会", "主席",
    "委员", "秘书", "司库", "当值", "值班", "督导", "队长", "组长", "领班", "经理人",
    "总监", "大厦经理", "屋苑经理", "管业处", "服务中心", "客户服务", "护管员", "安全员",
    "主委", "管委会", "管委", "总干事", "物管", "保全员", "保全", "警卫", "门卫", "门岗",
    "值班员", "楼长", "居委会", "主任委员", "监委", "财委", "客服中心", "物业服务中心",
    "法团", "业主立案法团", "管理委员会", "管委会主委", "司库",
    "里长", "里干事", "村长", "议员", "区议员",  # public officers in their role
    # 负责人 alone is whoever is in charge of anything (a shop, a renovation crew).
    "物业负责人", "管理处负责人", "管理公司负责人", "项目负责人", "保安负责人", "承办商负责人",
)
# A surname followed by one of these is a member of staff in role (张经理, 李主任).
STAFF_TITLES = (
    "经理", "主任", "主管", "助理", "保安", "管理员", "督导", "师傅", "工程师", "队长", "主席",
    "副主席", "委员", "秘书", "司库", "文员", "职员", "总监", "管家", "领班", "组长", "科长",
    "处长", "总经理", "董事", "护卫员", "技工", "技术员", "客服", "sir", "Sir", "SIR", "阿sir",
)
_ROLE = "|".join(sorted(map(re.escape, ROLE_WORDS), key=len, reverse=True))
# The role right before the name: 保安员陈先生, 管理处的李小姐, 清洁工人黄姐, 经理：张先生.
_ROLE_BEFORE = re.compile(rf"(?:{_ROLE})(?:[的嘅之\s:：]|叫|名叫|称为|姓|是|系|係)?\s*$")
# ... or right after it: 陈先生（保安员）, 李小姐是管理员, 黄姐系清洁工. A 个 without a verb
# before it is Cantonese's possessive: 周太个工人 is Mrs Chow's helper, not a worker.
_ROLE_AFTER = re.compile(
    rf"^\s*(?:[（(]|(?:是|系|係|做|当|为)\s*(?:一名|一位|一个|个|名)?)?\s*(?:{_ROLE})"
)

# Someone's own 工人 is their domestic helper, not the estate's worker: 佢个工人, 屋企工人.
_DOMESTIC_HELPER = re.compile(r"(?:个|屋企|家里|家中|家)\s*工人(?:[的嘅之\s:：]|叫|名叫|姓)?\s*$")

ENGLISH_ROLE_WORDS = (
    "security guard", "guard", "security", "caretaker", "manager", "property manager",
    "estate manager", "building manager", "supervisor", "officer", "clerk", "staff", "cleaner",
    "cleaning lady", "technician", "receptionist", "concierge", "chairman", "chairperson",
    "chairwoman", "secretary", "treasurer", "watchman", "worker", "contractor", "foreman",
    "management office", "the office", "engineer", "plumber", "electrician", "handyman",
    "administrador", "administradora", "porteiro", "gerente", "segurança",
)
_ENGLISH_ROLE = "|".join(sorted(map(re.escape, ENGLISH_ROLE_WORDS), key=len, reverse=True))
# "the guard at the gate, Mr Tsai": a few words may come between the role and the name.
_ENGLISH_ROLE_BEFORE = re.compile(
    rf"(?<![A-Za-z])(?:{_ENGLISH_ROLE})(?:'s)?(?:(?:\s+[a-zà-ÿ]+){{0,4}}\s*[,:]|\s+(?:named|called))?"
    r"\s*$",
    re.IGNORECASE,
)
_HAS_LETTERS = re.compile("[A-Za-z]{3}")
_ENGLISH_ROLE_AFTER = re.compile(
    rf"^\s*(?:[,(（]\s*|\s+)(?:is\s+|was\s+)?(?:the|a|an|our|one)?\s*(?:{_ENGLISH_ROLE})(?![A-Za-z])",
    re.IGNORECASE,
)


def in_role(simplified: str, start: int, end: int) -> bool:
    """Whether the name at simplified[start:end] is named with a staff role next to it."""
    role_before = _ROLE_BEFORE.search(simplified, max(0, start - 10), start)
    if role_before and _DOMESTIC_HELPER.search(simplified, max(0, start - 12), start):
        role_before = None
    if role_before or _ROLE_AFTER.match(simplified[end:end + 10]):
        return True
    before, after = simplified[max(0, start - 40):start], simplified[end:end + 24]
    return bool(_HAS_LETTERS.search(before) and _ENGLISH_ROLE_BEFORE.search(before)
                or _HAS_LETTERS.search(after) and _ENGLISH_ROLE_AFTER.match(after))


_ANY_ROLE = re.compile(rf"{_ROLE}|(?<![A-Za-z])(?:{_ENGLISH_ROLE})(?![A-Za-z])", re.IGNORECASE)


def names_a_role(simplified: str) -> bool:
    """Whether a label (a chat speaker's, a nickname) has a staff role in it (物业客服小陈)."""
    return _ANY_ROLE.search(simplified) is not None

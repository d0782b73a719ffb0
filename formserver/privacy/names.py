"""Other people's names written in Chinese: 李太, 王伯伯, 老陳, 阿明, 鄰居梁美玲, 何家俊話...

Three ways in, each read on a Simplified copy of the text (one character for one):
- a surname and a title or a kinship word (张先生, 林小姐, 黄姐, 陈生), or 老/小 before a surname;
- a surname starting a word that jieba's segmenter finds: a person's name in its dictionary
  (tagged nr), or a word missing from it (its HMM discovers them, and new words are mostly
  names), judged by how often the dictionary's own names use each character of the given name;
- a cue before a name (鄰居, 住戶, 名叫), which makes any plausible name certain.
A name with a staff role next to it is kept (roles.py); HK and Macau district names that read
like names (何文田, 黃大仙) are kept too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from . import segmenter
from .matching import hinted, merged_windows, scanned_alternation
from .roles import STAFF_TITLES, in_role
from .surnames import SURNAMES

Candidate = tuple[int, int, str, bool]  # start, end, kind, certain

_SURNAME = "|".join(sorted(SURNAMES, key=len, reverse=True))


def word_list(text: str) -> tuple[str, ...]:
    """Words written one after another, separated by spaces or lines."""
    return tuple(text.split())


TITLES = word_list("""
    先生 太太 小姐 女士 姑娘 夫人 伯伯 伯母 伯娘 婆婆 叔叔 姨姨 姨妈 阿姨 姐姐 哥哥 嫂嫂
    师奶 老师 医生 老板娘 老板 公公 爷爷 奶奶 婶婶 妹妹 老伯 老太 大叔 大妈 大哥 大姐
    律师 议员 校长 姑姑 大爷 大娘 大婶 大嫂 老太太 老先生 老太爷 姥姥 外婆 外公 阿公 阿婆
    嫲嫲 妈妈 爸爸 阿婶 同学 老爷爷 婆 伯 叔 姨 姐 哥 嫂 婶 妹 仔 生 太 总
""")
_TITLE = re.compile(
    rf"(?P<surname>{_SURNAME})[ \t]?(?P<title>{'|'.join(TITLES)}|(?:SIR|Sir|sir)(?![A-Za-z]))"
    rf"(?!{'|'.join(map(re.escape, STAFF_TITLES))})"
)
_LONG_TITLE = re.compile("|".join(title for title in TITLES if len(title) >= 2))
_PREFIXED = hinted(rf"(?<![老小阿一二三四五六七八九十0-9])(?:老|小)(?P<surname>{_SURNAME})"
                   r"|阿(?P<given>[\u4e00-\u9fff])",
                   "老小阿")
_NOT_A_NICKNAME = set("姨伯婆叔婶公嫲爷妈爸哥姐妹仔女嫂婆拉门里富根胶斯尔姆弥飞谁边也")

CUES = word_list("""
    邻居 邻舍 住户 业主 租客 户主 楼上 楼下 隔壁 隔篱 对面 对门 同屋 朋友 亲戚 丈夫 老公
    老婆 太太 儿子 女儿 名叫 叫做 叫 姓名 名字 签名 联络人 联系人 证人 目击者 男子 女子
    租户 房东 业户 街坊 小朋友 孩子 婆婆 伯伯 名为 称为 个仔 个女 妻子 爸爸 妈妈 阿妈
    阿爸 孙子 孙女 外孙 收件人 寄件人 自称 屋主 单位主人 同事 家人 弟弟 妹妹 哥哥 姐姐
    前妻 前夫 老伴 伴侣 未婚夫 未婚妻 男朋友 女朋友 僱主 雇主 佣工 工人姐姐
    父亲 母亲 岳父 岳母 外父 外母 家公 家婆 老豆 老母 妈咪 爹地 儿媳 新抱 女婿 孙仔 孙女
    侄子 侄女 外甥 表哥 表姐 表弟 表妹 堂哥 堂姐 老板 老板娘 店主 菲佣 印佣
    昵称 暱称 花名 绰号 网名 负责人 看护 外佣 家佣 保姆 佣人 护理员 爸 妈 爷爷 奶奶 老爸 老妈
""")
_CUE_BEFORE = re.compile(
    rf"(?:{'|'.join(CUES)})\s*[:：]?\s*(?:是|系|叫|嘅|的|之|嗰个|嗰位|嗰家|那个|那位|个)?\s*(?:业主|住户|租客)?\s*(?:嘅|的)?"
    r"\s*[「『“\"(（]?\s*$"
)

# Hong Kong and Macau places whose names read like a person's (何文田 Ho Man Tin, 黃大仙).
PLACES = frozenset((
    "何文田", "黄大仙", "马鞍山", "大埔", "沙田", "将军澳", "观塘", "荃湾", "屯门",
    "元朗", "天水围", "上水", "粉岭", "西贡", "葵涌", "青衣", "柴湾", "筲箕湾",
    "太古", "九龙塘", "土瓜湾", "红磡", "蓝田", "油塘", "油麻地", "旺角", "深水埗",
    "长沙湾", "荔枝角", "石硖尾", "乐富", "黄埔", "鲤鱼门", "湾仔", "上环", "中环",
    "西环", "铜锣湾", "北角", "鲗鱼涌", "香港仔", "鸭脷洲", "薄扶林", "跑马地",
    "东涌", "马湾", "氹仔", "路环", "路氹", "黑沙环", "祐汉", "下环", "南湾",
    "新口岸", "高士德", "林茂塘", "望厦", "石排湾", "关闸", "何贤", "罗便臣",
    "冯秉芬", "周大福", "司徒拔", "高街", "林士", "马头围", "马头涌", "何东",
    "黄竹坑", "田湾", "石澳", "赤柱", "浅水湾", "东方", "方面", "马上",
))
_LONG_PLACE = re.compile("|".join(sorted((place for place in PLACES if len(place) >= 3),
                                       key=len, reverse=True)))
# Words that never end a given name: particles, pronouns, common verbs of reported speech.
_NOT_IN_A_GIVEN_NAME = set("的了和同都在是说话讲去来有冇唔咗嘅喺佢"
                           "我你他她们这那个就也又还及与或把被为系")

# What often follows a name: a conjunction, reported speech, punctuation.
_AFTER_A_NAME = set("和同及与话说讲都也就，。、；：！？,.;:!?)）")
_COMMON = 30  # a dictionary word seen this often is a word, not a name
_NAMEISH = 20  # a character that many of the dictionary's names use
_RARE = 4


def find_chinese_names(simplified: str) -> Iterator[Candidate]:
    """Candidates (start, end, "person", certain) in a Simplified copy of the text."""
    titled = list(_titled_names(simplified))
    yield from titled
    yield from _prefixed_names(simplified)
    covered = {index for start, end, _, _ in titled for index in range(start, end)}
    yield from _full_names(simplified, covered)
    yield from _names_after_a_cue(simplified, covered)


# Everyday Cantonese words that start with a surname and that jieba's Mandarin dictionary
# barely knows (成日 "all day", 游水 "to swim").
_CANTONESE_WORDS = frozenset((
    "成日", "成晚", "成个", "成班", "成世", "成身", "高过", "高啲", "易过", "易啲", "游水",
    "车房", "车尾", "车头", "黎紧", "余下", "何时", "何解", "周时", "周身", "关事", "马路",
    "区议员", "区议会", "文件夹", "江湖", "方便", "甘心", "冯京",
))


def _is_word(word: str, at_least: int = _COMMON) -> bool:
    """A dictionary word seen often that is not a person's name."""
    if word in _CANTONESE_WORDS:
        return True
    return segmenter.frequency(word) >= at_least and not segmenter.tag(word).startswith("nr")


def _glued_to_previous_word(simplified: str, start: int) -> bool:
    """The surname is the end of the word before it (地方太细, 管理费太高, 如何)."""
    return any(_is_word(simplified[start - size:start + 1], 100 if size == 1 else _COMMON)
               for size in (1, 2, 3) if start - size >= 0)


def _titled_names(simplified: str) -> Iterator[Candidate]:
    for found in _TITLE.finditer(simplified):
        start, end = found.start(), found.end()
        surname, title = found.group("surname"), found.group("title")
        if _glued_to_previous_word(simplified, start) and not _CUE_BEFORE.search(
                simplified[max(0, start - 6):start]):
            continue
        if len(title) == 1 and simplified[end:end + 1] not in _AFTER_A_NAME:
            # 卫生, 花生, 余生: one word; 太多, 太高: an adverb; 生活, 生日: a word after.
            if _is_word(surname + title, 20):
                continue
            if title == "太" and _adverb_follows(simplified, end):
                continue
            if title != "太" and _is_word(simplified[end - 1:end + 1], 50) \
                    and not _is_word(simplified[end:end + 2], 50):  # 陈生 + 成日, not 生成
                continue
        start = _full_name_start(simplified, start)
        if in_role(simplified, start, end):
            continue
        yield start, end, "person", True


def _full_name_start(simplified: str, start: int) -> int:
    """Where a titled name starts when the character found as its surname ends a whole name
    (邓永康先生: 邓永康, not 康先生): a surname and a given-name character before it."""
    before = simplified[max(0, start - 2):start]
    if len(before) == 2 and before[0] in SURNAMES and "\u4e00" <= before[1] <= "\u9fff" \
            and before[1] not in _NOT_IN_A_GIVEN_NAME and not _is_word(before, 5) \
            and not _glued_to_previous_word(simplified, start - 2):
        return start - 2
    return start


def _adverb_follows(simplified: str, end: int) -> bool:
    following = simplified[end:end + 2]
    return any(segmenter.tag(following[:size]).startswith(("a", "d")) for size in (1, 2)) or \
        following[:1] in set("过多少大小高低贵吵差久长慢快早晚迟")


# 老/小 and a surname that jieba's dictionary knows as a word, and that is still a person (老张
# "old Zhang"), unlike 小区, 小麦, 老成.
_NICKNAME_WORDS = frozenset(word_list("""
    老何 老叶 老周 老宋 老张 老方 老李 老林 老王 老范 老陆 老马 老高 老金 小叶 小张 小林 小温
    小苏 小董 小马 小史 小毛
"""))


def _prefixed_names(simplified: str) -> Iterator[Candidate]:
    for found in _PREFIXED.finditer(simplified):
        start, end = found.span()
        word, following = found.group(), simplified[end:end + 1]
        if (_is_word(word, 10) and word not in _NICKNAME_WORDS) or _is_word(word + following, 10):
            continue
        if _glued_to_previous_word(simplified, start):
            continue
        given = found.group("given")
        if given is not None:
            if given in _NOT_A_NICKNAME or segmenter.given_name_count(given) < _RARE:
                continue
            certain = segmenter.given_name_count(given) >= _NAMEISH
        else:
            certain = True
        if not in_role(simplified, start, end):
            yield start, end, "person", certain


_SURNAME_CHAR = re.compile("[" + "".join(sorted({char for name in SURNAMES for char in name[:1]}))
                           + "]")


def _title_ahead(simplified: str, index: int) -> bool:
    """许家铭先生: a title two or three characters on says a name starts here."""
    return any(_LONG_TITLE.match(simplified, index + size) for size in (2, 3))


def _may_start_a_name(simplified: str, index: int) -> bool:
    """A surname character that a name may start with: a Chinese character follows, and it is
    not part of a word seen very often (关于, 方面, 如何, 马上)."""
    if not "\u4e00" <= simplified[index + 1:index + 2] <= "\u9fff":
        return False
    if _title_ahead(simplified, index):
        return True
    return not any(_is_word(word, 1000) for word in (simplified[index:index + 2],
                                                    simplified[max(0, index - 1):index + 1])
                   if len(word) == 2)


def _windows(simplified: str, covered: set[int]) -> Iterator[tuple[int, int]]:
    """Stretches of text around each surname that no title has claimed, merged."""
    surnames = ((found.start(), found.end()) for found in _SURNAME_CHAR.finditer(simplified)
                if found.start() not in covered and _may_start_a_name(simplified, found.start()))
    return merged_windows(surnames, 3, 5, len(simplified))


def _full_names(simplified: str, covered: set[int]) -> Iterator[Candidate]:
    for window_start, window_end in _windows(simplified, covered):
        window = simplified[window_start:window_end]
        spans = segmenter.words(window)
        for position, (start, _) in enumerate(spans):
            absolute = window_start + start
            if absolute in covered or not (window[start] in SURNAMES
                                           or window[start:start + 2] in SURNAMES):
                continue
            cued = bool(_CUE_BEFORE.search(simplified[max(0, absolute - 6):absolute])
                        or _title_ahead(simplified, absolute))
            name_end = _name_end(window, spans, position, cued)
            if name_end is None:
                continue
            candidate = _judge(simplified, absolute, window_start + name_end)
            if candidate is not None:
                yield candidate


_CUE_THEN_SURNAME = re.compile(scanned_alternation(CUES) + r"\s*[:：]?\s*(?=[\u4e00-\u9fff])")


def _names_after_a_cue(simplified: str, covered: set[int]) -> Iterator[Candidate]:
    """A name right after a cue, where the segmenter glued the cue's last character to the
    surname (我爸王德福 is 我 + 爸王 + 德福 to jieba)."""
    for found in _CUE_THEN_SURNAME.finditer(simplified):
        start = found.end()
        surname_length = 2 if simplified[start:start + 2] in SURNAMES else 1
        if start in covered or simplified[start:start + surname_length] not in SURNAMES \
                or _glued_to_previous_word(simplified, start):  # 物业主任: 主任 is a word
            continue
        for length in (2, 1):
            candidate = _judge(simplified, start, start + surname_length + length)
            if candidate is not None:
                yield candidate
                break


def _name_end(window: str, spans: list[tuple[int, int]], position: int, cued: bool) -> int | None:
    """Where the name that starts with this word ends, or None if the word is not a name."""
    start, end = spans[position]
    word = window[start:end]
    following = [window[a:b] for a, b in spans[position + 1:position + 3]]
    if len(word) >= 3:
        new_word = segmenter.frequency(word) == 0  # a word jieba's HMM found: mostly names
        named = segmenter.tag(word).startswith("nr") and segmenter.frequency(word) <= 300
        if not (len(word) <= 4 and (new_word or named)):
            return None
        if new_word and not cued and _is_word(word[:2]):  # 车主 + 为: a word and what follows
            return None
        # A given name has two characters at most: the HMM glued the next word's first one
        # on (张志伟成 + 日 is 张志伟 + 成日).
        surname_length = 2 if word[:2] in SURNAMES else 1
        return min(end, start + surname_length + 2)
    if len(word) == 2 and word not in SURNAMES:
        return _end_after_two(word, end, following, cued)
    return _end_after_surname(word, end, following, cued)


def _end_after_two(word: str, end: int, following: list[str], cued: bool) -> int | None:
    """A surname and one more character (郑家, 吴国, 李家): unless a common word, the name may
    go on into the next word (郑家 + 豪成 → 郑家豪)."""
    named = segmenter.tag(word).startswith("nr")
    if not (named or cued or segmenter.frequency(word) < 200):  # 简易 + 化 is no name
        return None
    if following and _continues_a_name(following[0]):
        return end + 1
    if len(following) > 1 and len(following[0]) == 1 and following[1] in TITLES and \
            following[0] not in _NOT_IN_A_GIVEN_NAME:  # 许家 + 铭 + 先生
        return end + 1
    return end if named or cued or segmenter.frequency(word) == 0 else None


def _end_after_surname(word: str, end: int, following: list[str], cued: bool) -> int | None:
    """The surname alone (or a compound one, 欧阳): the given name is the next word (美玲) or
    the next one or two characters that the dictionary has no word for (何/家/俊)."""
    if not following:
        return None
    next_word = following[0]
    # A surname that is also a common word of its own (向, 于, 高) needs more than name-like
    # characters after it: 向 + 业主 is "to the owner".
    plain_surname = segmenter.frequency(word) < 20000 or segmenter.tag(word).startswith("nr")
    if len(next_word) == 2 and (segmenter.tag(next_word).startswith("nr") or cued
                                or segmenter.frequency(next_word) < 50
                                or (plain_surname and segmenter.frequency(next_word) < 1000
                                    and all(map(_continues_a_name, next_word)))):
        return end + 2  # 梁 + 美玲, 林 + 建平
    if len(next_word) == 1:
        if len(following) > 1 and len(following[1]) == 1 and _continues_a_name(following[1]):
            return end + 2
        return end + 1
    if len(next_word) >= 3 and cued:
        return end + 2
    return None


def _continues_a_name(word: str) -> bool:
    """The next word starts with a character of given names and is no common word itself."""
    char = word[:1]
    return (char not in _NOT_IN_A_GIVEN_NAME and segmenter.given_name_count(char) >= _NAMEISH
            and (len(word) == 1 or segmenter.frequency(word) < 50))


# Characters that end the names of places and bodies (林荫道, 区权会), hardly ever a given name.
_NOT_ENDING_A_GIVEN_NAME = set("道路街巷站厂厦楼会院馆")


# Surnames that are also measure words, and what comes before a measure word (a pronoun, a
# demonstrative, a number).
_MEASURE_WORDS = set("张包封项台支")
_BEFORE_A_MEASURE_WORD = set("我你佢他她它呢嗰这那哪一二两三四五六七八九十几每啲个整")


def _judge(simplified: str, start: int, end: int) -> Candidate | None:
    name = simplified[start:end]
    surname_length = 2 if name[:2] in SURNAMES else 1
    given = name[surname_length:]
    if not 1 <= len(given) <= 2 or any(char in _NOT_IN_A_GIVEN_NAME for char in given):
        return None
    if len(given) == 2 and given[-1] in _NOT_ENDING_A_GIVEN_NAME:
        return None
    if name[0] in _MEASURE_WORDS and simplified[start - 1:start] in _BEFORE_A_MEASURE_WORD:
        return None  # 出我张相, 呢张单, 一封信: a measure word, not a surname
    if name in PLACES or _LONG_PLACE.search(simplified, max(0, start - 2), end + 2):
        return None
    if _is_word(name, 5):
        return None
    if in_role(simplified, start, end):
        return None
    score = min(segmenter.given_name_count(char) for char in given)
    cued = bool(_CUE_BEFORE.search(simplified[max(0, start - 6):start])
                or _LONG_TITLE.match(simplified, end))
    if score < _RARE:  # a cue does not make 成日将 a name
        return None
    best = max(segmenter.given_name_count(char) for char in given)
    certain = cued or (len(given) == 2 and score >= 2 * _RARE and best >= _NAMEISH) or (
        len(given) == 1 and score >= 4 * _NAMEISH and segmenter.frequency(name) == 0
        and _ends_a_phrase(simplified, end))
    return start, end, "person", certain


def _ends_a_phrase(simplified: str, end: int) -> bool:
    """王五话 / 王五，: a two-character name is followed by speech, a particle or punctuation."""
    following = simplified[end:end + 1]
    return not following or following in set("话说讲同和及与在都也，。、；：！？,.;:!? )）(（")

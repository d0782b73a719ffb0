"""Street addresses in free text, in Hong Kong, Macau, Taiwan and mainland style (彌敦道123號,
台北市大安區忠孝東路四段100號5樓, 123 Nathan Road, Rua do Campo 23), and other flats of the
estate (13樓B室), which are only possibly personal: the resident decides.

A road's name alone (在彌敦道塞車) is not an address: a number must follow it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .matching import hinted

Candidate = tuple[int, int, str, bool]

_HAN = r"[\u4e00-\u9fff]"
_NUMBER = r"(?:[0-9]{1,5}|[〇零一二三四五六七八九十百]{1,6})"
_ROAD = (r"(?:大道|馬路|马路|道|路|街|巷|弄|里|徑|径|坊|圍|围|胡同|大街|巷道|廣場|广场|前地|斜巷|"
         r"圓形地|圆形地)")
_AREA = r"(?:省|市|縣|县|區|区|鎮|镇|鄉|乡|村|里|新界|九龍|九龙|香港|澳門|澳门|氹仔|路環|路环)"
_CHINESE_ADDRESS = re.compile(
    rf"(?:{_HAN}{{1,6}}?{_AREA}){{0,4}}"  # 广东省深圳市南山区, 新界沙田
    rf"{_HAN}{{1,8}}?{_ROAD}(?:{_HAN}{{1,2}}段)?"  # 科技园路, 忠孝東路, 青山公路荃灣段
    rf"(?:\s*{_NUMBER}\s*[段巷弄]){{0,3}}"  # 四段, 188巷5弄
    rf"\s*{_NUMBER}(?:\s*[-至及]\s*{_NUMBER})?\s*(?:號|号|番地)"  # 100號, 88-90号
    rf"(?:\s*之\s*{_NUMBER})?"  # 100號之3
    rf"(?:\s*{_HAN}{{0,10}}?(?:大廈|大厦|中心|花園|花园|廣場|广场|樓|楼|閣|阁|苑|邨|村|座|棟|栋))?"
    # 翠景花园 9 栋 2304
    rf"(?:\s*{_NUMBER}\s*(?:座|棟|栋|幢|號樓|号楼)(?:\s*[0-9]{{3,4}}(?![0-9年月日號号]))?)?"
    rf"(?:\s*{_NUMBER}\s*(?:樓|楼|層|层|F|/F)(?:\s*之\s*{_NUMBER})?)?"  # 7樓之1
    rf"(?:\s*[A-Za-z0-9]{{1,4}}\s*(?:室|房|號房))?"
)
# Words that end in 道 or 路 but are no road (知道, 一路, 報道): what comes before the number.
_NOT_ROADS = re.compile(r"(?:知道|报道|報道|频道|頻道|渠道|通道|走道|一路|沿路|马路边|馬路邊|"
                        r"管道|隧道|街道|道路|公路|網路|网路|线路|線路|电路|電路|门路|門路)$")

_ENGLISH_WORD = r"[A-Z][a-z]+(?:['’][a-z]+)?"
_ENGLISH_ROAD = (r"(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Path|Drive|Dr|Terrace|Crescent|"
                 r"Square|Boulevard|Blvd|Way|Court|Ct|Place|Pl|Circuit|Highway|Hill|Rise)")
_ENGLISH_ADDRESS = hinted(
    rf"(?<![A-Za-z0-9/])(?:No\.?\s*)?[0-9]{{1,5}}[A-Za-z]?(?:\s*[-–]\s*[0-9]{{1,5}})?,?\s+"
    rf"(?:{_ENGLISH_WORD}\s+){{1,4}}{_ENGLISH_ROAD}(?![A-Za-z])\.?"
    rf"(?:,?\s+(?:{_ENGLISH_WORD}\s?){{1,3}}(?=[,.\s]|$))?",
    "N0-9",
)
_PORTUGUESE_ADDRESS = hinted(
    r"(?<![A-Za-z])(?:Rua|Avenida|Av\.|Estrada|Travessa|Beco|Largo|Calçada|Praça|Alameda|Pátio|Rotunda)"
    r"\s+(?:d[aeo]s?\s+|de\s+)?(?:[A-ZÀ-Ý][\wÀ-ÿ]+\s+(?:d[aeo]s?\s+|de\s+|e\s+)?){0,4}?"
    r"[A-ZÀ-Ý][\wÀ-ÿ]+"
    r",?\s*(?:n\.?\s*[º°o]?\s*)?[0-9]{1,5}[A-Za-z]?(?![0-9])",
    "RAETBLCP",
)

# An estate and a block where someone lives (住喺屯門良景邨良仁樓1805室, 住在阳光小区3号楼,
# 住喺沙田第一城52座): only after a word for living there, as the estate's own blocks (第3座大堂)
# are places, not addresses.
_LIVES = (r"(?:(?:屋企|家)(?:喺|係|在)|住(?:喺|在|係|系|响|於|于|的是|嘅係|嘅)?"
          r"|搬(?:咗|了)?(?:去|到|入)|(?:地址|住址)\s*[:：係是为為]?)")
_ESTATE = (r"(?:新邨|新村|邨|村|苑|花園|花园|新城|城|山莊|山庄|豪庭|半島|半岛|廣場|广场|大廈|大厦|"
           r"小區|小区|家園|家园|社區|社区|坊|大樓|大楼)")
_BLOCK = (r"(?:第?\s*(?:[0-9]{1,3}|[一二三四五六七八九十]{1,3}|[A-Z])\s*"
          rf"(?:座|棟|栋|幢|期|號樓|号楼)|{_HAN}{{1,3}}?(?:樓|楼|閣|阁))")
_ESTATE_AND_BLOCK = (
    rf"{_HAN}{{1,10}}?{_ESTATE}\s*{_BLOCK}"
    rf"(?:\s*[0-9一二三四五六七八九十]{{1,2}}\s*(?:单元|單元))?"
    rf"(?:\s*(?:[0-9]{{1,2}}\s*(?:樓|楼|層|层|/F|F)\s*[A-Z0-9]{{0,2}}|[0-9]{{1,2}}[A-H]|[0-9]{{3,4}})"
    rf"\s*(?:室|房)?)?"
)
_ESTATE_ANCHOR = re.compile(rf"{_ESTATE}\s*{_BLOCK}")
_ESTATE_ADDRESSES = (re.compile(rf"{_LIVES}\s*(?P<address>{_ESTATE_AND_BLOCK})"),
                     re.compile(rf"(?:喺|在)\s*(?P<address>{_ESTATE_AND_BLOCK})(?=\s*(?:度)?住)"))
_ENGLISH_ESTATE = (r"(?:Estate|Court|Gardens?|City|Villas?|Mansions?|Building|House|Centre|Center|"
                   r"Plaza|Heights?|Park|Terrace|Towers?|Place|Lodge|Bay|Point|View|Square|Garden)")
_ENGLISH_ESTATE_STARTS = ("Flat", "Room", "Rm", "Unit", "Block", "Blk", "Tower")
# Flat 12B, Block 3, Laguna City; Block 2, Kornhill Gardens: a flat or block of a named estate.
_ENGLISH_ESTATE_ADDRESS = hinted(
    r"(?<![A-Za-z])(?:(?:Flat|Room|Rm|Unit)\.?\s*[A-Z0-9]{1,5}\s*,\s*(?:[0-9]{1,2}/F\s*,\s*)?"
    r"(?:(?:Block|Blk|Tower|Phase)\s*[A-Z0-9]{1,3}\s*,\s*)?|(?:Block|Blk|Tower)\s*[A-Z0-9]{1,3}\s*,\s*)"
    rf"(?:{_ENGLISH_WORD}\s+){{1,3}}{_ENGLISH_ESTATE}(?![A-Za-z])",
    "FRUBT",
)

# Another flat: a floor and a flat letter or number (13樓B室, 13B, Flat C, 20/F Flat B, 7樓之3,
# Room 702, 12 andar D).
_OTHER_FLAT = hinted(
    r"(?<![0-9A-Za-z])(?:(?:第\s*)?[0-9A-Za-z]{1,2}\s*(?:[座棟栋幢]|号楼|號樓)\s*)?"
    r"(?:[0-9]{1,2}\s*(?:樓|楼|/F|F)\s*(?:[A-H](?:\s*室)?|[I-Z]\s*室)"
    r"|[0-9]{1,2}\s*(?:樓|楼|F)\s*之\s*[0-9]{1,2}"
    r"|[0-9]{1,2}[A-H]\s*室|[0-9]{3,4}\s*室|[0-9]{1,2}\s*(?:单元|單元)\s*[0-9]{3,4}(?:\s*室)?"
    r"|(?:Flat\s+[A-H0-9]{1,2},?\s*[0-9]{1,2}/F|[0-9]{1,2}/F,?\s*Flat\s+[A-H0-9]{1,2})"
    r"(?:,?\s*(?:Block|Blk|Tower)\s*[A-Z0-9]{1,2})?"
    r"|(?:Room|Rm)\.?\s*[0-9]{3,4}|[0-9]{1,2}\s*[º°]?\s*andar\s+[A-Z])"
    r"(?![0-9A-Za-z座棟栋])",
    "第0-9A-Za-z", re.IGNORECASE,
)
# A block and a floor, which is a home only after a word for living there (住喺2座12樓).
_BLOCK_AND_FLOOR = hinted(
    r"(?<![0-9A-Za-z])(?:第\s*)?[0-9A-Za-z]{1,2}\s*(?:[座棟栋幢]|号楼|號樓)\s*[0-9]{1,2}\s*"
    r"(?:樓|楼|/F|F)(?![0-9A-Za-z])",
    "第0-9A-Za-z",
)
# Someone lives in the flat that follows: then it is an address, not just a place.
_LIVES_BEFORE = re.compile(
    rf"(?:{_LIVES}|(?<![A-Za-z])(?:address|lives?\s+(?:at|in)|living\s+(?:at|in)"
    r"|resides?\s+(?:at|in)|(?:vive|mora|reside)\s+(?:no|na|em))\s*[:：]?)\s*$",
    re.IGNORECASE,
)
# ... or the flat is followed by its household (6樓J室嗰戶, 1602业主, 13樓之1的住戶).
_HOUSEHOLD_AFTER = re.compile(r"\s*(?:嘅|的)?\s*(?:住戶|住户|業主|业主|租客|租戶|租户|戶主|户主|"
                              r"嗰戶|嗰户|嗰家|那戶|那户|那家|這戶|这户|人家"
                              r"|,?\s+(?:is|was|are)\s+(?:owned|rented|occupied|let)\s+(?:by|to))")
# A flat named by where it is from the resident's own (樓上13樓B室, the flat below, 20A), or
# as a neighbour's, is another household's home, and tells the office where the resident lives:
# it is hidden, and a short one (16C, B座2203, 8栋1201) is read as a flat after such a word.
_RELATIVE = (r"(?:樓上|樓下|楼上|楼下|隔壁|隔籬|隔篱|隔離|對面|对面|對門|对门|同層|同层|上一層|"
             r"上一层|下一層|下一层|鄰居|邻居|鄰座|邻座|街坊|(?<![A-Za-z])(?:upstairs|downstairs|"
             r"above|below|next[\s-]*door|opposite|neighbou?rs?(?:'s)?)(?![A-Za-z]))")
_RELATIVE_BEFORE = re.compile(
    rf"{_RELATIVE}(?:[\s,，:：(（]|的|嘅|那|嗰|個|个|間|间|戶|户|單位|单位|(?<![A-Za-z])(?:flat|unit|"
    r"is|at|in|of|from|lives?|living)(?![A-Za-z]))*$", re.IGNORECASE)
_SHORT_FLAT = (r"(?:(?:Flat|Unit|Rm|Room)\.?\s*)?(?:[0-9]{1,2}[A-H]|[A-Z]座\s*[0-9]{3,4}"
               r"|[0-9]{1,2}\s*[栋棟幢座]\s*[0-9]{3,4})(?![0-9A-Za-z])")
_RELATIVE_FINDER = hinted(_RELATIVE, "樓楼隔對对同上下鄰邻街A-Za-z", re.IGNORECASE)
_SHORT_FLAT_AFTER = re.compile(
    # my neighbour Mrs Chan in 3C: a name, then in, at, of or from
    r"(?:(?:\s+(?:Mr|Mrs|Ms|Miss|Mdm|Dr|Auntie|Uncle)\.?)?(?:\s+[A-Za-z][A-Za-z'-]+){1,3}?"
    r"\s+(?:in|at|of|from)\s+)?"
    r"(?:[\s,，:：(（]|的|嘅|那|嗰|個|个|間|间|(?<![A-Za-z])(?:flat|unit|is|at|in|of|from)(?![A-Za-z]))*"
    rf"(?P<flat>{_SHORT_FLAT})", re.IGNORECASE)
_HOUSEHOLD_WORDS = ("couple", "family", "man", "woman", "lady", "guy", "people", "tenant",
                    "tenants", "owner", "owners", "resident", "residents", "kid", "kids", "boy",
                    "girl", "helper", "auntie", "uncle")
_PERSON_FROM_FLAT = hinted(
    rf"(?<![A-Za-z])(?P<who>[A-Z][a-z]+|{'|'.join(_HOUSEHOLD_WORDS)})\s+(?:in|from|of|at)\s+"
    rf"(?:Flat\s+)?(?P<flat>{_SHORT_FLAT})", "A-Za-z")
# Capitalised words that are places, not people (Lift 3A, Gate in 2B).
_NOT_PEOPLE = frozenset(("lift", "gate", "block", "tower", "room", "flat", "unit", "floor", "car",
                         "bus", "door", "shop", "level", "zone", "area", "bay", "lobby", "the",
                         "water", "noise", "smoke", "leak", "light", "lights", "parking", "space",
                         "it", "this", "that"))
_PRONOUNS = frozenset(("someone", "somebody", "everyone", "anyone", "nobody", "they", "he", "she",
                       "we", "i", "people"))
# A room number alone is a flat only with a neighbour or household word next to it.
_NEIGHBOURS_ROOM = hinted(
    r"(?:樓上|樓下|楼上|楼下|隔壁|隔籬|隔篱|隔離|對面|对面|對門|对门)(?:嘅|的|那|嗰)?\s*"
    r"(?P<room>[0-9]{3,4})(?![0-9A-Za-z])",
    "樓楼隔對对",
)
_ROOM_OF_A_HOUSEHOLD = hinted(
    r"(?<![0-9A-Za-z\-/:.共約约有逾近達达過过])(?P<room>[0-9]{3,4})(?=\s*(?:嘅|的)?\s*(?:住戶|住户|業主|业主|租客|"
    r"租戶|租户|嗰戶|嗰户|那戶|那户))",
    "0-9",
)


# Words the leading run of characters swallows that belong to the sentence, not the address.
_LEADING = set("我你佢他她住在喺於于到去係系是的址為为:：位處处搬番返近由從从屋企寄")
# Words of a sentence that no place name before its first 市, 區 or road holds.
_SENTENCE_WORDS = set("住在喺於于是係的咗了去到")


# Where a Chinese address may end: a road, a number and 號. The full expression, slow to try at
# every character, runs only on the stretch before each of these.
_ROAD_AND_NUMBER = re.compile(
    rf"{_ROAD}(?:{_HAN}{{1,2}}段)?(?:\s*{_NUMBER}\s*[段巷弄]){{0,3}}\s*{_NUMBER}(?:\s*[-至及]\s*{_NUMBER})?\s*"
    r"(?:號|号|番地)"
)
_REACH = 40  # characters before the road that an address's areas and road name may take


def find_addresses(matching: str) -> Iterator[Candidate]:
    searched_to = 0
    for anchor in _ROAD_AND_NUMBER.finditer(matching):
        window_start = max(searched_to, anchor.start() - _REACH)
        for found in _CHINESE_ADDRESS.finditer(matching, window_start, min(len(matching),
                                                                            anchor.end() + 40)):
            if found.end() < anchor.end() or _road_end(found.group()) is None:
                continue
            yield _address_start(matching, found.start(), found.end()), found.end(), "address", True
            searched_to = found.end()
            break
    # The full expressions only around an estate and a block, which few texts have.
    for anchor in _ESTATE_ANCHOR.finditer(matching):
        window = max(0, anchor.start() - 18), min(len(matching), anchor.end() + 24)
        for pattern in _ESTATE_ADDRESSES:
            for found in pattern.finditer(matching, *window):
                yield found.start("address"), found.end("address"), "address", True
    english_estate = any(word in matching for word in _ENGLISH_ESTATE_STARTS)
    for pattern in (_ENGLISH_ADDRESS, _PORTUGUESE_ADDRESS,
                    *((_ENGLISH_ESTATE_ADDRESS,) if english_estate else ())):
        for found in pattern.finditer(matching):
            yield found.start(), found.end(), "address", True


def _address_start(matching: str, start: int, end: int) -> int:
    """Where the address begins: after the words of the sentence that its leading run of
    characters swallowed (住在新北市: 新北市; 好像是住在新北市: 新北市 too)."""
    head = matching[start:end]
    first = re.search(_AREA, head) or re.search(_ROAD, head)
    last = max((index for index, char in enumerate(head[:first.start() if first else 0])
                if char in _SENTENCE_WORDS), default=-1)
    start += last + 1
    while start < end and matching[start] in _LEADING:
        start += 1
    return start


def _road_end(address: str) -> int | None:
    """Where the road's name ends, or None when it is a word like 知道 and no road."""
    found = re.search(rf"{_ROAD}(?=[\s0-9〇零一二三四五六七八九十百]|{_HAN}{{1,2}}段)", address)
    if found is None:
        return None
    if _NOT_ROADS.search(address[:found.end()]) and not re.match(rf"{_HAN}{{1,2}}段",
                                                                 address[found.end():]):
        return None  # 公路 is no road's name, but 青山公路荃灣段 is one
    return found.end()


def find_other_flats(matching: str) -> Iterator[Candidate]:
    for found in _OTHER_FLAT.finditer(matching):
        if _lived_in(matching, *found.span()) or _named_from_here(matching, found.start()):
            yield found.start(), found.end(), "address", True
        else:
            yield found.start(), found.end(), "unit", False
    yield from _short_flats_of_people(matching)
    for found in _BLOCK_AND_FLOOR.finditer(matching):
        if _LIVES_BEFORE.search(matching, max(0, found.start() - 12), found.start()):
            yield found.start(), found.end(), "address", True
    for found in _NEIGHBOURS_ROOM.finditer(matching):
        yield found.start("room"), found.end("room"), "unit", False
    for found in _ROOM_OF_A_HOUSEHOLD.finditer(matching):
        yield found.start("room"), found.end("room"), "address", True


def _short_flats_of_people(matching: str) -> Iterator[Candidate]:
    """Short flats (16C, B座2203) after a word that says a household lives there: 樓上 16C,
    my neighbour Mrs Chan in 12C, Bashir from 27B, the couple in 19C."""
    for cue in _RELATIVE_FINDER.finditer(matching):
        after = _SHORT_FLAT_AFTER.match(matching, cue.end())
        if after:
            yield after.start("flat"), after.end("flat"), "address", True
    for found in _PERSON_FROM_FLAT.finditer(matching):
        who = found.group("who")
        if who.lower() in _NOT_PEOPLE:
            continue
        yield found.start("flat"), found.end("flat"), "address", True
        if who[0].isupper() and who.lower() not in (*_HOUSEHOLD_WORDS, *_PRONOUNS):  # Bashir
            yield found.start("who"), found.end("who"), "person", True


def _named_from_here(matching: str, start: int) -> bool:
    return bool(_RELATIVE_BEFORE.search(matching, max(0, start - 24), start))


def _lived_in(matching: str, start: int, end: int) -> bool:
    return bool(_LIVES_BEFORE.search(matching, max(0, start - 24), start)
                or _HOUSEHOLD_AFTER.match(matching, end))

"""Chinese surnames and their official romanisations in Hong Kong and Macau.

The Immigration Department (HK) and the Identification Services Bureau (MO) each spell a
surname their own way (陳 Chan in both, 張 Cheung / Cheong, 劉 Lau / Lao). Given names are
romanised syllable by syllable (romanisation.py); surnames come from this table, because their
official spellings are older than any rule (李 Lee, 羅 Law, 胡 Wu).

Each line: the Traditional surname, its Hong Kong spellings, then its Macau spellings (a
compound surname's spellings are separated by commas).
"""

from __future__ import annotations

import opencc

_TABLE = """
陳 Chan | Chan
黃 Wong | Wong
張 Cheung | Cheong
李 Lee Li Lei | Lei
梁 Leung | Leong
劉 Lau | Lao
吳 Ng | Ng
鄭 Cheng Chang | Cheang
何 Ho | Ho
周 Chow Chau | Chao
蔡 Choi Tsoi | Choi
林 Lam | Lam
郭 Kwok | Kuok
麥 Mak | Mak
許 Hui | Hoi
謝 Tse | Che
盧 Lo Lou | Lou
譚 Tam | Tam
馮 Fung | Fong
袁 Yuen | Un
余 Yu Yue | U
葉 Yip Ip | Ip
鄧 Tang | Tang
楊 Yeung Yang | Ieong
曾 Tsang | Chang
區 Au | Ao
朱 Chu Chue | Chu
潘 Poon Pun | Pun
羅 Law Lo | Lo
蘇 So | Sou
鍾 Chung | Chong
鐘 Chung | Chong
霍 Fok | Fok
杜 To | Tou
黎 Lai | Lai
姚 Yiu | Io
趙 Chiu | Chio
高 Ko Kou | Kou
容 Yung | Iong
甘 Kam | Kam
關 Kwan | Kuan
湯 Tong | Tong
侯 Hau | Hao
徐 Tsui Chui | Chui
崔 Tsui Chui | Choi
龍 Lung | Long
莫 Mok | Mok
文 Man | Man
胡 Wu Woo | Wu
王 Wong | Vong
方 Fong | Fong
孔 Hung | Hong
賴 Lai | Lai
韋 Wai | Wai Vai
阮 Yuen | Un
嚴 Yim | Im
沈 Shum Sham | Sam
蕭 Siu | Sio
梅 Mui | Mui
溫 Wan | Wan Van
陸 Luk | Lok
邱 Yau | Iao
丘 Yau | Iao
簡 Kan | Kan
江 Kong | Kong
洪 Hung | Hong
范 Fan | Fan
唐 Tong | Tong
廖 Liu | Lio
伍 Ng | Ng
冼 Sin | Sin
戴 Tai | Tai
顏 Ngan | Ngan
鄺 Kwong | Kuong
馬 Ma | Ma
彭 Pang | Pang
石 Shek | Sek
施 Sze | Si
史 Sze | Si
岑 Shum Sham | Sam
邵 Shiu | Sio
成 Shing | Seng
孫 Suen | Sun
宋 Sung | Song
翁 Yung | Iong
丁 Ting | Teng
程 Ching | Cheng
田 Tin | Tin
錢 Chin | Chin
秦 Chun | Chon
蔣 Cheung | Cheong
章 Cheung | Cheong
鮑 Pau | Pau
包 Pau | Pau
白 Pak | Pak
傅 Fu | Fu
符 Fu | Fu
雷 Lui | Lui Loi
呂 Lui | Lui Loi
駱 Lok | Lok
熊 Hung | Hong
夏 Ha | Ha
向 Heung | Heong
康 Hong | Hong
毛 Mo | Mou
聶 Nip | Nip
倪 Ngai | Ngai
魏 Ngai | Ngai
游 Yau | Iao
尤 Yau | Iao
任 Yam | Iam
甄 Yan | Ian
殷 Yan | Ian
尹 Wan | Wan Van
董 Tung | Tong
鄒 Chau | Chao
卓 Cheuk | Cheok
祝 Chuk | Chok
車 Che | Che
齊 Chai | Chai
屈 Wat | Vat
萬 Man | Man
古 Ku | Ku
葛 Kot | Kot
勞 Lo | Lou
招 Chiu | Chio
焦 Chiu | Chio
饒 Yiu | Io
戚 Chik | Chek
植 Chik | Chek
翟 Chak | Chak
巫 Mo | Mou
苗 Miu | Mio
柯 Or Kwo | O
易 Yik | Iek
單 Sin Shin | Sin
樊 Fan | Fan
盛 Shing | Seng
凌 Ling | Leng
華 Wah Wa | Va
金 Kam | Kam
于 Yu | U
韓 Hon | Hon
姜 Keung | Keong
俞 Yu | U
魯 Lo | Lou
汪 Wong | Vong
孟 Mang | Mang
賈 Ka | Ka
薛 Sit | Sit
段 Tuen | Tun
龔 Kung | Kong
邢 Ying | Ieng
喬 Kiu | Kio
覃 Tam | Tam
閻 Yim | Im
利 Lee | Lei
衛 Wai | Wai Vai
連 Lin | Lin
歐 Au | Ao
曹 Tso Cho | Chou
莊 Chong | Chong
詹 Chim | Chim
顧 Koo Ku | Ku
賀 Ho | Ho
郝 Kok | Kok
龐 Pong | Pong
藍 Lam | Lam
柳 Lau | Lao
湛 Cham | Cham
禤 Huen | Hun
岳 Ngok | Ngok
鄔 Wu | Wu
費 Fai | Fai
談 Tam | Tam
紀 Kei | Kei
童 Tung | Tong
蒙 Mung | Mong
上官 Sheung Kwun | Seong Kun
司徒 Szeto, Sze To | Si Tou
歐陽 Au Yeung, Auyeung | Ao Ieong
諸葛 Chu Kot | Chu Kot
司馬 Sze Ma | Si Ma
東方 Tung Fong | Tong Fong
慕容 Mo Yung | Mou Iong
""".strip()


def _read(table: str) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    spellings = {}
    for line in table.splitlines():
        surname, rest = line.split(" ", 1)
        sides = rest.split("|")
        if len(surname) == 2:
            hong_kong, macau = ([word.strip() for word in side.split(",")] for side in sides)
        else:
            hong_kong, macau = (side.split() for side in sides)
        spellings[surname] = (tuple(hong_kong), tuple(macau))
    return spellings


OFFICIAL_SPELLINGS = _read(_TABLE)
COMPOUND_SURNAMES = tuple(surname for surname in OFFICIAL_SPELLINGS if len(surname) == 2)

_TO_SIMPLIFIED = opencc.OpenCC("t2s")
# Both scripts, for matching text of either: 陳 and 陈, 歐陽 and 欧阳.
SIMPLIFIED_SURNAMES = frozenset(_TO_SIMPLIFIED.convert(name) for name in OFFICIAL_SPELLINGS)
SURNAMES = frozenset(OFFICIAL_SPELLINGS) | SIMPLIFIED_SURNAMES

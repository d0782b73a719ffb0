"""Messaging and social media handles after a cue (微信, WeChat, QQ, LINE, WhatsApp, IG,
Telegram ...), @handles, and web addresses whose path or query carries a name or a handle
(facebook.com/chan.taiman, ?user=...). Other web addresses (a government page) are kept."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .matching import hinted, scanned_alternation

Candidate = tuple[int, int, str, bool]

_PLATFORMS = (
    r"微信號?", "微信号", "微信", r"WeChat(?:\s*ID)?", "Weixin", "WX", "wx", "Wx",
    "VX", "vx", "V信", r"QQ號?", "QQ号", "QQ",
    r"LINE(?:\s*ID)?", r"Line\s*ID", "WhatsApp", "Whatsapp", "whatsapp", "IG", "Instagram",
    "instagram", "Telegram", "telegram", "TG", "Facebook", "facebook", "FB", "臉書", "脸书",
    "面書", "面书", "Twitter", "twitter", "Threads", "小紅書", "小红书", "抖音", "Douyin",
    "TikTok", "Tiktok", "微博", "Weibo", "Signal", "Skype", "Discord", "Snapchat", "YouTube",
    "Youtube", "Xiaohongshu", "RED",
)
_HANDLE_AFTER_CUE = re.compile(
    scanned_alternation(_PLATFORMS)
    + r"\s*[（(]?\s*(?:帳號|账号|帳戶|账户|戶口|户口|名稱|名称|ID|id|用戶名|用户名|"
    r"username|handle|account|號碼|号码|號|号)?\s*(?:是|係|系|為|为|:|：|is|=|-|搵|加|search)?\s*"
    r"(?P<handle>@?[A-Za-z0-9_][A-Za-z0-9._\-]{2,31})(?![A-Za-z0-9@])"
)
_AT_HANDLE = hinted(r"(?<![A-Za-z0-9._%+\-@])@(?P<handle>[A-Za-z_][A-Za-z0-9_.]{2,29})"
                    r"(?![A-Za-z0-9@])(?!\.[A-Za-z]{2,}(?![A-Za-z]))", "@")
_COMMON_WORDS = frozenset((
    "group", "chat", "call", "video", "message", "me", "him", "her", "them", "us", "you",
    "the", "and", "or", "to", "please", "id", "account", "number",
))


def find_handles(matching: str) -> Iterator[Candidate]:
    for found in _HANDLE_AFTER_CUE.finditer(matching):
        handle = found.group("handle").lstrip("@")
        if handle.lower() in _COMMON_WORDS or re.match(r"[A-Za-z0-9\-]", matching[
                found.start() - 1:found.start()]) and matching[found.start()].isascii():
            continue  # FB inside a model number (美的 MB-FB40S701) names no platform
        # A WeChat ID has 6 to 20 characters; anything shorter needs a digit or a mark.
        if len(handle) >= 5 or re.search(r"[0-9_.\-]", handle):
            yield found.start("handle"), found.end("handle"), "handle", True
    for found in _AT_HANDLE.finditer(matching):
        yield found.start(), found.end(), "handle", True


_URL = hinted(
    r"(?:https?://|www\.)[^\s<>\"'，。、（）「」]+"
    r"|(?<![A-Za-z0-9@.\-])[A-Za-z0-9][A-Za-z0-9.\-]*\.(?:com|me|net|cn|am|link|ee)/"
    r"[^\s<>\"'，。、（）「」]+",
    "A-Za-z0-9", re.IGNORECASE,
)
_PERSONAL_HOSTS = re.compile(
    r"(?:^|\.)(?:facebook|fb|instagram|instagr|wa|t|line|weibo|twitter|x|tiktok|youtube|"
    r"linkedin|xiaohongshu|xhslink|douyin|threads|wechat|qq|linktr|github|medium|blogspot|"
    r"wordpress|patreon|onlyfans|telegram)\.[a-z.]+$",
    re.IGNORECASE,
)
_PERSONAL_QUERY = re.compile(
    r"[?&#](?:user(?:name)?|name|uid|u|profile|email|mail|phone|tel|mobile|account|handle|"
    r"member|owner|resident)=",
    re.IGNORECASE,
)


_MAYBE_URL = hinted(r"https?://|www\.|\.(?:com|me|net|cn|am|link|ee)/", "hHwW.", re.IGNORECASE)


def find_urls(matching: str) -> Iterator[Candidate]:
    if not _MAYBE_URL.search(matching):
        return
    for found in _URL.finditer(matching):
        url = found.group().rstrip(".,;:!?)]}")
        host_and_path = re.sub(r"^(?:https?://)?", "", url, flags=re.IGNORECASE)
        host, _, path = host_and_path.partition("/")
        personal_host = _PERSONAL_HOSTS.search(host) and path.strip("/")
        if personal_host or _PERSONAL_QUERY.search(url) or "/~" in url or "/@" in url:
            yield found.start(), found.start() + len(url), "url", True

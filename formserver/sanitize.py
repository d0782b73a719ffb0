"""Turn what a resident typed into plain text. The only module that imports bleach."""

from __future__ import annotations

import html
import re
import unicodedata

import bleach

# Control characters, and the invisible ones that reorder or hide text (bidi overrides,
# zero-width characters) in a way a reader cannot see.
CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2028\u2029"
    r"\u2060-\u2064\u2066-\u2069\ufeff]"
)
SPACES = re.compile(r"\s+")
# The elements of HTML, SVG and MathML a browser would act on. Only these, and closed comments,
# are markup to strip: anything else after a "<" is the resident's own text (an address in
# <chan@example.com>, "<100 元", an unclosed "<!--"), kept as typed; templates escape it.
ELEMENTS = frozenset([
    "a", "abbr", "address", "applet", "area", "article", "aside", "audio", "b", "base", "basefont",
    "bdi", "bdo", "bgsound", "big", "blink", "blockquote", "body", "br", "button", "canvas",
    "caption", "center", "cite", "code", "col", "colgroup", "data", "datalist", "dd", "del",
    "details", "dfn", "dialog", "dir", "div", "dl", "dt", "em", "embed", "fieldset", "figcaption",
    "figure", "font", "footer", "form", "frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6",
    "head", "header", "hgroup", "hr", "html", "i", "iframe", "image", "img", "input", "ins",
    "isindex", "kbd", "keygen", "label", "legend", "li", "link", "listing", "main", "map", "mark",
    "marquee", "math", "menu", "meta", "meter", "nav", "nobr", "noembed", "noframes", "noscript",
    "object", "ol", "optgroup", "option", "output", "p", "param", "picture", "plaintext", "portal",
    "pre", "progress", "q", "rp", "rt", "ruby", "s", "samp", "script", "search", "section",
    "select", "slot", "small", "source", "span", "strike", "strong", "style", "sub", "summary",
    "sup", "svg", "table", "tbody", "td", "template", "textarea", "tfoot", "th", "thead", "time",
    "title", "tr", "track", "tt", "u", "ul", "var", "video", "wbr", "xmp", "animate",
    "foreignobject", "set", "use"
])
MARKUP = re.compile(r"<!--.*?-->|</?([A-Za-z][A-Za-z0-9]*)(?=[\s/>])", re.S)


def plain_text(value: str | None) -> str:
    """Strip markup and control characters; keep line breaks and the characters themselves."""
    if not value:
        return ""
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    value = CONTROL.sub("", value)
    # Without a "<" there is no markup to strip (and html5lib is slow). Markup hidden inside
    # markup (<scr<script>ipt>) shows only once the outer one is gone: strip again.
    for _ in range(3):
        if "<" not in value:
            break
        # bleach escapes what it keeps (& becomes &amp;); unescape: templates escape on output.
        stripped = html.unescape(bleach.clean(text_outside_markup(value), tags=set(),
                                              strip=True, strip_comments=True))
        if stripped == value:
            break
        value = stripped
    return "\n".join(line.rstrip() for line in value.strip().split("\n"))


def text_outside_markup(value: str) -> str:
    """The value with every "<" that does not open markup written as &lt;, so that bleach reads
    it as text (and & as &amp;, which the unescape after bleach undoes)."""
    pieces, last = [], 0
    for match in MARKUP.finditer(value):
        if match[1] is not None and match[1].lower() not in ELEMENTS:
            continue
        pieces += [as_text(value[last:match.start()]), match[0]]
        last = match.end()
    pieces.append(as_text(value[last:]))
    return "".join(pieces)


def as_text(piece: str) -> str:
    return piece.replace("&", "&amp;").replace("<", "&lt;")


def one_line(value: str | None) -> str:
    """Plain text on one line: safe for a mail header or a subject."""
    return SPACES.sub(" ", plain_text(value)).strip()

"""The floor: the least a single Python process can do to turn content/ into HTML.

    python bench/floor.py CONTENT OUT

Read each page, drop its front matter, markdown.markdown() it, put it through one trivial
Jinja2 template and write it to OUT/<path>/index.html. No navigation, no link checking, no
second edition, one process.
"""

import sys
from pathlib import Path

import markdown
from jinja2 import Template

TEMPLATE = Template("<!doctype html>\n<html lang=\"zh-Hant\"><head><meta charset=\"utf-8\">"
                    "<title>{{ title }}</title></head>\n<body>{{ body }}</body></html>\n")


def main(content: Path, out: Path) -> None:
    for path in sorted(content.rglob("*.md")):
        text = path.read_text("utf-8")
        _, front, body = text.split("---\n", 2)
        title = front.split("title: ", 1)[1].split("\n", 1)[0]
        html = TEMPLATE.render(title=title, body=markdown.markdown(body))
        target = out / path.relative_to(content).with_suffix("") / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, "utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

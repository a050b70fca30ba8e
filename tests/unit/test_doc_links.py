"""Every relative link of the README and of docs/*.md reaches a file of the checkout, and a
link to a heading of a markdown file reaches a heading that is there."""

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from s3_connector.sdk.field_table import heading_anchor

ROOT = Path(__file__).parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^(```|~~~)")


def prose(text: str) -> str:
    """`text` without fenced code blocks and inline code, where brackets are not links."""
    kept, in_code = [], False
    for line in text.split("\n"):
        if _FENCE.match(line.lstrip()):
            in_code = not in_code
            continue
        if not in_code:
            kept.append(re.sub(r"`[^`]*`", "", line))
    return "\n".join(kept)


def anchors(path: Path) -> set[str]:
    """The anchors GitHub makes for the headings of `path` (a repeated heading gets -1, -2...)."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    in_code = False
    for line in path.read_text(encoding="utf-8").split("\n"):
        if _FENCE.match(line.lstrip()):
            in_code = not in_code
            continue
        match = not in_code and re.match(r"^#{1,6} (.+?)\s*$", line)
        if match:
            base = heading_anchor(match.group(1))
            count = counts.get(base, 0)
            counts[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> list[str]:
    return [
        target
        for target in _LINK.findall(prose(path.read_text(encoding="utf-8")))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto:
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_relative_links_reach_a_file_and_a_heading(page):
    broken = []
    for target in links(page):
        file_part, _, anchor = target.partition("#")
        destination = (page.parent / unquote(file_part)).resolve() if file_part else page
        if not destination.exists():
            broken.append(f"{target}: no file {destination}")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading #{anchor} in {destination.name}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_pages_have_links_to_check():
    assert len(links(ROOT / "README.md")) > 20
    assert all(link.startswith(("docs/", "#")) for link in links(ROOT / "README.md"))

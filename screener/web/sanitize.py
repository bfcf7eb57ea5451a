"""Showing a held message safely.

`email_html()` makes an email's HTML safe to show on the friend's page in two
passes:

1. nh3 (ammonia) keeps only a small set of text and table tags with a few
   plain attributes: no scripts, event handlers, forms, frames, SVG, MathML,
   meta/base/link, style elements or attributes (so no CSS `url()` or
   `@import`), no ids or classes.
2. A re-serialiser over nh3's output turns every link into its text followed by
   the address printed as text (nothing to click, nothing prefetched), and
   keeps an image only when it is the message's own bytes (a `data:` raster
   image, or a `cid:` part of the same message turned into one). Every other
   image (remote images, tracking pixels) becomes a visible "[remote image
   blocked]" note naming the host it would have told.

The page's Content-Security-Policy (`img-src 'self' data:`, no scripts) is a
second, independent fence; the browser tests check the first one with that
policy switched off.

`highlight()` escapes plain text and marks the phrases a tactic reason quoted.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import nh3
from markupsafe import Markup, escape

TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div", "dl", "dt", "em",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s",
        "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul"}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height", "title"},
              "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}, "abbr": {"title"}}
DROP_WITH_CONTENT = {"script", "style", "svg", "math", "iframe", "object", "embed", "noscript", "template",
                     "title", "textarea", "select", "button", "frameset", "noembed", "noframes", "xmp"}
URL_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}
VOID = {"br", "hr", "img"}
_DATA_IMAGE = re.compile(r"^data:image/(png|gif|jpeg|webp);base64,[A-Za-z0-9+/=\s]+$", re.IGNORECASE)
_SIZE = re.compile(r"^\d{1,4}%?$")


def email_html(markup: str, images: dict[str, str] | None = None) -> Markup:
    """Sanitised HTML for the page: nothing runs, nothing is fetched, links are text."""
    cleaned = nh3.clean(markup, tags=TAGS, clean_content_tags=DROP_WITH_CONTENT, attributes=ATTRIBUTES,
                        strip_comments=True, link_rel=None, url_schemes=URL_SCHEMES)
    writer = _Rewriter(images or {})
    writer.feed(cleaned)
    writer.close()
    return Markup(writer.result())


class _Rewriter(HTMLParser):
    def __init__(self, images: dict[str, str]):
        super().__init__(convert_charrefs=True)
        self.images = images
        self.out: list[str] = []
        self.stack: list[tuple[str, str | None]] = []   # (tag as written, url to print after a link)
        self.blocked = 0

    def result(self) -> str:
        while self.stack:
            self._close()
        return "".join(self.out)

    def handle_starttag(self, tag, attrs):
        tag = tag.lower()
        if tag not in TAGS:
            return
        allowed = ATTRIBUTES.get(tag, set())
        attrs = {k.lower(): (v or "") for k, v in attrs if k.lower() in allowed}
        if tag == "img":
            self._image(attrs)
            return
        if tag == "a":
            self.out.append('<span class="link">')
            self.stack.append(("span", attrs.get("href", "").strip() or None))
            return
        if tag in ("td", "th"):
            attrs = {k: v for k, v in attrs.items() if v.isdigit() and len(v) <= 3}
        self.out.append(f"<{tag}{_attrs(attrs)}>")
        if tag not in VOID:
            self.stack.append((tag, None))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag.lower() not in VOID and self.stack and self.stack[-1][0] == tag.lower():
            self._close()

    def handle_endtag(self, tag):
        tag = "span" if tag.lower() == "a" else tag.lower()
        if tag in VOID or not any(t == tag for t, _ in self.stack):
            return
        while self.stack:
            closed = self._close()
            if closed == tag:
                break

    def _close(self) -> str:
        tag, url = self.stack.pop()
        self.out.append(f"</{tag}>")
        if url:
            self.out.append(f' <span class="url">&lt;{html.escape(url, quote=True)}&gt;</span>')
        return tag

    def handle_data(self, data):
        self.out.append(html.escape(data, quote=False))

    def _image(self, attrs: dict[str, str]) -> None:
        src = attrs.get("src", "").strip()
        if src.lower().startswith("cid:"):
            src = self.images.get(src[4:].strip().strip("<>"), "")
        alt = attrs.get("alt", "")
        if src and _DATA_IMAGE.match(src):
            keep = {"src": src, "alt": alt}
            keep.update({k: attrs[k] for k in ("width", "height") if _SIZE.match(attrs.get(k, ""))})
            self.out.append(f"<img{_attrs(keep)}>")
            return
        self.blocked += 1
        try:
            host = urlsplit(src).hostname or ""
        except ValueError:
            host = ""
        what = f"remote image from {host} blocked" if host else "image blocked"
        label = f"[{what}{': ' + alt if alt else ''}]"
        self.out.append(f'<span class="blocked">{html.escape(label, quote=False)}</span>')


def _attrs(attrs: dict[str, str]) -> str:
    return "".join(f' {k}="{html.escape(v, quote=True)}"' for k, v in attrs.items())


# -- plain text -------------------------------------------------------------------------

_QUOTED = re.compile(r"'(.+?)'(?=\s*(?:,|;|$))")
# Single function words a tactic explanation may quote; marking every "you" helps nobody.
_FUNCTION_WORDS = set("""a an and any are as at be but by did do for i if in is it me my of on or our so that the
this to us was we were with you your yours even just all one not no""".split())


def _worth_marking(phrase: str) -> bool:
    words = phrase.split()
    if len(words) > 1:
        return not all(w.lower() in _FUNCTION_WORDS for w in words)
    return len(phrase) >= 3 and phrase.lower() not in _FUNCTION_WORDS


def reason_phrases(reasons: list[dict], tactic_signals) -> list[str]:
    """The phrases quoted by tactic and safety reasons ("driven by 'owe me', ...")."""
    wanted = set(tactic_signals) | {"safety"}
    phrases: list[str] = []
    for reason in reasons:
        if reason.get("signal") not in wanted:
            continue
        for phrase in _QUOTED.findall(str(reason.get("detail", ""))):
            phrase = phrase.strip()
            if _worth_marking(phrase) and phrase.lower() not in (p.lower() for p in phrases):
                phrases.append(phrase)
    return phrases


def highlight(text: str, phrases: list[str]) -> Markup:
    """`text` escaped, with each phrase (case-insensitive, any spacing) inside <mark>."""
    words = [p for p in sorted(set(phrases), key=len, reverse=True) if p.strip()]
    if not words:
        return escape(text)
    alternatives = (r"\s+".join(map(re.escape, p.split())) for p in words)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)
    out, pos = [], 0
    for match in pattern.finditer(text):
        out.append(str(escape(text[pos:match.start()])))
        out.append(f"<mark>{escape(match.group(0))}</mark>")
        pos = match.end()
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))

"""The evidence bundle's human-readable parts: the PDF report and the CSV.

The PDF uses DejaVu Sans (shipped with matplotlib) so names and text in
Cyrillic, Greek, accented Latin and most symbols print as written. Glyphs the
font lacks (CJK, emoji) print as blanks; the .eml originals keep them exactly.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import Counter

from screener.charts import contact_chart, message_day

MAX_TEXT = 6000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_FORMULA = ("=", "@", "\t", "\r")


def clean(text) -> str:
    """Printable text: no control or direction-override characters, tabs as spaces."""
    return _CONTROL.sub("", str(text if text is not None else "").replace("\t", "    ").replace("\r\n", "\n"))


def tactics_text(item: dict) -> str:
    return "; ".join(f"{t.replace('_', ' ')} {item['tactics'].get(t, 0):.2f}" for t in item["tags"])


def reasons_lines(item: dict) -> list[str]:
    return [f"{r.get('signal', '').replace('_', ' ')} ({float(r.get('score') or 0):.2f}): {r.get('detail', '')}"
            for r in item["reasons"]]


def notes_lines(item: dict) -> list[str]:
    return [f"{n['created_at']} {n['author']} {n['kind'].replace('_', ' ')}: {n['value']}".rstrip(": ")
            for n in item["notes"]]


# -- CSV --------------------------------------------------------------------------------

COLUMNS = ("id", "file", "sha256", "date", "received_at", "channel", "source", "sender", "sender_name",
           "sender_status", "blocked_person", "state", "alert", "subject", "message_id_header", "from_header",
           "to_header", "tactics", "reasons", "logistics", "notes", "text")


def _cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (a leading ' is added to =, @, +x, -x)."""
    text = clean(value)
    if text.startswith(_FORMULA) or (text[:1] in ("+", "-") and not re.fullmatch(r"[+-][\d ().-]*", text)):
        return "'" + text
    return text


def csv_bytes(items: list[dict]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for item in items:
        headers = dict(item["headers"])
        writer.writerow([_cell(v) for v in (
            item["id"], item["file"], item["sha256"], item["date"], item["received_at"], item["channel"],
            item["source"], item["sender"], item["sender_name"], item["sender_status"], item["blocked_person"],
            item["state"], "yes" if item["alert"] else "", item["record"].get("subject", ""),
            headers.get("Message-ID", ""), headers.get("From", ""), headers.get("To", ""), tactics_text(item),
            " | ".join(reasons_lines(item)),
            " | ".join(f"{f.get('kind')}: {f.get('text')}" for f in item["logistics"]),
            " | ".join(notes_lines(item)), item["record"].get("body", "")[:32000])])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")     # BOM: spreadsheets then read UTF-8 correctly


# -- PDF --------------------------------------------------------------------------------

def _fonts() -> dict[str, str]:
    import matplotlib

    base = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
    return {"": os.path.join(base, "DejaVuSans.ttf"), "B": os.path.join(base, "DejaVuSans-Bold.ttf"),
            "mono": os.path.join(base, "DejaVuSansMono.ttf")}


def pdf_bytes(items: list[dict], meta: dict) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    class Report(FPDF):
        def footer(self):
            self.set_y(-12)
            self.set_font("DejaVu", "", 8)
            self.set_text_color(90, 90, 90)
            self.cell(0, 6, f"screener evidence report — {meta['created_at']} — page {self.page_no()}/{{nb}}",
                      align="C")
            self.set_text_color(0, 0, 0)

    fonts = _fonts()
    pdf = Report(format="A4")
    pdf.set_title("Evidence report")
    pdf.set_creator("screener")
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_font("DejaVu", "", fonts[""])
    pdf.add_font("DejaVu", "B", fonts["B"])
    pdf.add_font("DejaVuMono", "", fonts["mono"])
    pdf.set_margins(15, 15, 15)

    widths: dict[tuple, float] = {}

    def width(text: str) -> float:
        key = (pdf.font_family, pdf.font_style, pdf.font_size_pt, text)
        if key not in widths:
            widths[key] = pdf.get_string_width(text)
        return widths[key]

    def wrap(text: str, avail: float) -> list[str]:
        """Greedy word wrap with cached word widths (fpdf2's multi_cell is slow on long texts)."""
        lines = []
        space = width(" ")
        for paragraph in clean(text).split("\n"):
            line, used = [], 0.0
            for word in paragraph.split(" "):
                w = width(word)
                if w > avail:                      # a word wider than the line: break it by characters
                    if line:
                        lines.append(" ".join(line))
                        line, used = [], 0.0
                    chunk = ""
                    for ch in word:
                        if width(chunk + ch) > avail:
                            lines.append(chunk)
                            chunk = ""
                        chunk += ch
                    line, used = [chunk], width(chunk)
                elif line and used + space + w > avail:
                    lines.append(" ".join(line))
                    line, used = [word], w
                else:
                    used += (space if line else 0) + w
                    line.append(word)
            lines.append(" ".join(line))
        return lines

    def write(text: str, x: float, h: float) -> None:
        avail = pdf.w - pdf.r_margin - x
        for line in wrap(text, avail - 0.5):
            pdf.set_x(x)
            pdf.cell(avail, h, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def para(text, size=10, style="", family="DejaVu", h=None, gap=0.0):
        pdf.set_font(family, style, size)
        write(text, pdf.l_margin, h or size * 0.5)
        if gap:
            pdf.ln(gap)

    def field(name, value):
        pdf.set_font("DejaVu", "B", 8.5 if len(name) > 16 else 9)
        pdf.cell(44, 4.6, clean(name))
        pdf.set_font("DejaVu", "", 9)
        write(clean(value) or "—", pdf.l_margin + 44, 4.6)

    pdf.add_page()
    para("Evidence report", 18, "B", h=10)
    para(f"Made by screener on {meta['created_at']} (UTC) for {meta['user'] or 'the protected person'}, "
         f"by {meta['created_by']}.", 10, gap=2)
    who = meta["person"] or ", ".join(meta["blocked"]) or "—"
    field("Messages from", meta["person"] or f"every blocked person ({who}) and every held message")
    field("Since", meta["since"] or "the first message")
    field("Messages", str(len(items)))
    by_channel = Counter(i["channel"] for i in items)
    field("By channel", ", ".join(f"{k}: {v}" for k, v in sorted(by_channel.items())) or "—")
    by_status = Counter((i["sender_status"] or "unknown").replace("_", " ") for i in items)
    field("By sender", ", ".join(f"{k}: {v}" for k, v in by_status.most_common()) or "—")
    tactics = Counter(t.replace("_", " ") for i in items for t in i["tags"])
    field("Tactics", ", ".join(f"{k}: {v}" for k, v in tactics.most_common()) or "—")
    field("Safety alerts", str(sum(1 for i in items if i["alert"])))
    pdf.ln(3)
    series: dict[str, list] = {}
    for i in items:
        series.setdefault(i["channel"], []).append(message_day(i["date"], i["received_at"]))
    png = contact_chart(series, "Contact attempts", width=7.5, height=3.0, dpi=150)
    pdf.image(io.BytesIO(png), w=180)
    pdf.ln(2)
    para("Each message below is kept byte for byte in the messages/ folder of this bundle; its SHA-256 is printed "
         "with it and in manifest.json. The audit log (audit.jsonl) lists every action taken, hash-chained. "
         "Check the bundle with `screener evidence verify`.", 8)

    for item in items:
        if pdf.get_y() > 200:
            pdf.add_page()
        else:
            pdf.ln(4)
        pdf.set_draw_color(150, 150, 150)
        pdf.line(15, pdf.get_y(), 195, pdf.get_y())
        pdf.ln(2)
        when = item["date"] or item["received_at"]
        para(f"Message {item['id']} — {when} — {item['channel']}", 12, "B", h=6, gap=1)
        field("Sender", f"{item['sender_name']} <{item['sender']}>" if item["sender_name"] else item["sender"])
        status = (item["sender_status"] or "unknown").replace("_", " ")
        field("Sender status", f"{status} ({item['blocked_person']})" if item["blocked_person"] else status)
        field("Received", f"{item['received_at']} via {item['source']}")
        field("State", item["state"] + (" — safety alert raised" if item["alert"] else ""))
        field("Original", f"{item['file']}  SHA-256 {item['sha256']}")
        if item["record"].get("subject"):
            field("Subject", item["record"]["subject"])
        if item["headers"]:
            pdf.ln(1)
            para("Headers", 9, "B")
            for name, value in item["headers"]:
                field(name, value)
        pdf.ln(1)
        para("Tactics and reasons", 9, "B")
        if item["tags"]:
            field("Tactics", tactics_text(item))
        for line in reasons_lines(item) or ["none recorded"]:
            para(f"• {line}", 9)
        if item["logistics"]:
            field("Practical facts", "; ".join(f"{f.get('kind')}: {f.get('text')}" for f in item["logistics"]))
        if item["notes"]:
            pdf.ln(1)
            para("Reviewer's notes", 9, "B")
            for line in notes_lines(item):
                para(f"• {line}", 9)
        pdf.ln(1)
        para("Text", 9, "B")
        body = item["record"].get("body", "")
        if len(body) > MAX_TEXT:
            body = body[:MAX_TEXT] + f"\n[… {len(body) - MAX_TEXT} more characters in the original]"
        para(body or "(empty)", 9, family="DejaVuMono", h=4.4)
        if item["history"]:
            pdf.ln(1)
            para("History: " + "; ".join(f"{e['at']} {e['action']} ({e['actor']})" for e in item["history"]), 7.5)
    return bytes(pdf.output())

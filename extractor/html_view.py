"""The coder's review view: self-contained HTML pages built from records (contract dicts) and note texts.

Reads only records and the note text (never a spaCy Doc). Everything from a note or a record is
escaped with html.escape; pages load nothing from a network (inline CSS and JS only).
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from .coding import load_codebook

CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}th{background:#eee;cursor:pointer}
pre.note{white-space:pre-wrap;background:#fafafa;border:1px solid #ddd;padding:1em;max-width:60em}
mark{border-radius:3px;padding:0 1px;cursor:help}mark.LEVEL{background:#ffe08a}mark.TECHNIQUE{background:#b8e0ff}
mark.CEMENT{background:#c8f0c0}mark.VOLUME{background:#e0c8ff}mark.APPROACH,mark.SIDE{background:#ffc8c8}
mark.BIOPSY{background:#ffd8a8}mark.FILL{background:#d0f0f0}mark.other{background:#ddd}
.review{color:#b00;font-weight:bold}#tip{position:fixed;bottom:1em;right:1em;background:#333;color:#fff;padding:.5em;
max-width:30em;display:none}"""

SORT_JS = """function sortBy(th){var t=th.closest('table'),i=[].indexOf.call(th.parentNode.children,th),
b=t.tBodies[0],rows=[].slice.call(b.rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
rows.sort(function(a,c){var x=a.cells[i].dataset.v||a.cells[i].textContent,y=c.cells[i].dataset.v||c.cells[i].textContent,
nx=parseFloat(x),ny=parseFloat(y);var r=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return asc?r:-r;});
rows.forEach(function(r){b.appendChild(r);});}
function filterReview(on){[].forEach.call(document.querySelectorAll('tr.note'),function(r){
r.style.display=(on&&r.dataset.review!=='true')?'none':'';});}"""

TIP_JS = """document.addEventListener('click',function(e){var m=e.target.closest('mark'),t=document.getElementById('tip');
if(!m){t.style.display='none';return;}t.textContent=m.title;t.style.display='block';});"""

ATTRIBUTE_OF = {"LEVEL": "level", "TECHNIQUE": "technique", "CEMENT": "cement", "VOLUME": "cement_volume_ml",
                "APPROACH": "approach", "SIDE": "side", "BIOPSY": "biopsy", "FILL": "technique"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_file_name(note_id) -> str:
    """A file name for a note id: no separators, no leading dot, never empty."""
    name = _UNSAFE.sub("_", str(note_id if note_id is not None else "note")).lstrip(".") or "note"
    return name[:150] + ("_" if name == "index" else "") + ".html"  # never the index page


def code_descriptions() -> dict[str, str]:
    return {code: info.description for code, info in load_codebook().codes.items()}


def _page(title: str, body: str, script: str) -> str:
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<style>{CSS}</style></head><body>{body}<div id=\"tip\"></div><script>{script}</script></body></html>\n")


def _table(headers: list[str], rows: list[list[str]], row_attrs: list[str] | None = None) -> str:
    head = "".join(f"<th onclick=\"sortBy(this)\">{escape(h)}</th>" for h in headers)
    body = "".join(f"<tr{(row_attrs or [''] * len(rows))[i]}>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>"
                   for i, r in enumerate(rows))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _codes_text(codes) -> str:
    return escape(", ".join(f"{c.get('code')}x{c.get('units', 1)}" for c in codes or []))


def _document_kind(record: dict) -> str:
    doc = record.get("document")
    return doc.get("type", "") if isinstance(doc, dict) else ""


def highlighted_text(text: str, record: dict) -> str:
    """The note text, escaped, with each evidence span in a <mark> (overlaps: the first span wins)."""
    spans: dict[tuple[int, int], dict] = {}
    for proc in record.get("procedures") or []:
        for ev in proc.get("evidence") or []:
            start, end = ev.get("start"), ev.get("end")
            if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
                info = spans.setdefault((start, end), {"labels": [], "tips": []})
                label = str(ev.get("label", ""))
                attr = ATTRIBUTE_OF.get(label)
                tip = f"{proc.get('level')}: {label}"
                if attr:
                    tip += f" → {attr} = {proc.get(attr)}"
                tip += f"; section: {ev.get('section') or 'none'}"
                if ev.get("rule"):
                    tip += f"; rule: {ev['rule']}"
                info["labels"].append(label)
                info["tips"].append(tip)
    out, pos = [], 0
    for (start, end), info in sorted(spans.items()):
        if start < pos:
            continue
        cls = info["labels"][0] if info["labels"][0] in ATTRIBUTE_OF else "other"
        out.append(escape(text[pos:start]))
        out.append(f"<mark class=\"{escape(cls)}\" data-labels=\"{escape(' '.join(info['labels']))}\" "
                   f"title=\"{escape(' | '.join(info['tips']))}\">{escape(text[start:end])}</mark>")
        pos = end
    out.append(escape(text[pos:]))
    return "".join(out)


def note_page(record: dict, text: str | None) -> str:
    """One note's review page."""
    nid = str(record.get("note_id"))
    parts = [f"<h1>Note {escape(nid)}</h1>"]
    if "error" in record:
        err = record["error"] or {}
        parts.append(f"<p class=\"review\">Error {escape(str(err.get('type')))}: {escape(str(err.get('message')))}</p>")
        return _page(nid, "".join(parts), SORT_JS)
    review = "YES" if record.get("review") else "no"
    parts.append(f"<p>document: {escape(_document_kind(record) or 'not stated')} · code set: "
                 f"{escape(str(record.get('code_set')))} · confidence: {escape(str(record.get('confidence')))} · "
                 f"review: <span class=\"{'review' if record.get('review') else ''}\">{review}</span></p>")
    descriptions = code_descriptions()
    by_level = {p.get("level"): p for p in record.get("procedures") or []}
    rows = []
    for c in (record.get("codes") or []) + (record.get("additional_codes") or []):
        evidence = list(c.get("evidence") or [])
        for lv in c.get("levels") or []:
            evidence += [e for e in (by_level.get(lv) or {}).get("evidence", []) if e.get("label") != "LEVEL"]
        quotes = "<br>".join(f"{escape(str(e.get('label')))}: “{escape(str(e.get('text')))}”" for e in evidence)
        mods = "-".join(c.get("modifiers") or [])
        rows.append([escape(f"{c.get('code')}x{c.get('units', 1)}" + (f"-{mods}" if mods else "")),
                     escape(c.get("description") or descriptions.get(c.get("code"), "")),
                     escape(str(c.get("rationale", ""))), quotes])
    parts.append("<h2>Codes</h2>" + _table(["code", "description", "rationale", "evidence"], rows))
    pcs = record.get("pcs_codes") or []
    if pcs:
        parts.append("<h2>ICD-10-PCS</h2>" + _table(["code", "level", "description"], [
            [escape(p.get("code", "")), escape(str(p.get("level"))), escape(p.get("description", ""))] for p in pcs]))
    for p in record.get("procedures") or []:
        keys = [k for k in p if k != "evidence"]
        parts.append(f"<h2>Level {escape(str(p.get('level')))}</h2>"
                     + _table(["attribute", "value"], [[escape(k), escape(str(p[k]))] for k in keys]))
    nt = record.get("not_treated") or []
    parts.append("<h2>Not treated</h2>" + (_table(["level", "reason"], [
        [escape(str(n.get("level"))), escape(str(n.get("reason")))] for n in nt]) if nt else "<p>none</p>"))
    warns = record.get("warnings") or []
    parts.append("<h2>Warnings</h2>" + ("<ul>" + "".join(f"<li>{escape(w)}</li>" for w in warns) + "</ul>"
                                         if warns else "<p>none</p>"))
    queries = record.get("queries") or []
    parts.append("<h2>Queries</h2>" + ("<ul>" + "".join(
        f"<li>{escape(str(q.get('topic')))}: {escape(str(q.get('question')))}</li>" for q in queries) + "</ul>"
        if queries else "<p>none</p>"))
    if text is not None:
        parts.append("<h2>Note text</h2><pre class=\"note\">" + highlighted_text(text, record) + "</pre>")
    return _page(nid, "".join(parts), SORT_JS + TIP_JS)


def index_page(records: list[dict]) -> str:
    """The list of every note: sortable columns and a review-only filter."""
    rows, attrs = [], []
    for r in records:
        nid = str(r.get("note_id"))
        link = f"<a href=\"{escape(safe_file_name(r.get('note_id')))}\">{escape(nid)}</a>"
        if "error" in r:
            rows.append([link, "", "error: " + escape(str((r.get("error") or {}).get("type"))), "", "", "", "", ""])
            attrs.append(' class="note" data-review="true"')
            continue
        rows.append([link, escape(_document_kind(r)), _codes_text(r.get("codes")), _codes_text(r.get("additional_codes")),
                     "yes" if r.get("review") else "no", escape(str(r.get("confidence"))),
                     str(len(r.get("warnings") or [])), str(len(r.get("queries") or []))])
        attrs.append(f' class="note" data-review="{"true" if r.get("review") else "false"}"')
    body = ("<h1>spinecode review</h1><label><input type=\"checkbox\" id=\"review-only\" "
            "onchange=\"filterReview(this.checked)\"> review only</label>"
            + _table(["note", "document", "codes", "additional codes", "review", "confidence", "warnings", "queries"],
                     rows, attrs))
    return _page("spinecode review", body, SORT_JS)


class HtmlSink:
    """Writes DIR/<note>.html per note as records come, and DIR/index.html at close()."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.records: list[dict] = []

    def write(self, record: dict, text: str | None) -> None:
        self.records.append({k: v for k, v in record.items() if k != "procedures"} |
                            {"procedures": []})  # the index needs no evidence
        (self.folder / safe_file_name(record.get("note_id"))).write_text(note_page(record, text), encoding="utf-8")

    def close(self) -> None:
        (self.folder / "index.html").write_text(index_page(self.records), encoding="utf-8")

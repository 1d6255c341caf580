"""Per-level attributes from attached cues: technique and cavity device, approach and side, filler,
volume and guiding imaging. Each function returns the value and the attachments that prove it."""

from __future__ import annotations

import re
from collections import defaultdict

from .attach import (
    CAVITY,
    CEMENT_TYPES,
    IMAGING_SECTIONS,
    PROCEDURAL,
    RANK_DIRECT,
    RANK_GROUP,
    RANK_INHERITED,
    STOPPED,
    Attached,
    _best,
    _neg,
    _Note,
    _pos,
)
from .mentions import Mention


def _technique(level: str, items: list[Attached]) -> tuple[str, str | None, list[Attached]]:
    if level == "sacrum":
        cav = _best(_pos(items, CAVITY))
        device = _device(cav, items) if cav else None
        return "sacroplasty", device, cav
    cavity = _cavity_made(items)
    convert = _pos(items, {"CONVERT_VP"})
    if convert:
        last_convert = max(a.mention.start for a in convert)
        later_cavity = [a for a in cavity if a.rank >= RANK_INHERITED and a.mention.start > last_convert]
        if not later_cavity:
            return "vertebroplasty", None, convert
    if cavity:
        return "augmentation", _device(cavity, items), _best(cavity)
    if _neg(items, CAVITY):
        return "vertebroplasty", None, _neg(items, CAVITY)
    balloons = _pos(items, {"CAVITY_BALLOON"})
    if balloons:  # a balloon was handled but nothing says it was inflated
        return "vertebroplasty", None, balloons
    aug = _best(_pos(items, {"PROC_AUG"}))
    vp = _best(_pos(items, {"PROC_VP"}))
    aug_rank = aug[0].rank if aug else 0
    vp_rank = vp[0].rank if vp else 0
    if aug_rank > vp_rank or (aug_rank and aug_rank == vp_rank and len(aug) > len(vp)):
        text = " ".join(a.mention.text.lower() for a in aug)
        device = "balloon" if ("kyphoplast" in text or "balloon" in text) else None
        return "augmentation", device, aug
    return "vertebroplasty", None, vp


def _cavity_made(items: list[Attached]) -> list[Attached]:
    """Cues proving a cavity was made. A balloon counts only once something was inflated: a tamp
    that was opened, passed or prepared but never inflated made no cavity."""
    inflations = _pos(items, {"INFLATE"})
    devices = _pos(items, CAVITY - {"INFLATE"})
    made = [a for a in devices if a.mention.label != "CAVITY_BALLOON" or inflations]
    if inflations and not any(a.mention.label != "CAVITY_ANY" for a in made):
        made += [a for a in devices if a.mention.label == "CAVITY_BALLOON"] or inflations
    return made


def _device(cavity: list[Attached], items: list[Attached]) -> str | None:
    for pool in (_best(cavity), cavity):
        labels = {a.mention.label for a in pool}
        if labels & {"CAVITY_BALLOON", "INFLATE"}:
            return "balloon"
        if "CAVITY_MECH" in labels:
            return "mechanical"
    return None


def _explicit(m: Mention) -> bool:
    t = m.text.lower()
    return any(w in t for w in ("bilat", "bipedic", "bi-pedic", "unilat", "unipedic", "uni-pedic"))


def _planned_only(items: list[Attached], labels) -> list[Attached]:
    """'so we planned a right unipedicular approach' and nothing else said: the plan is the best we have."""
    return [a for a in items if a.mention.label in labels and a.mention.modifiers == frozenset({"HYPOTHETICAL"})
            and a.mention.section in ("technique", "procedure_title") and a.rank >= RANK_INHERITED]


def _approach(items: list[Attached]) -> tuple[str | None, list[Attached]]:
    cues = _pos(items, {"APPROACH_BI", "APPROACH_UNI"})
    if not cues and not _pos(items, {"SIDE"}):
        cues = _planned_only(items, {"APPROACH_BI", "APPROACH_UNI"})
        if not cues:
            sides = [a for a in _planned_only(items, {"SIDE"}) if _side_value(a.mention)]
            if sides and _is_access_side(sides[-1].mention) and len({_side_value(a.mention) for a in sides}) == 1:
                return "unilateral", sides
    access_sides = [a for a in _pos(items, {"SIDE"}) if _is_access_side(a.mention)]
    top_side = max((a.rank for a in access_sides), default=0)
    if cues:
        best = max(cues, key=lambda a: (a.rank, _explicit(a.mention), a.mention.start))
        if top_side <= best.rank:
            value = "bilateral" if best.mention.label == "APPROACH_BI" else "unilateral"
            return value, [best]
        # "bipedicular at each level, except T12, which was done from the left": the exception wins
        sides = [a for a in access_sides if a.rank == top_side]
    else:
        sides = _best(_pos(items, {"SIDE"}))
    abandoned = {_side_value(a.mention) for a in items if a.mention.label == "SIDE"
                 and a.mention.modifiers & STOPPED}  # "R side abandoned, no cement on the right"
    found = {_side_value(a.mention) for a in sides} - {None}
    if abandoned and found - abandoned:
        found -= abandoned
    if len(found) == 1:
        return "unilateral", sides
    if len(found) == 2:
        return "bilateral", sides
    return None, []


_APPROACH_WORDS = ("pedicular", "unilateral", "approach", "lateral", "sided", "only", "single")
_ACCESS_WORDS = _APPROACH_WORDS + ("pedicle", "needle", "cannula", "trocar", "ala")


def _access_score(m: Mention) -> int:
    """2: a side of access ('right unipedicular', 'through the left pedicle'); 0: where cement went."""
    t = m.text.lower()
    if t.startswith(("to the", "into the", "in the")) and "ala" not in t:
        return 0
    return 2 if any(w in t for w in _ACCESS_WORDS) else 1


def _is_access_side(m: Mention) -> bool:
    t = m.text.lower()
    return any(w in t for w in _APPROACH_WORDS) or t.startswith(("from the", "via the"))


_LEFT = re.compile(r"\b(?:left|lt|l)\b")
_RIGHT = re.compile(r"\b(?:right|rt|r)\b")


def _side_value(m: Mention) -> str | None:
    t = m.text.lower()
    left, right = bool(_LEFT.search(t)), bool(_RIGHT.search(t))
    if left != right:
        return "left" if left else "right"
    return None




def _side(items: list[Attached]) -> tuple[str | None, list[Attached]]:
    abandoned = {_side_value(a.mention) for a in items if a.mention.label == "SIDE" and a.mention.modifiers & STOPPED}
    cues = [a for a in _pos(items, {"SIDE", "APPROACH_UNI"}) if _side_value(a.mention)]
    if len({_side_value(a.mention) for a in cues} - abandoned) == 1:
        cues = [a for a in cues if _side_value(a.mention) not in abandoned]
    if not cues:
        cues = [a for a in _planned_only(items, {"SIDE", "APPROACH_UNI"}) if _side_value(a.mention)]
    if not cues:
        return None, []
    best = max(cues, key=lambda a: (a.rank, _access_score(a.mention), a.mention.start))
    return _side_value(best.mention), [best]


def _cement(items: list[Attached]) -> tuple[str | None, list[Attached]]:
    cues = _best(_pos(items, set(CEMENT_TYPES)))
    if not cues:
        return None, []
    counts: dict[str, int] = defaultdict(int)
    for a in cues:
        counts[CEMENT_TYPES[a.mention.label]] += 1
    value = max(counts, key=lambda k: (counts[k], max(a.mention.start for a in cues if CEMENT_TYPES[a.mention.label] == k)))
    return value, [a for a in cues if CEMENT_TYPES[a.mention.label] == value]


_VOLUME_EXCLUDE = re.compile(r"inflat|contrast|lidocaine|bupivacaine|marcaine|blood|ebl|saline|balloon|tamp|psi|"
                             r"omnipaque|isovue|lido|anesthe")
_FILLER_CONTEXT = re.compile(r"cement|pmma|filler|graft|chips|substitute|phosphate|cortoss|hydroxyapatite|"
                             r"methacrylate|receiv|inject|deliver|instill|volume|total|per\s+side|each\s+side|"
                             r"each\s+needle|per\s+needle|through\s+each|cc\b|ml\b")
_PER_SIDE = re.compile(r"^\s*(?:per|each|on\s+each|through\s+each|into\s+each|in\s+each)\s+"
                       r"(?:side|needle|cannula|pedicle|ala|hemivertebra)")


def _volume(note: _Note, items: list[Attached], single: bool, approach: str | None) -> tuple[float | None, list[Attached]]:
    """mL of filler in this body: a stated total wins; left + right volumes add; 'x mL per side' doubles."""
    vols = []
    for a in items:
        m = a.mention
        if m.label != "VOLUME" or (a.rank < RANK_INHERITED and not single) or m.section not in PROCEDURAL:
            continue
        s = note.sentences[m.sent]
        local = note.text[max(s.start, m.start - 30) : min(s.end, m.end + 12)].lower()
        if _VOLUME_EXCLUDE.search(local):
            continue
        if not _FILLER_CONTEXT.search(note.text[s.start : s.end].lower()):
            continue
        vols.append(a)
    if not vols:
        return None, []
    if not single:  # "Total PMMA: 10.5 mL" after the last level's block is the session total
        vols = [a for a in vols if a.rank == RANK_DIRECT or not note.is_total(a.mention)]
        if not vols:
            return None, []
    top = max(a.rank for a in vols)
    best = [a for a in vols if a.rank == top]
    totals = [a for a in best if note.is_total(a.mention)] or [
        a for a in best if note.in_parens(a.mention)
        and any(b.mention.sent == a.mention.sent and b.mention.start < a.mention.start for b in best)
    ]
    if totals:
        pick = max(totals, key=lambda a: a.mention.start)
        return _ml(pick.mention.text), [pick]
    if len(best) == 1:
        m = best[0].mention
        after = note.text[m.end : m.end + 30].lower()
        if approach == "bilateral" and _PER_SIDE.search(after):
            return round(2 * _ml(m.text), 2), best
        return _ml(m.text), best
    by_sentence: dict[int, list[Attached]] = defaultdict(list)
    for a in best:
        by_sentence[a.mention.sent].append(a)
    if len(by_sentence) == 1 and len(best) == 2:  # "2.5 mL on the left and 2.0 mL on the right"
        return round(sum(_ml(a.mention.text) for a in best), 2), best
    distinct = {_ml(a.mention.text) for a in best}
    if len(distinct) == 1:
        return distinct.pop(), best[:1]
    return None, []


_WORD_NUMBERS = {w: i for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"])}


def _ml(text: str) -> float:
    """'4.5 mL' → 4.5; dictated 'four point five cc' → 4.5, 'three and a half cc' → 3.5."""
    t = text.lower()
    digits = re.match(r"\s*(\d+(?:\.\d+)?)", t)
    if digits:
        return float(digits.group(1))
    words = re.findall(r"[a-z]+", t)
    value = float(_WORD_NUMBERS.get(words[0], 0))
    if "half" in words:
        return value + 0.5
    if "point" in words:
        i = words.index("point")
        if i + 1 < len(words) and words[i + 1] in _WORD_NUMBERS:
            value += _WORD_NUMBERS[words[i + 1]] / 10
    return value


def _guidance(items: list[Attached], imaging: list[str]) -> str | None:
    cues = [a for a in _pos(items, {"IMAGING_CT", "IMAGING_FLUORO"}) if a.mention.section in IMAGING_SECTIONS]
    # CT-guided needle placement counts as CT even when the cement was watched under fluoroscopy
    for pool in ([a for a in cues if a.rank >= RANK_GROUP], cues):
        labels = {a.mention.label for a in pool}
        if "IMAGING_CT" in labels:
            return "ct"
        if "IMAGING_FLUORO" in labels:
            return "fluoroscopy"
    if imaging == ["ct"]:
        return "ct"
    if "fluoroscopy" in imaging:
        return "fluoroscopy"
    return imaging[0] if imaging else None



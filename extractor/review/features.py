"""The confidence model's inputs: the note text only (normalised, lower-cased), never the rules' output.

The model is a second opinion on the rule extractor, so it reads the text with its own level finder
(`find_levels`), section headings and small cue lexicons (cavity, cement, abort, plan, history, ...)
with negation marks, and a few words next to each level. `featurize()` turns one note into the token
rows of the four heads (performed, level, technique, biopsy); TF-IDF and logistic regression over
those tokens are in training.py. Changing anything here changes the model: bump FEATURE_VERSION and
retrain (`spinecode train`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ..facts import LEVEL_ORDER
from ..levels import _make
from ..levels import _vocab as levels_vocab
from ..regex_scan import FastPattern
from ..text import normalize

FEATURE_VERSION = 1

# The level vocabulary is the rules' (patterns/levels.json); the finder below is the model's own, on
# raw text, so its view stays independent of the rule pipeline it is meant to check.
_VOCAB = levels_vocab()
_NUMBERS = _VOCAB["numbers"]
_ORDINALS = {w: n for w, n in _VOCAB["ordinals"].items() if w.isalpha()}  # frozen with FEATURE_VERSION
_PREFIX = _VOCAB["prefixes"]
_REGION = _VOCAB["regions"]
_LEVEL_RE = re.compile(
    r"\b(?P<p>[ctld])\s?-?\s?(?P<n>\d{1,2})\b"
    rf"|\b(?P<sp>see|cee|tea|tee|el|ell|elle)\s+(?P<sn>{'|'.join(_NUMBERS)})\b"
    rf"|\b(?P<o>{'|'.join(_ORDINALS)})\s+(?P<r>cervical|thoracic|dorsal|lumbar)\b"
)
_RANGE_RE = re.compile(r"\s*(?:-|–|—|to|through|thru)\s*(?:(?P<p>[ctld])\s?-?\s?)?(?P<n>\d{1,2})\b")
_NAMED_RE = re.compile(r"\b(?:sacr(?:um|al|oplasty|oplasties)|s[1-3]|dens|odontoid)\b")
_FAST_LEVEL, _FAST_NAMED = FastPattern(_LEVEL_RE), FastPattern(_NAMED_RE)  # the same matches, found faster
_WORD_RE = re.compile(r"[a-z]+")
_HEADING_RE = re.compile(r"^[ \t]*([A-Za-z][A-Za-z /&()-]{1,40}?)[ \t]*:", re.MULTILINE)
_CAPS_HEADING_RE = re.compile(r"^[ \t]*([A-Z][A-Z /&()-]{2,40})[ \t]*$", re.MULTILINE)
_SENTENCE_END_RE = re.compile(r"[.;!?](?:\s|$)|\n[ \t]*\n")
CONTEXT_WORDS = 16  # words of the mention's sentence kept on each side
NEAR_WORDS = 4  # words on each side kept as they are
CUE_NEAR_WORDS = 8  # words on each side looked at for "near" cues
NEGATION_WINDOW = (5, 2)  # words before / after a cue that can negate it

# Small cue lexicons (word prefixes), frozen with FEATURE_VERSION: what the words are about. The heads
# learn how much each cue counts; compact features generalise better than raw n-grams on ~60 notes.
CUES: dict[str, re.Pattern] = {name: re.compile(rf"^(?:{pattern})") for name, pattern in {
    "cavity": r"balloon|inflat|tamp|cavit|kypho|spinejack|kiva|osteotom|curett|reamer|implant|expand|drill"
              r"|creat",
    "direct": r"vertebroplast|direct|straight",
    "sacral": r"sacroplast|sacr|ala|alar",
    "cement": r"cement|pmma|methylmeth|polymethyl|filler|calcium|graft|allograft|cortoss|substitute",
    "inject": r"inject|instill|deliver|fill|extrud|flow|interdigit|opacif",
    "access": r"trocar|cannul|needle|pedicl|transpedic|bipedic|unipedic|parapedic|extrapedic|gauge|stylet",
    "treat": r"treat|augment|perform|complet|done|level",
    "abort": r"abort|abandon|terminat|stopp|discontinu|unable|fail|withdr|convert",
    "plan": r"plan|will|schedul|futur|consider|candidat|recommend|defer|postpon|cancel|reschedul|tentativ"
            r"|possibl|may|would|if",
    "history": r"prior|previous|histor|hx|heal|chronic|remote|ago|earlier|old|known",
    "visit": r"clinic|consult|follow|visit|office|telephone|phone|return|seen",
    "finding": r"fractur|compress|wedge|height|edema|lesion|lytic|mri|ct|pet|scan|show|demonstrat|seen"
               r"|signal|stir|deformit|collaps|metasta",
    "sedation": r"sedat|anesth|fentanyl|midazolam|versed|propofol",
    "complete": r"tolerat|uneventful|recover|success|satisfactor|excellent",
    "volume": r"ml|cc",
    "biopsy": r"biops|specimen|core|patholog",
}.items()}
_NEGATION = re.compile(r"^(?:no|not|never|without|abandon\w*|instead|unable|cancel\w*|defer\w*|abort\w*|nor)$")
SECTION_CLASSES: dict[str, tuple[str, ...]] = {
    "procedure": ("procedure", "procedures", "technique", "operation", "detail", "details", "description",
                  "narrative", "op", "findings", "performed"),
    "history": ("indication", "indications", "history", "hpi", "diagnosis", "clinical", "reason", "background",
                "pre", "preop", "imaging", "assessment"),
    "plan": ("plan", "recommendation", "recommendations", "disposition", "follow", "discharge", "instructions"),
    "impression": ("impression", "summary", "conclusion", "result", "results", "post", "postop"),
    "addendum": ("addendum", "correction", "amended", "amendment"),
}


@dataclass(frozen=True)
class LevelMention:
    start: int
    end: int
    levels: tuple[str, ...]
    is_range: bool


def find_levels(text: str) -> list[LevelMention]:
    """Level mentions in the text (T12, T-12, 'tea twelve', 'twelfth thoracic', T11-L1, sacrum, dens)."""
    low = text.lower()
    out: list[LevelMention] = []
    for m in _FAST_LEVEL.finditer(low):
        if m.group("p"):
            first = _make(_PREFIX[m.group("p")], int(m.group("n")))
        elif m.group("sp"):
            first = _make(_PREFIX[m.group("sp")], _NUMBERS[m.group("sn")])
        else:
            first = _make(_REGION[m.group("r")], _ORDINALS[m.group("o")])
        if first is None:
            continue
        levels, end, is_range = (first,), m.end(), False
        r = _RANGE_RE.match(low, m.end()) if m.group("p") else None
        if r:
            last = _make(_PREFIX[r.group("p")] if r.group("p") else first[0], int(r.group("n")))
            if last is not None:
                i, j = LEVEL_ORDER.index(first), LEVEL_ORDER.index(last)
                if i < j <= i + 8:
                    levels, end, is_range = LEVEL_ORDER[i : j + 1], r.end(), True
        out.append(LevelMention(m.start(), end, tuple(levels), is_range))
    for m in _FAST_NAMED.finditer(low):
        level = "C2" if m.group(0) in ("dens", "odontoid") else "sacrum"
        out.append(LevelMention(m.start(), m.end(), (level,), False))
    out.sort(key=lambda x: x.start)
    return out


def _headings(text: str) -> list[tuple[int, str]]:
    found = [(m.start(), m.group(1)) for m in _HEADING_RE.finditer(text) if len(m.group(1).split()) <= 5]
    found += [(m.start(), m.group(1)) for m in _CAPS_HEADING_RE.finditer(text)]
    return sorted(found)


def _section_at(headings: list[tuple[int, str]], pos: int) -> tuple[list[str], list[str]]:
    """(heading words, section classes) of the section holding `pos`."""
    name = ""
    for start, heading in headings:
        if start > pos:
            break
        name = heading
    words, classes = _heading_classes(name)
    return list(words), list(classes)


@functools.lru_cache(maxsize=4096)  # headings repeat within and across notes
def _heading_classes(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    words = _WORD_RE.findall(name.lower())
    classes = [c for c, keys in SECTION_CLASSES.items() if set(words) & set(keys)] or ["other"]
    return tuple(words), tuple(classes)


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    left = 0
    for m in _SENTENCE_END_RE.finditer(text, max(0, start - 600), start):
        left = m.end()
    m = _SENTENCE_END_RE.search(text, end, min(len(text), end + 600))
    right = m.start() if m else min(len(text), end + 600)
    return left, right


@functools.lru_cache(maxsize=65536)
def _cue_classes(word: str) -> tuple[str, ...]:
    """The cue classes one word belongs to (cached: a note repeats its words, notes share them)."""
    return tuple(name for name, pat in CUES.items() if pat.match(word))


@functools.lru_cache(maxsize=65536)
def _negates(word: str) -> bool:
    return _NEGATION.match(word) is not None


def _cues(words: list[str], i: int, found: tuple[str, ...] | None = None) -> list[str]:
    """Cue classes of words[i] (`found`, if the caller has them), each marked _neg when a negation
    word is close."""
    if found is None:
        found = _cue_classes(words[i])
    if not found:
        return []
    before, after = NEGATION_WINDOW
    neg = any(map(_negates, words[max(0, i - before) : i] + words[i + 1 : i + 1 + after]))
    return [name + ("_neg" if neg else "") for name in found]


def _cue_set(words: list[str]) -> set[str]:
    # most words are no cue: look the class up first, call _cues only for cue words
    out: set[str] = set()
    for i, word in enumerate(words):
        found = _cue_classes(word)
        if found:
            out.update(_cues(words, i, found))
    return out


_LINE_RE = re.compile(r"[^\n]+")


@functools.lru_cache(maxsize=65536)  # (cue classes, negated, stem, section classes) repeat within and across notes
def _note_cue_tokens(found: tuple[str, ...], negated: bool, stem: str, classes: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for name in found:
        cue = name + "_neg" if negated else name
        out.append(f"nc_{cue}")
        out.append(f"nc_{cue}_{stem}")
        out += [f"nc_{cue}_in_{c}" for c in classes]
    return tuple(out)


def _note_cues(text: str) -> list[str]:
    """Cue tokens of the whole note: class, class+word stem, class within its section class."""
    headings = _headings(text)
    low = text.lower()
    out: list[str] = []
    before, after = NEGATION_WINDOW
    for para in _LINE_RE.finditer(low):
        words = _WORD_RE.findall(para.group(0))
        classes = None  # the paragraph's section classes, looked up at its first cue word
        for i, w in enumerate(words):
            found = _cue_classes(w)
            if not found:
                continue
            if classes is None:
                classes = tuple(_section_at(headings, para.start())[1])
            negated = any(map(_negates, words[max(0, i - before) : i] + words[i + 1 : i + 1 + after]))
            out += _note_cue_tokens(found, negated, w[:6], classes)
    return out


@dataclass
class NoteFeatures:
    note_doc: str  # the performed head's row
    level_docs: dict[str, str]  # the level head's rows, one per level named
    technique_docs: dict[str, str]  # the technique head's rows, one per level named


def featurize(text: str, normalized: str | None = None) -> NoteFeatures:
    """All the model's inputs for one note (the text only; nothing from the rule extractor). normalized:
    `normalize(text)`, when the caller has it (the pipeline's Doc holds it)."""
    text = normalize(text) if normalized is None else normalized
    low = text.lower()
    mentions = find_levels(text)
    headings = _headings(text)
    note_cues = _note_cues(text)
    note_doc = " ".join(note_cues)
    # the note's cue classes (with negation), without the word-level detail, for the level rows
    note_summary = sorted({t for t in note_cues if t.count("_") == 1 or (t.endswith("_neg") and t.count("_") == 2)})
    n_levels = len({lv for m in mentions for lv in m.levels})
    tokens: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    local: dict[str, set[str]] = {}
    for m in mentions:
        s_left, s_right = _sentence_bounds(low, m.start, m.end)
        left = _WORD_RE.findall(low[s_left : m.start])[-CONTEXT_WORDS:]
        right = _WORD_RE.findall(low[m.end : s_right])[:CONTEXT_WORDS]
        words, classes = _section_at(headings, m.start)
        feats = ["n_" + w for w in left[-NEAR_WORDS:] + right[:NEAR_WORDS]]
        feats += ["sec_" + w for w in words] or ["sec_none"]
        feats += [f"seccls_{c}" for c in classes]
        sentence_cues = _cue_set(left + right)
        spans = {
            "sent": sentence_cues,
            "before": _cue_set(left[-CUE_NEAR_WORDS:]),
            "after": _cue_set(right[:CUE_NEAR_WORDS]),
        }
        for where, cues in spans.items():
            for cue in sorted(cues):
                feats.append(f"cue_{where}_{cue}")
                feats += [f"cue_{where}_{cue}_in_{c}" for c in classes]
        feats.append(f"pos_{min(3, int(4 * m.start / max(1, len(low))))}")
        feats.append("in_range" if m.is_range else ("in_list" if len(m.levels) > 1 else "alone"))
        for lv in m.levels:
            tokens.setdefault(lv, []).extend(feats)
            counts[lv] = counts.get(lv, 0) + 1
            local.setdefault(lv, set()).update(
                c for c in sentence_cues if c.split("_")[0] in ("cavity", "direct", "sacral", "cement"))
    level_docs, technique_docs = {}, {}
    for lv, feats in tokens.items():
        region = "sacral" if lv == "sacrum" else lv[0]
        feats = feats + [f"mentions_{min(counts[lv], 6)}", f"levels_{min(n_levels, 6)}", f"region_{region}"]
        level_docs[lv] = " ".join(feats + note_summary)
        technique_docs[lv] = " ".join([note_doc, f"region_{region}"] + [f"lc_{c}" for c in sorted(local[lv])])
    return NoteFeatures(note_doc, level_docs, technique_docs)

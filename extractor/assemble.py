"""Mentions → NoteFacts: which levels were treated now, and what was done at each.

Plain Python over `mentions.Sentence` records (no spaCy). The hard part is attachment: a cue
("bilateral", "balloon", "4 mL PMMA", "biopsy") must land on the right level. Notes state attributes
three ways and each is handled explicitly:
1. per-level statements and blocks ("T12: ... A unilateral left approach was used. ..."): a sentence
   that names levels sets the subject; following sentences without a level inherit it;
2. global statements ("at each level", a header naming several levels, a sentence before any level):
   apply to every treated level;
3. exceptions: a more specific statement outranks a general one, and among equals the later wins.
Every attachment keeps a rank (how specific it was), so the evidence for a decision is explainable.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from .facts import BiopsyLevel, Evidence, LevelFacts, NoteFacts, NotTreated, level_index
from .mentions import Mention, Sentence

# sections whose sentences describe what was done in this session
PROCEDURAL = frozenset({None, "procedure_title", "technique", "impression", "addendum", "implants"})
BIOPSY_SECTIONS = PROCEDURAL | {"specimens"}
NEGATION_SECTIONS = PROCEDURAL | {"complications", "findings", "specimens"}
IMAGING_SECTIONS = PROCEDURAL | {"findings", "complications"}
NOT_NOW_SECTIONS = frozenset({"history", "comparison", "plan", "planned", "diagnosis", "assessment"})

NEGATING = frozenset({"NEGATED_EXISTENCE", "NOT_TREATED"})
NOT_POSITIVE = frozenset(
    {"NEGATED_EXISTENCE", "NOT_TREATED", "HISTORICAL", "HYPOTHETICAL", "ABORTED", "FINDING", "REFERENCE", "CORRECTED"}
)
NOT_SUBJECT = frozenset({"HISTORICAL", "HYPOTHETICAL", "REFERENCE", "FINDING"})

FILL = frozenset({"FILL_VERB", "CEMENT_PMMA", "CEMENT_GRAFT", "CEMENT_SUBST", "CEMENT_GENERIC"})
PROC = frozenset({"PROC_VP", "PROC_AUG", "PROC_SACRO"})
TREAT = FILL | PROC | {"CONVERT_VP"}
# cues whose negation means "nothing was delivered" ("no cement was injected", "vertebroplasty not performed")
DELIVERY_NAMES = PROC | {"FILL_VERB"}
CAVITY = frozenset({"CAVITY_BALLOON", "CAVITY_MECH", "CAVITY_ANY", "INFLATE"})
CEMENT_TYPES = {"CEMENT_PMMA": "pmma", "CEMENT_GRAFT": "bone_graft", "CEMENT_SUBST": "bone_substitute"}
NON_SEPARATING = frozenset({"LEVEL", "NEEDLE", "SESSION"})
STOPPED = NEGATING | {"ABORTED"}

# how specific an attachment is
RANK_DIRECT = 4  # the cue sits next to one level
RANK_INHERITED = 3  # a later sentence of a one-level block
RANK_GROUP = 2  # a statement about several named levels
RANK_ALL = 1  # a statement that names no level


def positive(m: Mention) -> bool:
    return not (m.modifiers & NOT_POSITIVE)


def negated(m: Mention) -> bool:
    return bool(m.modifiers & NEGATING) and "HYPOTHETICAL" not in m.modifiers


@dataclass(frozen=True)
class Attached:
    mention: Mention
    rank: int


@dataclass
class _Concern:
    message: str
    review: bool


class _Note:
    """Working state for one note."""

    def __init__(self, sentences: list[Sentence], text_of):
        self.sentences = sentences
        self.text_of = text_of  # token index -> token text (for link words)
        self.by_level: dict[str, list[Attached]] = defaultdict(list)
        self.to_all: list[Attached] = []
        self.level_mentions: dict[str, list[Mention]] = defaultdict(list)
        self.corrected: set[str] = set()
        self.concerns: list[_Concern] = []

    def concern(self, message: str, review: bool) -> None:
        if all(c.message != message for c in self.concerns):
            self.concerns.append(_Concern(message, review))


# ---------------------------------------------------------------- addendum corrections


def _apply_addendum_corrections(note: _Note) -> None:
    """'ADDENDUM: the treated level was L3, not L2' renames L2 → L3 everywhere else."""
    old: list[str] = []
    new: list[str] = []
    for s in note.sentences:
        if s.section != "addendum":
            continue
        for m in s.mentions:
            if m.label != "LEVEL" or len(m.levels) != 1:
                continue
            if m.modifiers & (NEGATING | {"CORRECTED"}):
                old.append(m.levels[0])
            elif not m.modifiers & (NOT_SUBJECT - {"HYPOTHETICAL"}):  # "should read L3" names the new level
                new.append(m.levels[0])
    old = list(dict.fromkeys(old))
    new = [lv for lv in dict.fromkeys(new) if lv not in old]
    mapping = dict(zip(old, new))
    if not mapping:
        return
    note.corrected = set(mapping)
    for s in note.sentences:
        if s.section == "addendum":
            s.mentions = [
                m for m in s.mentions if not (m.label == "LEVEL" and m.levels and m.levels[0] in mapping)
            ]
            continue
        s.mentions = [
            _renamed(m, mapping) if m.label == "LEVEL" and set(m.levels) & set(mapping) else m
            for m in s.mentions
        ]


def _renamed(m: Mention, mapping: dict[str, str]) -> Mention:
    levels = tuple(mapping.get(x, x) for x in m.levels)
    return Mention(m.label, m.start, m.end, m.text, m.literal, m.sent, m.token, m.token_end, m.section,
                   m.modifiers, levels)


# ---------------------------------------------------------------- attachment


def _subject_levels(s: Sentence) -> list[Mention]:
    has_treat = any(m.label in TREAT and positive(m) for m in s.mentions)
    out = []
    for m in s.mentions:
        if m.label != "LEVEL" or m.modifiers & NOT_SUBJECT:
            continue
        if m.is_range and not has_treat:  # "CT through C3-C5": a range is treated only when said so
            continue
        out.append(m)
    return out


_GROUP_BREAKERS = frozenset({"with", "without", "plus", "including", "except", "but"})


def _groups(s: Sentence, levels: list[Mention], note_words: dict | None = None) -> list[list[Mention]]:
    """Consecutive level mentions with no cue between them form one group ("T11, T12 and L1")."""
    cue_tokens = sorted(m.token for m in s.mentions if m.label not in NON_SEPARATING)
    note_words = note_words or {}
    groups: list[list[Mention]] = []
    for m in sorted(levels, key=lambda x: x.token):
        if groups:
            last = groups[-1][-1]
            between = any(last.token_end <= t < m.token for t in cue_tokens) or any(
                note_words.get(t) in _GROUP_BREAKERS for t in range(last.token_end, m.token)
            ) or any(lv in {x for g in groups[-1] for x in g.levels} for lv in m.levels)
            broken = any(last.token_end <= b < m.token for b in s.clause_breaks)
            if not between and not broken:
                groups[-1].append(m)
                continue
        groups.append([m])
    return groups


_AFTER_LEVEL = frozenset({"(", ",", ":", "-", "=", "—"})
_BEFORE_LEVEL = frozenset({"at", "of", "in", "to", "on", "for", "into", "the", "level", "(", ":", "-", "only", "alone"})


def _gap(note: _Note, lo: int, hi: int) -> list[str]:
    return [w for w in (note.text_of(t).lower() for t in range(lo, hi)) if w.strip()]


def _distance(note: _Note, s: Sentence, cue: Mention, group: list[Mention]) -> float:
    """How far a cue is from a group of levels; 'T9 (bilateral)' and 'bilateral at T9' are adjacent."""
    if group[0].token >= cue.token_end:  # group after the cue
        lo, hi = cue.token_end, group[0].token
        gap = _gap(note, lo, hi)
        d = 0.5 if set(gap) <= _BEFORE_LEVEL else len(gap) + 1.0
    else:
        lo, hi = group[-1].token_end, cue.token
        gap = _gap(note, lo, hi)
        d = 0.0 if set(gap) <= _AFTER_LEVEL else float(len(gap))
    if any(lo <= b < hi for b in s.clause_breaks):
        d += 100
    return d


def _kind(m: Mention) -> str:
    """Cues of one kind compete: APPROACH_BI and APPROACH_UNI, CEMENT_PMMA and CEMENT_GRAFT, ..."""
    head = m.label.split("_")[0]
    return head if head in ("APPROACH", "CEMENT", "CAVITY", "PROC", "IMAGING") else m.label


def _attach_sentence(note: _Note, s: Sentence, subject: list[list[Mention]] | None, inherited: bool) -> None:
    cues = [m for m in s.mentions if m.label != "LEVEL"]
    if not subject:
        for c in cues:
            note.to_all.append(Attached(c, RANK_ALL))
        return
    if inherited:
        levels = sorted({lv for g in subject for m in g for lv in m.levels}, key=level_index)
        rank = RANK_INHERITED if len(levels) == 1 else RANK_GROUP
        for c in cues:
            for lv in levels:
                note.by_level[lv].append(Attached(c, rank))
        return
    first_token = subject[0][0].token
    for c in cues:
        parallel = any(_kind(o) == _kind(c) and o.token > first_token for o in cues)
        if len(subject) > 1 and c.token_end <= first_token and not parallel:
            targets = [(g, RANK_GROUP) for g in subject]  # "Bilateral kyphoplasty of T12 (...) and L1 (...)"
        elif len(subject) == 1:
            targets = [(subject[0], RANK_DIRECT)]
        else:
            best = min(subject, key=lambda g: _distance(note, s, c, g))
            targets = [(best, RANK_DIRECT)]
        for g, rank in targets:
            if c.label in TREAT | CAVITY and all(m.modifiers & STOPPED for m in g):
                continue  # "No cement was placed at T9": the cue does not treat T9
            levels = {lv for m in g for lv in m.levels}
            if len(levels) > 1 and rank == RANK_DIRECT:
                rank = RANK_GROUP
            for lv in levels:
                note.by_level[lv].append(Attached(c, rank))


def _attach(note: _Note) -> None:
    current: list[list[Mention]] | None = None
    section = object()
    for s in note.sentences:
        for m in s.mentions:
            if m.label == "LEVEL":
                for lv in m.levels:
                    note.level_mentions[lv].append(m)
        if s.section != section:
            section, current = s.section, None
        if s.section not in NEGATION_SECTIONS:
            continue
        levels = _subject_levels(s)
        named = [m for m in s.mentions if m.label == "LEVEL" and not m.is_range]
        if named and not levels:
            continue  # "after T12 kyphoplasty (5 mL PMMA)": the cues belong to a prior or planned level
        if levels:
            words = {t: note.text_of(t).lower() for t in range(s.token_start, s.token_end)}
            groups = _groups(s, levels, words)
            _attach_sentence(note, s, groups, inherited=False)
            current = groups
        elif any(m.label == "ALL_LEVELS" for m in s.mentions):
            _attach_sentence(note, s, None, inherited=False)
        else:
            _attach_sentence(note, s, current, inherited=current is not None)


# ---------------------------------------------------------------- decisions


def _best(items: list[Attached], key=None) -> list[Attached]:
    """The attachments of the highest rank."""
    if not items:
        return []
    top = max(a.rank for a in items)
    return [a for a in items if a.rank == top]


def _latest(items: list[Attached]) -> Attached:
    return max(items, key=lambda a: (a.rank, a.mention.start))


def _ev(m: Mention, label: str) -> Evidence:
    return Evidence(m.start, m.end, m.text, label, m.section)


def _pos(items: list[Attached], labels) -> list[Attached]:
    return [a for a in items if a.mention.label in labels and positive(a.mention)]


def _neg(items: list[Attached], labels) -> list[Attached]:
    return [a for a in items if a.mention.label in labels and negated(a.mention)]


def _is_candidate(note: _Note, level: str, sacro_note: bool) -> list[Mention]:
    """Positive mentions of the level in a procedural section."""
    out = []
    for m in note.level_mentions[level]:
        if m.section not in PROCEDURAL or not positive(m):
            continue
        s = note.sentences[m.sent]
        has_treat = any(x.label in TREAT and positive(x) for x in s.mentions)
        if m.is_range and not has_treat:
            continue
        if level == "sacrum" and not (sacro_note or has_treat):
            continue
        out.append(m)
    return out


_ONE_SIDE = re.compile(r"\b(?:left|right|lt|rt|l|r)\b[^.;]{0,40}\b(?:pedicle|side|needle|cannula|trocar|approach|ala)")


def _one_side(note: _Note, m: Mention) -> bool:
    s = note.sentences[m.sent]
    return bool(_ONE_SIDE.search(note.text[s.start : s.end].lower()))


def _strong_negative(note: _Note, level: str) -> str | None:
    reason = None
    for a in note.by_level[level]:
        m = a.mention
        if a.rank >= RANK_INHERITED and "ABORTED" in m.modifiers and m.section in NEGATION_SECTIONS \
                and m.label in TREAT | {"SESSION"} and not _one_side(note, m):
            return "aborted"
    for m in note.level_mentions[level]:
        if m.section not in NEGATION_SECTIONS:
            continue
        if "ABORTED" in m.modifiers:
            if not _one_side(note, m):  # "the left pedicle attempt was abandoned" stops one side only
                return "aborted"
        if "NOT_TREATED" in m.modifiers and not _one_side(note, m):
            reason = "negated"
        elif "NEGATED_EXISTENCE" in m.modifiers:
            s = note.sentences[m.sent]
            if any(x.label in TREAT | CAVITY and negated(x) for x in s.mentions):
                reason = "negated"
    return reason


_NOT_FILLER = re.compile(r"contrast|lidocaine|bupivacaine|marcaine|anesthetic|saline|venogra|omnipaque|isovue")


def _fill_strength(note: _Note, a: Attached) -> int:
    """2: filler delivered; 1: the procedure is named or cement is mentioned; 0: no evidence."""
    m = a.mention
    if m.label not in TREAT or not positive(m) or m.section not in PROCEDURAL:
        return 0
    if m.label in PROC:
        return 1
    s = note.sentences[m.sent]
    material = any(x.label in CEMENT_TYPES or x.label == "CEMENT_GENERIC" for x in s.mentions if positive(x))
    if m.label == "CONVERT_VP":  # "direct cement injection"
        return 2
    if m.label == "FILL_VERB":
        if _NOT_FILLER.search(note.text[s.start : s.end].lower()) and not material:
            return 0
        return 2
    delivered = any(x.label in ("FILL_VERB", "VOLUME") and positive(x) for x in s.mentions)
    return 2 if delivered else 1


_DELIVERY_VERB = re.compile(r"\b(?:inject|instill|deliver|place|given|give|used|use|fill)")


def _delivery_negated(note: _Note, m: Mention) -> bool:
    """'No cement was injected', 'vertebroplasty not performed' (not 'no cement in the canal')."""
    if not negated(m):
        return False
    if m.label in DELIVERY_NAMES:
        return True
    if m.label == "CEMENT_GENERIC":  # "no PMMA was used" only names the material that was not used
        s = note.sentences[m.sent]
        return bool(_DELIVERY_VERB.search(note.text[s.start : s.end].lower()))
    return False


def _block_negative(note: _Note, items: list[Attached]) -> str | None:
    """'No cement was injected.' inside the level's own block."""
    for a in items:
        if a.rank >= RANK_INHERITED and a.mention.section in NEGATION_SECTIONS:
            if _delivery_negated(note, a.mention):
                return "negated"
            if "ABORTED" in a.mention.modifiers and a.mention.label in TREAT | {"SESSION"}:
                return "aborted"
    return None


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
    "zero one two three four five six seven eight nine ten".split())}


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


def _not_treated_reason(note: _Note, level: str) -> str:
    mentions = note.level_mentions[level]
    mods = set().union(*(m.modifiers for m in mentions)) if mentions else set()
    sections = {m.section for m in mentions}
    if level in note.corrected:
        return "other"
    if "ABORTED" in mods or _strong_negative(note, level) == "aborted":
        return "aborted"
    if "HISTORICAL" in mods:
        return "historical"
    if mods & NEGATING and sections & NEGATION_SECTIONS:
        return "negated"
    if "HYPOTHETICAL" in mods or sections & {"plan", "planned"}:
        return "planned"
    if "FINDING" in mods or sections & {"history", "findings", "comparison", "diagnosis", "assessment"}:
        return "finding"
    return "other"


def assemble(sentences: list[Sentence], text: str, token_text) -> NoteFacts:
    note = _Note(sentences, token_text)
    note.text = text  # type: ignore[attr-defined]
    note.is_total = lambda m: "total" in text[max(0, m.start - 24) : m.start].lower()  # type: ignore[attr-defined]
    note.in_parens = lambda m: text[max(0, m.start - 2) : m.start].strip().endswith("(")  # type: ignore[attr-defined]
    _apply_addendum_corrections(note)
    _attach(note)

    mentions = [m for s in sentences for m in s.mentions]
    procedural_cues = [m for m in mentions if m.section in PROCEDURAL and m.label != "LEVEL"]
    sacro_note = any(m.label == "PROC_SACRO" and positive(m) for m in procedural_cues)
    imaging = sorted(
        {
            "ct" if m.label == "IMAGING_CT" else "fluoroscopy"
            for m in mentions
            if m.label in ("IMAGING_CT", "IMAGING_FLUORO") and positive(m) and m.section in IMAGING_SECTIONS
        }
    )
    all_fill = [a for a in note.to_all if a.mention.label in TREAT and positive(a.mention)
                and a.mention.section in PROCEDURAL]

    # "no cement was injected at any level", "the procedure was stopped": a session-wide stop
    global_stop = None
    for a in note.to_all:
        m = a.mention
        if m.section not in PROCEDURAL:
            continue
        if _one_side(note, m):
            continue  # "R side abandoned, no cement on the right": the other side went on
        if "ABORTED" in m.modifiers and m.label in TREAT | {"SESSION", "NEEDLE"}:
            global_stop = "aborted"
        elif _delivery_negated(note, m) and global_stop is None:
            global_stop = "negated"

    treated: list[LevelFacts] = []
    for level in sorted(note.level_mentions, key=level_index):
        candidates = _is_candidate(note, level, sacro_note)
        if not candidates:
            continue
        items = note.by_level[level]
        fill = [a for a in items if _fill_strength(note, a)]
        strong = max([a.rank for a in fill if _fill_strength(note, a) == 2] + [0])
        weak = max([a.rank for a in fill] + ([RANK_ALL] if all_fill else [0]))
        stop = _strong_negative(note, level) or _block_negative(note, items) or global_stop
        # strong, specific proof of filling wins over a stop; a procedure name or a bare mention
        # of cement does not (titles name the planned procedure, cement is mixed before it is used)
        own_stop = _strong_negative(note, level)
        if not ((strong >= RANK_INHERITED and not own_stop) or strong == RANK_DIRECT or (weak and not stop)):
            continue
        if stop:
            note.concern(f"{level}: described as treated and also as {stop}", review=True)
        treated.append((level, candidates, items + note.to_all, fill))
    treated = [_level_facts(note, lv, c, it, f, imaging, len(treated) == 1) for lv, c, it, f in treated]

    treated_levels = {p.level for p in treated}
    biopsy_only = _biopsy_only(note, treated_levels, imaging)
    _biopsy_scope(note, treated, biopsy_only)

    not_treated = []
    for level in sorted(note.level_mentions, key=level_index):
        if level in treated_levels or level in {b.level for b in biopsy_only}:
            continue
        ms = note.level_mentions[level]
        if all("REFERENCE" in m.modifiers for m in ms):
            continue
        reason = _not_treated_reason(note, level)
        not_treated.append(NotTreated(level, reason, [_ev(ms[0], "LEVEL")]))

    needles_placed = any(m.label == "NEEDLE" and positive(m) and m.section in PROCEDURAL for m in mentions)
    needle_only = not treated and not biopsy_only and needles_placed and (
        any(nt.reason == "aborted" for nt in not_treated) or global_stop is not None
    )
    if needle_only:
        note.concern("needles were placed but no filler was delivered at any level", review=True)

    other = sorted(
        {
            m.literal
            for m in mentions
            if m.label == "OUT_OF_SCOPE" and positive(m) and m.section not in NOT_NOW_SECTIONS
        }
    )
    for p in treated:
        if p.approach == "unilateral" and p.side is None:
            note.concern(f"{p.level}: unilateral approach, side not stated", review=False)
        if p.cement is None:
            note.concern(f"{p.level}: filler material not named", review=False)
    for nt in not_treated:
        if nt.reason == "aborted":
            note.concern(f"{nt.level}: attempted and aborted before filling; not counted", review=False)

    facts = NoteFacts(
        procedures=treated,
        biopsy_only=biopsy_only,
        imaging=imaging if (treated or biopsy_only or needle_only) else [],
        not_treated=not_treated,
        other_procedures=other,
        needle_only=bool(needle_only),
        warnings=[c.message for c in note.concerns],
    )
    facts.review_reasons = [c.message for c in note.concerns if c.review]  # type: ignore[attr-defined]
    return facts


def _level_facts(note, level, candidates, items, fill, imaging, single) -> LevelFacts:
    technique, device, tech_ev = _technique(level, items)
    approach, appr_ev = _approach(items)
    side, side_ev = _side(items) if approach == "unilateral" else (None, [])
    cement, cement_ev = _cement(items)
    volume, vol_ev = _volume(note, items, single, approach)
    biopsy_pos = [a for a in _pos(items, {"BIOPSY"}) if a.rank >= RANK_GROUP and a.mention.section in BIOPSY_SECTIONS]
    evidence = [_ev(m, "LEVEL") for m in candidates]
    for label, group in (("TECHNIQUE", tech_ev), ("APPROACH", appr_ev), ("SIDE", side_ev),
                         ("CEMENT", cement_ev), ("VOLUME", vol_ev), ("BIOPSY", biopsy_pos[:2])):
        evidence += [_ev(a.mention, label) for a in group[:3]]
    if not tech_ev and fill:
        evidence += [_ev(a.mention, "FILL") for a in fill[:2]]
    return LevelFacts(
        level=level,
        technique=technique,
        approach=approach,
        side=side,
        cavity_device=device if technique != "vertebroplasty" else None,
        cement=cement,
        cement_volume_ml=volume,
        biopsy=bool(biopsy_pos),
        guidance=_guidance(items, imaging),
        evidence=_dedupe(evidence),
    )


def _dedupe(evidence: list[Evidence]) -> list[Evidence]:
    seen, out = set(), []
    for e in sorted(evidence, key=lambda e: (e.start, e.end, e.label)):
        if (e.start, e.end, e.label) not in seen:
            seen.add((e.start, e.end, e.label))
            out.append(e)
    return out


def _biopsy_only(note: _Note, treated: set[str], imaging: list[str]) -> list[BiopsyLevel]:
    out = []
    for level in sorted(note.level_mentions, key=level_index):
        if level in treated or level == "sacrum":
            continue
        pos = [a for a in _pos(note.by_level[level], {"BIOPSY"})
               if a.rank >= RANK_GROUP and a.mention.section in BIOPSY_SECTIONS]
        if not pos:
            continue
        if not any(m.section in BIOPSY_SECTIONS and not (m.modifiers & NOT_SUBJECT)
                   for m in note.level_mentions[level]):
            continue
        out.append(BiopsyLevel(level, _guidance(note.by_level[level], imaging), [_ev(pos[0].mention, "BIOPSY")]))
    return out


def _biopsy_scope(note: _Note, treated: list[LevelFacts], biopsy_only: list[BiopsyLevel]) -> None:
    """A biopsy stated without a level belongs to the only treated level, else it needs a coder."""
    unplaced = [a for a in note.to_all if a.mention.label == "BIOPSY" and positive(a.mention)
                and a.mention.section in BIOPSY_SECTIONS]
    if not unplaced or any(p.biopsy for p in treated) or biopsy_only:
        return
    if len(treated) == 1:
        treated[0].biopsy = True
        treated[0].evidence = _dedupe(treated[0].evidence + [_ev(unplaced[0].mention, "BIOPSY")])
    elif treated:
        note.concern("a biopsy is documented but the level it came from is not stated", review=True)

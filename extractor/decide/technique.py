"""Technique and cavity device of one level: augmentation when a cavity was made, else vertebroplasty.

A balloon counts as a cavity only once something was inflated; a conversion to direct cement
injection, or a denial that anything was inflated or a cavity made, after the last cavity cue makes
the level a vertebroplasty.
"""

from __future__ import annotations

from ..labels import Cue
from ..lexicon import lexicon
from .cues import CAVITY
from .note_index import Attachment, NoteIndex, Rank, most_specific, negated_cues, positive_cues


def decide_technique(level: str, attachments: list[Attachment], index: NoteIndex) -> tuple[str, str | None,
                                                                                    list[Attachment]]:
    """(technique, cavity device, the attachments that prove it)."""
    if level == "sacrum":
        cavity = most_specific(positive_cues(attachments, CAVITY))
        device = cavity_device(cavity, attachments) if cavity else None
        return "sacroplasty", device, cavity
    cavity = cavity_made(attachments)
    convert = positive_cues(attachments, {Cue.CONVERT_VP})
    if convert:
        last_convert = max(a.mention.start for a in convert)
        later_cavity = [a for a in cavity if a.rank >= Rank.INHERITED and a.mention.start > last_convert]
        if not later_cavity:
            return "vertebroplasty", None, convert
    # "the balloon was NOT inflated and no cavity was created": a denial said of this level after its last
    # cavity cue (often a template's default "Cavity creation: balloon") decides; not a denial of the
    # balloon alone ("no balloon rupture")
    denied = [a for a in negated_cues(attachments, {Cue.INFLATE, Cue.CAVITY_ANY}) if a.rank >= Rank.INHERITED
              and denial_of_this_level(index, a, level)]
    if cavity and denied:
        last_denial = max(a.mention.start for a in denied)
        if not [a for a in cavity if a.rank >= Rank.INHERITED and a.mention.start > last_denial]:
            return "vertebroplasty", None, denied
    if cavity:
        return "augmentation", cavity_device(cavity, attachments), most_specific(cavity)
    if negated_cues(attachments, CAVITY):
        return "vertebroplasty", None, negated_cues(attachments, CAVITY)
    balloons = positive_cues(attachments, {Cue.CAVITY_BALLOON})
    named_aug = [a for a in positive_cues(attachments, {Cue.PROC_AUG}) if a.rank >= Rank.INHERITED]
    # every sentence naming this level's balloon counts, a hypothetical one too ("rather than risk a breach,
    # the balloon was removed without being inflated")
    handled = [a for a in attachments if a.mention.label == Cue.CAVITY_BALLOON and a.rank >= Rank.INHERITED]
    if balloons and named_aug and not negated_cues(attachments, {Cue.CAVITY_BALLOON}) and not any(
            says_no_cavity(index, a) for a in balloons + handled):
        # "kyphoplasty of L1 with a Kyphon balloon": the procedure done with the balloon is an augmentation
        # without the word "inflated" (a balloon never inflated is denied above, and no conversion was said)
        return "augmentation", "balloon", most_specific(balloons + named_aug)
    if balloons:  # a balloon was handled but nothing says it was inflated
        return "vertebroplasty", None, balloons
    aug = most_specific(positive_cues(attachments, {Cue.PROC_AUG}))
    vp = most_specific(positive_cues(attachments, {Cue.PROC_VP}))
    aug_rank = aug[0].rank if aug else 0
    vp_rank = vp[0].rank if vp else 0
    if aug_rank > vp_rank or (aug_rank and aug_rank == vp_rank and len(aug) > len(vp)):
        text = " ".join(a.mention.text.lower() for a in aug)
        device = "balloon" if any(w in text for w in lexicon().words("balloon_words")) else None
        return "augmentation", device, aug
    return "vertebroplasty", None, vp


def denial_of_this_level(index: NoteIndex, a: Attachment, level: str) -> bool:
    """The cue's sentence denies a cavity ("the balloon was NOT inflated") and names no other level: a
    flattened table row of the level before it is not about this one."""
    named = {lv for m in index.sentence_of(a.mention).mentions if m.label == Cue.LEVEL for lv in m.levels}
    return named <= {level} and says_no_cavity(index, a)


def says_no_cavity(index: NoteIndex, a: Attachment) -> bool:
    """The cue's sentence denies that a cavity was made (patterns/lexicons.json, cavity_denied)."""
    return bool(lexicon().regex("cavity_denied").search(index.sentence_text(index.sentence_of(a.mention))))


def cavity_made(attachments: list[Attachment]) -> list[Attachment]:
    """Cues proving a cavity was made. A balloon counts only once something was inflated: a tamp
    that was opened, passed or prepared but never inflated made no cavity."""
    inflations = positive_cues(attachments, {Cue.INFLATE})
    devices = positive_cues(attachments, CAVITY - {Cue.INFLATE})
    made = [a for a in devices if a.mention.label != Cue.CAVITY_BALLOON or inflations]
    if inflations and not any(a.mention.label != Cue.CAVITY_ANY for a in made):
        made += [a for a in devices if a.mention.label == Cue.CAVITY_BALLOON] or inflations
    return made


def cavity_device(cavity: list[Attachment], attachments: list[Attachment]) -> str | None:
    """balloon | mechanical | None, from the most specific cavity cues first."""
    for pool in (most_specific(cavity), cavity):
        labels = {a.mention.label for a in pool}
        if labels & {Cue.CAVITY_BALLOON, Cue.INFLATE}:
            return "balloon"
        if Cue.CAVITY_MECH in labels:
            return "mechanical"
    return None

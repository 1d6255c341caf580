"""NoteFacts -> CPT / Category III codes (and ICD-10-PCS), by coding-rules.md part 0.

The codes and the rule parameters (which primary for which region, which add-on, which imaging code)
live in ``tables/*.json``; this module holds the logic only. It never imports spaCy.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from extractor.coding.claim import claim_extras
from extractor.coding.codebook import CODE_SETS, REGIONS, Codebook, load_codebook
from extractor.coding.result import Code, CodingResult, PcsCode
from extractor.concerns import Concern, ConcernCode, add_concern, messages
from extractor.facts import LEVEL_ORDER, TECHNIQUES, NoteFacts, ServiceDate, level_index, region_of

GUIDANCE = ("ct", "fluoroscopy")
APPROACHES = ("unilateral", "bilateral")
CODE_SET_CHOICES = CODE_SETS + ("auto",)
DateLike = _dt.date | str | None

_TECHNIQUE_WORDS = {
    "vertebroplasty": "vertebroplasty (filler injected, no cavity created)",
    "augmentation": "augmentation (cavity created, then filled)",
}
_MODALITY_WORDS = {"ct": "CT", "fluoroscopy": "fluoroscopy"}


# ---------------------------------------------------------------------------------------------
# inputs


def parse_date(value: DateLike) -> _dt.date | None:
    """None, a date, a datetime or an ISO string ("2014-06-30", "2014-06-30T10:15") -> date."""
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return _dt.date.fromisoformat(text)
        except ValueError:
            try:
                return _dt.datetime.fromisoformat(text).date()
            except ValueError:
                raise ValueError(f"date_of_service {value!r} is not an ISO date (YYYY-MM-DD)") from None
    raise TypeError(f"date_of_service must be a date, an ISO string or None, not {type(value).__name__}")


def resolve_code_set(code_set: str, date_of_service: DateLike = None) -> str:
    """current | legacy | auto -> current | legacy. auto: legacy before 2015-01-01, else current."""
    if code_set not in CODE_SET_CHOICES:
        raise ValueError(f"code_set must be one of {CODE_SET_CHOICES}, not {code_set!r}")
    if code_set != "auto":
        return code_set
    day = parse_date(date_of_service)
    if day is not None and day < load_codebook().legacy_before:
        return "legacy"
    return "current"


@dataclass
class _Body:
    """A treated body after validation and de-duplication."""

    level: str
    technique: str
    approach: str | None
    biopsy: bool
    guidance: str | None
    cement: str | None

    @property
    def region(self) -> str:
        return region_of(self.level)


@dataclass
class _Biopsy:
    level: str
    guidance: str | None


@dataclass
class _Notes:
    concerns: list[Concern] = field(default_factory=list)
    review: bool = False  # the code mapper asks for review (its own call, by coding-rules.md)

    def warn(self, code: ConcernCode, message: str, levels: Iterable[str] = (), review: bool = False) -> None:
        add_concern(self.concerns, Concern(code, message, tuple(levels)))
        self.review = self.review or review


def _check_level(level: str) -> str:
    if level not in LEVEL_ORDER:
        raise ValueError(f"unknown level {level!r}; expected one of C1..C7, T1..T12, L1..L5, sacrum")
    return level


def _check_choice(value: str | None, allowed: tuple[str, ...], what: str) -> str | None:
    if value is None:
        return None
    value = value.lower()
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; expected one of {allowed} or None")
    return value


def _joined(levels: Iterable[str]) -> str:
    return ", ".join(levels)


def _treated_bodies(facts: NoteFacts, notes: _Notes) -> list[_Body]:
    """One _Body per treated level, spine order; duplicates merged, techniques made consistent."""
    entries: dict[str, list] = {}
    for lf in facts.procedures:
        entries.setdefault(_check_level(lf.level), []).append(lf)
    bodies = []
    for level in sorted(entries, key=level_index):
        group = entries[level]
        techniques = {_check_choice(lf.technique, TECHNIQUES, "technique") for lf in group}
        approaches = {_check_choice(lf.approach, APPROACHES, "approach") for lf in group}
        guidances = {_check_choice(lf.guidance, GUIDANCE, "guidance") for lf in group}
        cements = [lf.cement for lf in group if lf.cement]
        if level == "sacrum":
            if techniques != {"sacroplasty"}:
                notes.warn(
                    ConcernCode.SACRUM_NOT_SACROPLASTY, f"sacrum recorded as {'/'.join(sorted(techniques))}: coded as sacroplasty (0200T/0201T); "
                    "if the note explicitly describes vertebroplasty of the S1 body with no sacroplasty "
                    "wording, a coder may use 22511 instead (rule 4, unconfirmed)",
                    [level], review=True,
                )
            technique = "sacroplasty"
        else:
            if "sacroplasty" in techniques:
                cavity = any(lf.cavity_device for lf in group)
                techniques.discard("sacroplasty")
                techniques.add("augmentation" if cavity else "vertebroplasty")
                notes.warn(
                    ConcernCode.SACROPLASTY_OFF_SACRUM, f"{level} recorded as sacroplasty, which only applies to the sacrum: coded as "
                    f"{'augmentation' if cavity else 'vertebroplasty'}; check the facts",
                    [level], review=True,
                )
            if techniques == {"vertebroplasty", "augmentation"}:
                notes.warn(
                    ConcernCode.BOTH_TECHNIQUES_ONE_BODY,
                    f"{level} recorded as both vertebroplasty and augmentation: the same body is coded "
                    "once, as augmentation (rule 12)", [level],
                )
            elif len(group) > 1:
                notes.warn(ConcernCode.LEVEL_LISTED_TWICE,
                           f"{level} listed {len(group)} times among the treated bodies; coded once", [level])
            technique = "augmentation" if "augmentation" in techniques else "vertebroplasty"
        bodies.append(
            _Body(
                level=level,
                technique=technique,
                approach="bilateral" if "bilateral" in approaches
                else "unilateral" if "unilateral" in approaches else None,
                biopsy=any(lf.biopsy for lf in group),
                guidance="ct" if "ct" in guidances else "fluoroscopy" if "fluoroscopy" in guidances else None,
                cement="bone_graft" if "bone_graft" in cements else (cements[0] if cements else None),
            )
        )
    return bodies


def _biopsy_only(facts: NoteFacts, treated: list[_Body], notes: _Notes) -> list[_Biopsy]:
    by_level = {b.level: b for b in treated}
    found: dict[str, _Biopsy] = {}
    for b in facts.biopsy_only:
        level = _check_level(b.level)
        guidance = _check_choice(b.guidance, GUIDANCE, "guidance")
        if level in by_level:
            by_level[level].biopsy = True
            notes.warn(ConcernCode.BIOPSY_ONLY_LEVEL_TREATED,
                       f"{level} is listed as biopsy-only but was treated: its biopsy is included (rule 14)", [level])
        elif level in found:
            if guidance == "ct" or found[level].guidance is None:
                found[level].guidance = guidance
        else:
            found[level] = _Biopsy(level, guidance)
    return [found[k] for k in sorted(found, key=level_index)]


def _imaging(facts: NoteFacts) -> frozenset[str]:
    return frozenset(_check_choice(m, GUIDANCE, "imaging modality") for m in facts.imaging if m)


def _guidance(stated: str | None, imaging: frozenset[str], both: str, subject: str) -> tuple[str, str, bool]:
    """(modality, how it was decided, ambiguous?): the stated guidance, else the session's only
    modality, else ``both`` when CT and fluoroscopy were both used, else fluoroscopy."""
    if stated:
        return stated, f"stated for this {subject}", False
    if len(imaging) == 1:
        (only,) = imaging
        return only, f"{_MODALITY_WORDS[only]} was the only guidance in the session", False
    if imaging:
        return both, f"assumed: CT and fluoroscopy both used, {_MODALITY_WORDS[both]} taken for this {subject}", True
    return "fluoroscopy", "assumed: no guidance imaging recorded", True


def _treated_guidance(body: _Body, imaging: frozenset[str]) -> tuple[str, str, bool]:
    """Guidance of a treated body (legacy 72291/72292); both modalities -> fluoroscopy, flagged."""
    return _guidance(body.guidance, imaging, "fluoroscopy", "body")


def _biopsy_guidance(biopsy: _Biopsy, imaging: frozenset[str]) -> tuple[str, str, bool]:
    """Guidance of a biopsy-only body; both modalities -> CT (the usual CT-guided biopsy), flagged."""
    return _guidance(biopsy.guidance, imaging, "ct", "biopsy")


# ---------------------------------------------------------------------------------------------
# drafting codes


@dataclass
class _Draft:
    code: str
    units: int
    levels: list[str]
    rationale: str
    modifiers: list[str] = field(default_factory=list)


def _code_family(
    family: str, bodies: list[_Body], rules: Mapping
) -> tuple[_Draft | None, _Draft | None, list[_Body]]:
    """(primary, add-on, bodies left for the unlisted code) for one family of treated bodies."""
    fam = rules[family]
    unlisted = [b for b in bodies if b.region in fam["unlisted_regions"]]
    counted = [b for b in bodies if b.region not in fam["unlisted_regions"]]
    if not counted:
        return None, None, unlisted
    regions = {b.region for b in counted}
    entry = next(e for e in fam["primary"] if regions & set(e["regions"]))
    first = next(b for b in counted if b.region in entry["regions"])
    rest = [b for b in counted if b is not first]
    words = _TECHNIQUE_WORDS[family]
    rationale = (
        f"{words[0].upper()}{words[1:]} at {_joined(b.level for b in counted)}: one primary per family per "
        f"session (rule 6); {entry['code']} ({'/'.join(entry['regions'])}) stands for {first.level}."
    )
    others = sorted(regions - set(entry["regions"]), key=REGIONS.index)
    if others:
        rationale += (
            f" The family spans {'/'.join(entry['regions'])} and {'/'.join(others)} bodies, so the "
            f"{'/'.join(entry['regions'])} primary is chosen (thoracic primary per the AAPC correction, "
            "rule 7; never two primaries); a coder following 'first treated body' may override."
        )
    primary = _Draft(entry["code"], 1, [first.level], rationale)
    add_on = None
    if rest:
        add_on = _Draft(
            fam["add_on"],
            len(rest),
            [b.level for b in rest],
            f"Each {family} body beyond the primary is one unit of {fam['add_on']}, whatever its region "
            f"(rule 6): {_joined(b.level for b in rest)}; add-on codes take no modifier 51/59 (rule 8).",
        )
    return primary, add_on, unlisted


def _sacroplasty(body: _Body, rules: Mapping, notes: _Notes) -> _Draft:
    table = rules["sacroplasty"]
    if body.approach is None:
        code = table["approach_not_stated"]
        notes.warn(
            ConcernCode.SACROPLASTY_APPROACH_NOT_STATED,
            f"sacroplasty approach not stated: {code} (one side) assumed; use {table['bilateral']} if the "
            "sacrum was injected from both sides",
            ["sacrum"], review=True,
        )
        why = f"approach not stated, so {code} is assumed (review)"
    else:
        code = table[body.approach]
        why = f"{body.approach} approach"
    return _Draft(
        code, 1, ["sacrum"],
        f"Sacroplasty, {why}: one code per session (rule 4); imaging guidance and biopsy included (rule 18).",
    )


def _codes_for_treated(
    treated: list[_Body], biopsies: list[_Biopsy], imaging: frozenset[str], code_set: str,
    book: Codebook, notes: _Notes,
) -> list[_Draft]:
    rules = book.rules(code_set)
    drafts: list[_Draft] = []
    unlisted: list[_Body] = []
    primaries = {}
    for family in ("vertebroplasty", "augmentation"):
        primary, add_on, left = _code_family(family, [b for b in treated if b.technique == family], rules)
        unlisted += left
        primaries[family] = primary
        drafts += [d for d in (primary, add_on) if d]
    if primaries["vertebroplasty"] and primaries["augmentation"]:
        modifier = rules["mixed_families_modifier"]
        primaries["vertebroplasty"].modifiers.append(modifier)
        primaries["vertebroplasty"].rationale += (
            f" Modifier {modifier} (or XS): augmentation is reported at different bodies in the same "
            "session (rule 11; unconfirmed NCCI pairing)."
        )
    if unlisted:
        unlisted.sort(key=lambda b: level_index(b.level))
        what = sorted({f"{b.region} {b.technique}" for b in unlisted})
        code = rules["unlisted"]
        drafts.append(
            _Draft(
                code, 1, [b.level for b in unlisted],
                f"No specific code for {' and '.join(what)} in the {code_set} set: unlisted spine procedure, "
                f"one per session, for {_joined(b.level for b in unlisted)} (rules 3, 20).",
            )
        )
        notes.warn(
            ConcernCode.UNLISTED_CODE,
            f"unlisted code {code} for {' and '.join(what)} ({_joined(b.level for b in unlisted)}): the claim "
            "needs the operative note and a comparison code",
            [b.level for b in unlisted], review=True,
        )
    sacrum = [b for b in treated if b.technique == "sacroplasty"]
    if sacrum:
        drafts.append(_sacroplasty(sacrum[0], rules, notes))

    if biopsies:
        biopsy = rules["biopsy"]
        levels = [b.level for b in biopsies]
        drafts.append(
            _Draft(
                biopsy["code"], len(levels), levels,
                f"Biopsy of {_joined(levels)}, not treated in a session that treats other bodies: one unit "
                f"per body with modifier {biopsy['modifier_when_others_treated']} (or XS) for a separate "
                "vertebral body (rule 14); biopsies of treated bodies are included.",
                [biopsy["modifier_when_others_treated"]],
            )
        )
        treated_ct = any(_treated_guidance(b, imaging)[0] == "ct" for b in treated)
        ct_only = [b.level for b in biopsies if _biopsy_guidance(b, imaging)[0] == "ct"]
        if ct_only and not treated_ct:
            notes.warn(
                ConcernCode.CT_GUIDED_BIOPSY_ONLY,
                f"CT guided only the biopsy of {_joined(ct_only)}: a coder may add 77012-59 (rule 14)",
                ct_only, review=True,
            )

    if rules["treated_body_imaging"]:
        drafts += _per_body_imaging(treated, bool(biopsies), imaging, rules["treated_body_imaging"], notes)
    return drafts


def _per_body_imaging(
    treated: list[_Body], with_biopsies: bool, imaging: frozenset[str], per_body: Mapping, notes: _Notes
) -> list[_Draft]:
    """Legacy imaging: one unit per treated body (sacrum = 1), by the modality that guided it."""
    out: list[_Draft] = []
    groups: dict[str, dict[str, list[str]]] = {}  # code -> how it was decided -> levels
    ambiguous_levels, ambiguous_how = [], ""
    for body in treated:
        modality, how, ambiguous = _treated_guidance(body, imaging)
        if ambiguous:
            ambiguous_levels.append(body.level)
            ambiguous_how = how
        groups.setdefault(per_body[modality], {}).setdefault(f"{_MODALITY_WORDS[modality]}, {how}", []).append(
            body.level
        )
    if ambiguous_levels:
        notes.warn(
            ConcernCode.GUIDANCE_NOT_RECORDED,
            f"guidance modality not recorded for {_joined(ambiguous_levels)} "
            f"({ambiguous_how}): "
            f"{per_body['fluoroscopy']} used; {per_body['ct']} if CT guided the needle placement",
            ambiguous_levels, review=True,
        )
    for code in sorted(groups):
        levels = sorted((lv for lvs in groups[code].values() for lv in lvs), key=level_index)
        why = "; ".join(f"{_joined(lvs)}: {how}" for how, lvs in groups[code].items())
        text = (
            "Imaging reported separately before 2015: one unit per treated body or sacrum, by the modality "
            f"that guided its treatment (CT-guided needle placement counts as CT) (rule 20): {why}."
        )
        if with_biopsies:
            text += " Biopsy-only bodies are not counted."
        text += " Add modifier 26 for the professional component in a facility."
        out.append(_Draft(code, len(levels), levels, text))
    return out


def _codes_for_biopsy_only(biopsies: list[_Biopsy], imaging: frozenset[str], code_set: str,
                           book: Codebook, notes: _Notes) -> list[_Draft]:
    rules = book.rules(code_set)
    levels = [b.level for b in biopsies]
    drafts = [
        _Draft(
            rules["biopsy"]["code"], len(levels), levels,
            f"Biopsy-only session (no body treated): one unit per biopsied body: {_joined(levels)} (rule 21).",
        )
    ]
    decided = [_biopsy_guidance(b, imaging) for b in biopsies]
    for b, (modality, how, ambiguous) in zip(biopsies, decided):
        if ambiguous:
            notes.warn(ConcernCode.BIOPSY_GUIDANCE_NOT_RECORDED,
                       f"{b.level}: biopsy guidance not recorded ({how}); check the imaging code", [b.level],
                       review=True)
    modality = "ct" if any(m == "ct" for m, _, _ in decided) else "fluoroscopy"
    code = rules["biopsy_only_imaging"][modality]
    drafts.append(
        _Draft(
            code, 1, levels,
            f"Biopsy-only session: imaging guidance is reported once, {code} because "
            f"{_MODALITY_WORDS[modality]} guided the biopsy "
            f"({'; '.join(f'{b.level}: {how}' for b, (_, how, _) in zip(biopsies, decided))}).",
        )
    )
    return drafts


def _pcs_codes(treated: list[_Body], biopsies: list[_Biopsy], book: Codebook, notes: _Notes) -> list[PcsCode]:
    pcs = book.pcs
    out = []
    for body in treated:
        row = pcs["supplement"][body.region]
        out.append(PcsCode(row["code"], body.level, row["description"], "Supplement"))
        if body.cement == "bone_graft":
            notes.warn(
                ConcernCode.PCS_BONE_GRAFT,
                f"ICD-10-PCS: {body.level} was filled with bone graft; {row['code']} assumes a synthetic "
                "substitute (device J): use 7 (autologous) or K (nonautologous tissue substitute) instead",
                [body.level],
            )
    for level in [b.level for b in treated if b.biopsy] + [b.level for b in biopsies]:
        row = pcs["diagnostic_excision"][region_of(level)]
        out.append(PcsCode(row["code"], level, row["description"], "Excision"))
    out.sort(key=lambda p: (level_index(p.level), p.root_operation != "Supplement", p.code))
    return out


# ---------------------------------------------------------------------------------------------
# the public entry point


def assign_codes(
    facts: NoteFacts, code_set: str = "current", date_of_service: DateLike = None
) -> CodingResult:
    """Codes for one session's facts.

    code_set: "current" (CPT from 2015), "legacy" (before 2015) or "auto" (legacy when the date of
    service is before 2015-01-01, current otherwise or when no date is given).
    Deterministic: the same facts give the same result, whatever the order of their lists.
    """
    book = load_codebook()
    service = _service_date(facts, date_of_service)
    day = parse_date(service.value)
    resolved = resolve_code_set(code_set, day)
    notes = _Notes()
    imaging = _imaging(facts)
    treated = _treated_bodies(facts, notes)
    biopsies = _biopsy_only(facts, treated, notes)
    aborted = sorted({_check_level(n.level) for n in facts.not_treated if n.reason == "aborted"}, key=level_index)

    if treated:
        drafts = _codes_for_treated(treated, biopsies, imaging, resolved, book, notes)
        if facts.needle_only:
            notes.warn(ConcernCode.NEEDLE_ONLY_BUT_TREATED,
                       "needle_only is set but bodies were treated: the treated bodies are coded; check the facts",
                       review=True)
        if aborted:
            notes.warn(ConcernCode.ABORTED_NOT_COUNTED,
                       f"aborted before any filler, not counted: {_joined(aborted)} (rule 21)", aborted)
    elif biopsies:
        drafts = _codes_for_biopsy_only(biopsies, imaging, resolved, book, notes)
        if facts.needle_only or aborted:
            where = f" at {_joined(aborted)}" if aborted else ""
            notes.warn(ConcernCode.PLANNED_NOT_COMPLETED,
                       f"planned treatment not completed{where}: only the biopsy is coded (rule 21)", aborted)
    else:
        drafts = []
        where = f" ({_joined(aborted)})" if aborted else ""
        if facts.needle_only or (aborted and not facts.session_cancelled):
            notes.warn(
                ConcernCode.NO_FILLER_NO_CODE,
                f"needles placed but no filler delivered anywhere{where}: no procedure code; a physician claim "
                "would use the planned code with modifier 53, a facility claim 73/74 (rule 22)",
                aborted, review=True,
            )
        elif facts.session_cancelled:
            notes.warn(
                ConcernCode.SESSION_CANCELLED,
                f"session cancelled before any needle{where}: no procedure code and nothing on the physician "
                "claim; a facility claim reports the planned code with modifier 73 if the patient was prepared "
                "and in the room before anesthesia, 74 once anesthesia or sedation was given; an elective "
                "cancellation is not reported (rule 22)",
                aborted, review=True,
            )

    if len(treated) > book.bodies_review_above:
        notes.warn(
            ConcernCode.MANY_BODIES,
            f"{len(treated)} bodies treated in one session (more than {book.bodies_review_above}): all coded; "
            f"{book.bodies_review_reason}; check the documentation of medical necessity",
            [b.level for b in treated], review=True,
        )
    for draft in drafts:
        info = book.info(draft.code)
        if info.mue is not None and draft.units > info.mue:
            notes.warn(
                ConcernCode.MUE_EXCEEDED,
                f"{draft.code} x {draft.units} is above the MUE of {info.mue} units per day "
                f"({info.mue_confidence}): expect a denial without documentation",
                draft.levels, review=True,
            )
        if day is not None and not info.effective_on(day):
            span = f"{info.effective_from or 'any date'} to {info.effective_to or 'now'}"
            notes.warn(
                ConcernCode.CODE_NOT_VALID_ON_DATE,
                f"{draft.code} is not valid for a date of service of {day.isoformat()} (valid {span}); "
                f"check the code set ({resolved} was used)",
                draft.levels, review=True,
            )
    if code_set == "auto" and day is None and drafts:
        notes.warn(ConcernCode.AUTO_WITHOUT_DATE,
                   "code set auto: no date of service given or stated in the note; the current set (CPT 2015 "
                   "onward) was assumed")
    seen = set()
    for name in facts.other_procedures:
        if name and name not in seen:
            seen.add(name)
            notes.warn(ConcernCode.OUT_OF_SCOPE, f"out of scope, not coded: {name}; a coder should add it",
                       review=True)

    pcs = _pcs_codes(treated, biopsies, book, notes)
    drafts.sort(key=lambda d: (book.family_rank(book.info(d.code).family), d.code))
    codes = [
        Code(
            code=d.code,
            units=d.units,
            system=book.info(d.code).system,
            modifiers=list(d.modifiers),
            levels=list(d.levels),
            description=book.info(d.code).description,
            rationale=d.rationale,
        )
        for d in drafts
    ]
    extras = claim_extras(facts, codes, resolved, day, facts.concerns + notes.concerns)
    for concern in extras.concerns:
        add_concern(notes.concerns, concern)
    return CodingResult(
        code_set=resolved,
        codes=codes,
        pcs_codes=pcs,
        warnings=messages(notes.concerns),
        review=notes.review,
        date_of_service=service,
        concerns=list(notes.concerns),
        additional_codes=extras.codes,
        queries=extras.queries,
        info=extras.info,
    )


def _service_date(facts: NoteFacts, given: DateLike) -> ServiceDate:
    """The caller's date when given, else the one the note states, else none."""
    day = parse_date(given)
    if day is not None:
        return ServiceDate(day.isoformat(), "caller")
    if facts.stated_date is not None and facts.stated_date.value is not None:
        return facts.stated_date
    return ServiceDate(None, "none")

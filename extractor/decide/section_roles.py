"""What each section category means for the session: which sections report what was done now.

Text before the first heading has section None and counts as procedural (most short notes).
"""

from __future__ import annotations

from ..labels import Section

# sections whose sentences describe what was done in this session
PROCEDURAL = frozenset({None, Section.PROCEDURE_TITLE, Section.TECHNIQUE, Section.IMPRESSION, Section.ADDENDUM,
                        Section.IMPLANTS})
# a biopsy is reported here too
BIOPSY_SECTIONS = PROCEDURAL | {Section.SPECIMENS}
# a denial or an abort here is about this session
NEGATION_SECTIONS = PROCEDURAL | {Section.COMPLICATIONS, Section.FINDINGS, Section.SPECIMENS}
# imaging that guided this session is named here
IMAGING_SECTIONS = PROCEDURAL | {Section.FINDINGS, Section.COMPLICATIONS}
# sections about another time: the past, the plan, the reason for the procedure
NOT_NOW_SECTIONS = frozenset({Section.HISTORY, Section.COMPARISON, Section.PLAN, Section.PLANNED, Section.DIAGNOSIS,
                              Section.ASSESSMENT})
PLAN_SECTIONS = frozenset({Section.PLAN, Section.PLANNED})
# a procedure named here was done at another time
HISTORY_SECTIONS = frozenset({Section.HISTORY, Section.COMPARISON})
# a level named only here is a finding, not a treatment
FINDING_SECTIONS = frozenset({Section.HISTORY, Section.FINDINGS, Section.COMPARISON, Section.DIAGNOSIS,
                              Section.ASSESSMENT})

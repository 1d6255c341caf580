"""What the sentence splitter treats as an abbreviation, a list mark, a per-level label, an end mark."""

import re

from ...levels import grammar
from ...lexicon import lexicon

# a period after these does not end a sentence (patterns/lexicons.json)
ABBREVIATIONS = frozenset(lexicon().words("sentence_abbreviations"))
# a line starting with one of these starts a sentence: "1.", "a)", "-", "[x]"
LIST_MARK = re.compile(r"^(?:\d{1,2}[.)]|[-*#>|]|\[[ xX]?\]|[a-z][.)])$")
# a line starting "T12:" (a level written as one token, from the level grammar) or "Sacroplasty:"
LEVEL_LABEL = re.compile(rf"^(?:{grammar().label_token}|sacroplasty)$", re.IGNORECASE)
TERMINAL = {".", "!", "?", ":", ";"}

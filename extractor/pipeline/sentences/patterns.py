"""What the sentence splitter treats as an abbreviation, a list mark, a per-level label, an end mark."""

import re

from ...levels import grammar

# a period after these does not end a sentence
ABBREVIATIONS = frozenset(
    ["dr", "mr", "mrs", "ms", "vs", "e.g", "i.e", "approx", "st", "no", "fig", "pt", "etc", "cf", "al", "inc", "ca",
     "jr", "sr", "prof", "dept"]
)
# a line starting with one of these starts a sentence: "1.", "a)", "-", "[x]"
LIST_MARK = re.compile(r"^(?:\d{1,2}[.)]|[-*#>|]|\[[ xX]?\]|[a-z][.)])$")
# a line starting "T12:" (a level written as one token, from the level grammar) or "Sacroplasty:"
LEVEL_LABEL = re.compile(rf"^(?:{grammar().label_token}|sacroplasty)$", re.IGNORECASE)
TERMINAL = {".", "!", "?", ":", ";"}

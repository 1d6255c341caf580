"""patterns/lexicons.json, sedation.json, dates.json: every regex entry matches its examples, and every
entry is used by the code."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest

import extractor
from extractor.lexicon import LEXICON_FILES, lexicon

ENTRIES = {
    (file, name): entry
    for file in LEXICON_FILES
    for name, entry in json.loads((files("extractor.patterns") / f"{file}.json").read_text(encoding="utf-8"))[
        "lexicons"
    ].items()
}
REGEX_ENTRIES = sorted(key for key, entry in ENTRIES.items() if "regex" in entry)


def _finds(file: str, name: str, text: str) -> bool:
    pattern = lexicon(file).regex(name)
    use = ENTRIES[file, name].get("use", "search")
    return bool(pattern.match(text) if use == "match" else pattern.search(text))


@pytest.mark.parametrize("file, name", REGEX_ENTRIES, ids=[f"{f}:{n}" for f, n in REGEX_ENTRIES])
def test_regex_entry_examples(file, name):
    examples = ENTRIES[file, name]["examples"]
    assert examples["match"] and examples["no_match"], f"{name}: needs examples both ways"
    for text in examples["match"]:
        assert _finds(file, name, text), f"{name} should find {text!r}"
    for text in examples["no_match"]:
        assert not _finds(file, name, text), f"{name} should not find {text!r}"


def test_every_entry_is_documented_and_has_one_kind():
    for (file, name), entry in ENTRIES.items():
        assert entry.get("about"), name
        assert ("regex" in entry) != ("words" in entry), f"{file}:{name}: a regex or a word list, not both"
        if "words" in entry:
            assert entry["words"] and all(isinstance(w, str) for w in entry["words"]), name


def test_every_entry_is_used_by_the_code():
    source = "\n".join(p.read_text() for p in Path(extractor.__file__).parent.rglob("*.py"))
    unused = [f"{file}:{name}" for file, name in ENTRIES if f'"{name}"' not in source]
    assert not unused, f"entries no code reads: {unused}"


def test_unknown_entry_or_file_raises():
    with pytest.raises(KeyError):
        lexicon().words("no_such_list")
    with pytest.raises(KeyError):
        lexicon("no_such_file")


def test_screenable_text_is_ascii_without_the_separators_only_unicode_whitespace_matches():
    from extractor.lexicon import screenable

    assert screenable("Moderate sedation, 25 min.\n")
    assert not screenable("Sédation modérée")  # IGNORECASE folds non-ASCII letters (ſ, K) to ASCII ones
    assert not screenable("moderate\x1csedation")  # Python's \s matches \x1c, Hyperscan's does not


def test_a_screen_searches_as_each_entry_would_on_every_corpus_sentence():
    from extractor.decide.sedation import SCREENED

    root = Path(__file__).resolve().parents[1]
    screen = lexicon("sedation").screen(SCREENED)
    assert lexicon("sedation").screen(SCREENED) is screen  # built once
    chunks = [chunk for path in sorted((root / "corpora").glob("*/*.txt"))
              for chunk in path.read_text(encoding="utf-8").replace("\n", ". ").split(". ")]
    chunks += ["Sédation modérée, midazolam 2 mg.", "moderate\x1csedation by the RN", ""]
    skipped = 0
    for chunk in chunks:
        search = screen.searcher(chunk)
        for name in SCREENED + ("age",):  # an entry outside the screen is searched as it is
            found, expected = search(name), lexicon("sedation").regex(name).search(chunk)
            assert (found and found.span()) == (expected and expected.span()), (name, chunk)
    # on the corpora nearly every (sentence, entry) pair is ruled out without calling re
    if extractor.regex_scan.hyperscan is not None:
        possible = [p for chunk in chunks if chunk.isascii() for p in screen._scanner.may_match(chunk)]
        skipped = possible.count(False)
        assert skipped > len(possible) // 2

"""The JSON code tables: complete, consistent, and what rules.py relies on."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from extractor.coding import load_codebook
from extractor.coding.codebook import TABLES_DIR

LEGACY_END = dt.date(2014, 12, 31)
CURRENT_START = dt.date(2015, 1, 1)


def test_tables_load_and_are_cached():
    assert load_codebook() is load_codebook()


@pytest.mark.parametrize("name", sorted(p.name for p in TABLES_DIR.glob("*.json")))
def test_tables_are_valid_json(name):
    assert json.loads((TABLES_DIR / name).read_text(encoding="utf-8"))


def test_every_part0_code_is_in_the_table_with_its_role():
    book = load_codebook()
    expected = {
        "22510": "primary", "22511": "primary", "22512": "add-on",
        "22513": "primary", "22514": "primary", "22515": "add-on",
        "22520": "primary", "22521": "primary", "22522": "add-on",
        "22523": "primary", "22524": "primary", "22525": "add-on",
        "22899": "unlisted", "0200T": "primary", "0201T": "primary", "20225": "biopsy",
        "77002": "imaging", "77003": "imaging", "77012": "imaging", "72291": "imaging", "72292": "imaging",
    }
    assert {code: book.info(code).role for code in expected} == expected


def test_rows_are_complete():
    book = load_codebook()
    for info in book.codes.values():
        assert re.fullmatch(r"\d{4}[0-9T]", info.code)
        assert info.system == "CPT" and info.description and len(info.description) < 160
        if info.effective_from and info.effective_to:
            assert info.effective_from <= info.effective_to
        if info.role in ("primary", "add-on"):
            assert info.regions


def test_code_sets_only_use_codes_valid_in_their_era():
    book = load_codebook()
    for name, day in (("current", CURRENT_START), ("legacy", LEGACY_END)):
        rules = book.rules(name)
        used = [e["code"] for fam in ("vertebroplasty", "augmentation") for e in rules[fam]["primary"]]
        used += [rules[fam]["add_on"] for fam in ("vertebroplasty", "augmentation")]
        used += [rules["unlisted"], *rules["sacroplasty"].values(), rules["biopsy"]["code"]]
        used += list((rules["treated_body_imaging"] or {}).values())
        for code in used:
            assert book.info(code).effective_on(day), (name, code)


def test_primary_order_puts_thoracic_first():
    book = load_codebook()
    for name in ("current", "legacy"):
        for fam in ("vertebroplasty", "augmentation"):
            assert "thoracic" in book.rules(name)[fam]["primary"][0]["regions"]


def test_mue_for_22515_is_four():
    assert load_codebook().info("22515").mue == 4


def test_pcs_table():
    pcs = load_codebook().pcs
    assert {r: pcs["supplement"][r]["code"] for r in pcs["supplement"]} == {
        "cervical": "0PU33JZ", "thoracic": "0PU43JZ", "lumbar": "0QU03JZ", "sacral": "0QU13JZ",
    }
    assert {r: pcs["diagnostic_excision"][r]["code"] for r in pcs["diagnostic_excision"]} == {
        "cervical": "0PB33ZX", "thoracic": "0PB43ZX", "lumbar": "0QB03ZX", "sacral": "0QB13ZX",
    }


def test_tables_are_read_only():
    book = load_codebook()
    with pytest.raises(TypeError):
        book.rules("current")["unlisted"] = "99999"

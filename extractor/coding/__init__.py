"""NoteFacts -> CPT codes (current and pre-2015 sets) and ICD-10-PCS codes.

Pure Python over the dataclasses of ``extractor.facts``: this package never imports spaCy, so it can
be used and tested on facts written by hand, read from a gold file or produced by an ETL job.
The code tables and rule parameters are data, in ``extractor/coding/tables/*.json``.
"""

from extractor.coding.codebook import Codebook, CodeInfo, load_codebook
from extractor.coding.result import Code, CodingResult, PcsCode
from extractor.coding.rules import assign_codes, parse_date, resolve_code_set

__all__ = [
    "Code",
    "CodeInfo",
    "Codebook",
    "CodingResult",
    "PcsCode",
    "assign_codes",
    "load_codebook",
    "parse_date",
    "resolve_code_set",
]

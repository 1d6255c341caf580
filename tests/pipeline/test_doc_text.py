"""The tokenizer keeps the note text; doc_text returns it, or rebuilds it when it no longer fits."""

import pickle

import spacy

from extractor.pipeline import get_pipeline
from extractor.pipeline.doc_text import TEXT_KEY, TextKeepingTokenizer, doc_text


def test_pipeline_docs_keep_their_text():
    text = "PROCEDURE: T12 vertebroplasty.\n\n  No biopsy.  "
    doc = get_pipeline()(text)
    assert doc.user_data[TEXT_KEY] == text == doc.text
    assert doc_text(doc) == text


def test_doc_text_falls_back_when_missing_or_stale():
    nlp = spacy.blank("en")
    doc = nlp("T12 and L1 treated.")
    assert TEXT_KEY not in doc.user_data and doc_text(doc) == doc.text
    doc.user_data[TEXT_KEY] = "something else entirely"
    assert doc_text(doc) == "T12 and L1 treated."


def test_wrapper_delegates_and_pickles():
    nlp = spacy.blank("en")
    wrapped = TextKeepingTokenizer(nlp.tokenizer)
    assert wrapped.infix_finditer == nlp.tokenizer.infix_finditer
    clone = pickle.loads(pickle.dumps(wrapped))
    assert [t.text for t in clone("T12-L1 kyphoplasty")] == [t.text for t in wrapped("T12-L1 kyphoplasty")]
    assert [d.user_data[TEXT_KEY] for d in wrapped.pipe(["a b", "c"])] == ["a b", "c"]

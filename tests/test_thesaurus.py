"""The thesaurus on the real parts: ingest reports a broken file and keeps the rest, a fixed file is
picked up by every serving process, and its wording reaches search and the answerability signals."""

from __future__ import annotations

import pytest

from tests.conftest import make_settings

pytestmark = pytest.mark.integration

NOTES = {
    "continuity.md": "# Continuity\n\nAfter a disruption, the Supplier restores payroll services within four hours.\n",
    "canteen.md": "# Canteen\n\nLunch is served in the staff canteen from noon to two.\n",
}
# more notes, so that "disruption" is a distinctive word (used by under 10% of chunks), as in a real knowledge base
NOTES |= {f"topic-{i}.md": f"# Topic {i}\n\nRule {i}: visitors sign in at desk {i} and wear badge {i}.\n" for i in range(20)}
QUESTION = "How quickly is payroll working again after an outage?"


def test_ingest_reports_a_broken_thesaurus_then_uses_the_fixed_one(tmp_path, corpus_dir, embedder):
    from assistant.api import Assistant

    for name, text in NOTES.items():
        (corpus_dir / name).write_text(text, encoding="utf-8")
    (corpus_dir / "synonyms.yaml").write_text("version: 1\nsynonyms:\n  outage: []\n", encoding="utf-8")
    a = Assistant.from_settings(make_settings(tmp_path, corpus_dir), embedder=embedder)
    report = a.ingest(show_bar=False)
    assert sorted(report.added) == sorted(NOTES) and report.chunks_written >= len(NOTES)  # the rest of the run completed
    assert [s for s, _ in report.failed] == ["synonyms.yaml"] and "'outage'" in report.failed[0][1]
    assert len(a.retriever.thesaurus) == 0
    without = a.ask(QUESTION)
    unknown = lambda ans: ans.signals["unknown"] + ans.signals["unknown_common"]  # noqa: E731
    assert unknown(without) > 0  # "outage" is a word these notes never use

    replica = Assistant.from_settings(make_settings(tmp_path, corpus_dir), embedder=embedder)  # another serving process
    (corpus_dir / "synonyms.yaml").write_text("version: 1\nsynonyms:\n  outage: [disruption]\n", encoding="utf-8")
    report = a.ingest(show_bar=False)
    assert report.ok and len(a.retriever.thesaurus) == 1
    assert "disruption" in a.retriever.corpus.expanded(QUESTION)
    hits = a.search(QUESTION, k=2)
    assert hits[0].source == "continuity.md"
    with_ = a.ask(QUESTION)
    assert unknown(with_) < unknown(without)  # the notes' word for it is known...
    assert with_.signals["best_cover"] == 1.0  # ...and the sentence that uses it covers it with the rest
    # a process that was already serving reads the edited file on its next question, without a restart
    assert "disruption" in replica.retriever.corpus.expanded(QUESTION)


def test_a_phrasal_key_is_matched_with_its_small_words_on_the_real_parts(tmp_path, corpus_dir, embedder):
    from assistant.api import Assistant

    for name, text in NOTES.items():
        (corpus_dir / name).write_text(text, encoding="utf-8")
    (corpus_dir / "synonyms.yaml").write_text("version: 1\nsynonyms:\n  go down: [disruption]\n", encoding="utf-8")
    a = Assistant.from_settings(make_settings(tmp_path, corpus_dir), embedder=embedder)
    assert a.ingest(show_bar=False).ok
    asked = "How quickly is payroll working again after the system went down?"
    assert "disruption" in a.retriever.corpus.expanded(asked)  # "went down" is "go down"
    assert a.search(asked, k=1)[0].source == "continuity.md"
    assert a.ask(asked).signals["best_cover"] == 1.0  # the sentence about a disruption covers "went down"
    assert "disruption" not in a.retriever.corpus.expanded("Where do visitors go to sign in?")  # "go" alone is not "go down"

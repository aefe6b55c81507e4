"""The answerability signals and their fitted model, with hand-made evidence (fast, no model)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answering.answerability import Answerability, Evidence, best_threshold, features, fit
from assistant.answering.asks import asks_our_rules, final_ask, question_parts, set_out, with_apostrophes
from assistant.answering.question import expected_type, names, provides, value_words, without_names
from assistant.core.text import defines, spelled_out, tokens

pytestmark = pytest.mark.unit


def evidence(question: str, sentences: list[str], sims: list[float] | None = None) -> Evidence:
    return Evidence(question, chunk_texts=sentences, sentences=sentences, sentence_sims=sims or [0.5] * len(sentences), dense_max=0.5)


def feats(question: str, sentences: list[str], vocab: set[str] | None = None) -> dict[str, float]:
    known = (lambda t: t in vocab) if vocab is not None else (lambda t: True)
    return features(evidence(question, sentences), lambda t: 1.0, known)


@pytest.mark.parametrize("question,kind", [
    ("How long does a vendor have to tell us about a breach?", "period"),
    ("Within how many hours must they notify us?", "period"),
    ("How many leavers kept their access?", "count"),
    ("What percentage of payroll files went by email?", "percent"),
    ("What is the maximum fine for a late breach report?", "money"),
    ("When was the finding closed?", "date"),
    ("What is the name of the person who signed it?", "person"),
    ("What's the name of the Acme relationship owner for the payroll deal?", "person"),  # contracted, with modifiers
    ("When's Acme's grievance finding due?", "date"),
    ("Did the regulator fine Acme over the leak, and if so how much?", "money"),
    ("How much does price count compared to security when we score bids?", "quantity"),  # a weight, not an amount
    ("How much does the audit cost?", "money"),
    ("Which R2-certified recycler did Acme sign with?", "organisation"),  # a modifier with a digit
    ("Give me the names of the account managers at Acme.", "person"),
    ("Which insurance company covers the vendor?", "organisation"),
    ("Which charity does the vendor support in Cebu?", "organisation"),  # a charity, union or school is named, too
    ("Which union represents the Acme agents?", "organisation"),
    ("What insurance company does the vendor use?", "organisation"),  # "what" with a noun that names an organisation
    ("What recycler collects Acme's old laptops?", "organisation"),
    ("What client information may the vendor keep?", None),  # ... but not with client, supplier or vendor
    ("What suppliers are in scope of the code?", None),
    ("What company policy covers gifts?", None),
    ("Can the Acme agents join a union?", None),
    ("What is the phone number of the vendor's help desk?", "contact"),
    ("What must our contract say about encryption?", None),
    # where something is based: a place
    ("Where is the overflow subcontractor based?", "place"),
    ("In which country does Acme keep our archives?", "place"),
    ("Where do I find the signed contracts?", None),  # where to look, not where something is based
    # modifiers between the question word and what it asks for
    ("How many Acme warehouse pickers were sampled?", "count"),
    ("What carbon emissions figure did the vendor publish?", "count"),
    ("Which Acme night-shift supervisor approved the change?", "person"),
    ("Which other Acme client got the file?", "organisation"),
    ("What hourly rate does the vendor charge?", "money"),
    ("What overtime premium percentage applies?", "percent"),
    ("How much warning do we owe before ending the deal?", "period"),
    # "how much" asks for money only when money is in view; otherwise any amount
    ("How much did the breach end up costing the company?", "money"),
    ("How much does the environmental score weigh in the evaluation?", "quantity"),
    ("What is the statutory minimum wage there?", "money"),
    ("What is the door code for the server room?", "secret"),
    # the words between the question word and what it asks for are not a verb phrase
    ("What weight does cost get in the evaluation?", None),
    ("Which HR provider did we use before Acme?", "organisation"),
    ("Which vendor audit findings were closed last year?", None),
    ("Which payroll software does the vendor run?", "product"),
    ("Who is Acme's privacy officer?", "person"),
    ("When is the vendor's next audit scheduled?", "date"),
    # "when" asking for a condition, not a date
    ("When does planned maintenance count as excluded time?", None),
    ("When is the corrective plan due?", "date"),
    # a rate is a ratio unless money is in view
    ("What error rate must the vendor stay under?", "percent"),
    ("What day rate does the contractor bill us?", "money"),
    # a deadline may be a period or a date
    ("Is Acme's deadline for reporting a leak the same as Globex's?", "deadline"),
    ("What time limit applies to deleting the data?", "deadline"),
    # what someone paid or was paid is money, whatever the question word; paying attention is not
    ("What did Acme pay the scrap dealer for each pickup?", "money"),
    ("What compensation did the vendor offer the affected staff?", "money"),
    # who brought a claim or filed a complaint: a person
    ("What is the tribunal claim about, and who brought it?", "person"),
    ("What does Acme pay attention to in a vendor's audit report?", None),
    # the size of a sum asked by "how large / big / high"; the size of anything else is not money
    ("Under the new act, how large a fine could a vendor face?", "money"),
    ("How big was the penalty the regulator imposed?", "money"),
    ("How big is the risk of a late report?", None),
    ("Which Acme contractors could see the test data?", "organisation"),
    # a person asked for by role or relation
    ("Which colleague will be my buddy in the first week?", "person"),
    ("Who will be our contact person at Acme?", "person"),
    ("What did the steering committee decide about Acme's renewal?", "outcome"),
    ("How did the court case over Acme's late invoices turn out?", "outcome"),
    ("What was the outcome of Acme's appeal?", "outcome"),
    ("What did Internal Audit conclude about Acme's overtime in the re-audit?", None),  # an audit's findings are facts
    ("Which article of the Data Act covers switching providers?", "reference"),
    ("What is the phone number of Acme's service desk?", "contact"),
    ("How do I reach Acme's account director out of hours?", "contact"),
    ("Is Acme's runbook with our contact details still working?", None),  # contact details mentioned, not asked for
    ("Did the Manila phone team work overtime in 2025?", None),
    # what a question says before it asks is no ask
    ("Acme's new software decides which queue each agent works. What must the agents be told?", None),
    # of two asks, the one asked first
    ("How often does the committee meet, and which vendors does it cover?", "period"),
    ("When did Acme reissue its runbook with our contact details in it?", "date"),
    ("Which clause of the Acme contract sets the notice period?", "reference"),
    ("What sections does the tender template have?", None),
])
def test_expected_answer_type(question, kind):
    assert expected_type(question) == kind


def test_the_answer_type_must_be_in_the_sentences():
    q = "How long does a vendor have to tell us about a breach?"
    assert provides("period", q, "The vendor shall notify us within 24 hours of becoming aware of it.")
    assert not provides("period", q, "The vendor shall notify us of any breach.")
    q = "How many leavers kept their access?"
    assert provides("count", q, "14 leavers kept access beyond 24 hours.")
    assert not provides("count", q, "Leavers kept access beyond 24 hours.")  # a number, but a period
    q = "What service credit do we get when the vendor misses a target?"
    assert provides("money", q, "Total service credits in a month are capped at 10% of the monthly fees.")  # a share of the fees
    assert not provides("money", q, "The vendor reports its service levels every month.")
    # a date the question names is no answer, but a day in that year is ("2025-12-31" is not just "2025")
    q = "After the September 2025 note, what is the new deadline for AC-2024-02?"
    assert provides("deadline", q, "If the new due date of 2025-12-31 is missed, the committee will act.")
    assert not provides("deadline", q, "The follow-up ran in September 2025.")
    q = "Where is SwiftDesk BPO based?"
    assert provides("place", q, "SwiftDesk BPO runs its overflow team from Cebu.")
    assert provides("place", q, "The team works in two shifts in the Philippines.")
    assert not provides("place", q, "Staff of SwiftDesk BPO held 38 accounts on the chat platform in August 2023.")
    q = "How many of the 15 Acme leavers kept access?"
    assert provides("count", q, "In the re-test of 15 leavers, 4 kept access for 2 to 3 days.")
    assert not provides("count", q, "The re-test of 15 leavers ran on 2025-04-15 under finding AC-2024-02.")  # given, a date, an id
    q = "What is the name of our Data Protection Officer?"
    assert not provides("person", q, "The Data Protection Officer and the Vendor Risk Committee approve transfers.")
    assert provides("person", q, "The Data Protection Officer is Aoife Byrne.")
    assert feats(q, ["The Data Protection Officer approves every transfer."])["type_missing"] == 1.0
    q = "Which DSA article lets a user appeal?"  # the article of the text it names, not of another
    assert provides("reference", q, "Article 20 of the DSA lets a user appeal a decision.")
    assert not provides("reference", q, "GDPR Article 22 gives a right not to be subject to automated decisions.")
    q = "Which clause of the Acme contract covers subcontracting?"  # a numbered clause gives its number
    assert provides("reference", q, "8.1 Acme shall not subcontract without prior written approval.")
    assert not provides("reference", q, "Acme shall not subcontract without prior written approval.")
    q = "What did the privacy officer's risk assessment of the Acme incident conclude?"  # a plan to assess is no outcome
    assert feats(q, ["The privacy officer will complete a risk assessment of the incident by 2026-02-20."])["type_missing"] == 1.0
    assert feats(q, ["The risk assessment concluded that the incident was not a reportable breach."])["type_missing"] == 0.0


def test_signals_of_a_question_the_evidence_covers_and_one_it_does_not():
    good = feats("Which cipher protects data at rest?", ["The AES-256 cipher protects data at rest."])
    bad = feats("Which cipher protects the canteen menu?", ["The AES-256 cipher protects data at rest."],
                vocab={"cipher", "data", "rest", "protect"})
    assert good["focus_sent"] == 1.0 and good["unknown"] == 0.0
    assert bad["unknown"] > 0.0  # "canteen", "menu": words the knowledge base never uses
    assert feats("What is Northwind's share price today?", ["Northwind processes payroll."])["live"] == 1.0
    assert feats("Is there live data on Acme's call queue?", ["x y z"])["live"] == 1.0
    # the current month's figures are not in a dated record either (the contract's target is not the month's rate)
    assert feats("What is Acme's call abandonment rate this month?", ["x y z"])["live"] == 1.0
    # "live" the verb asks nothing live: a wage to live on, where agents live in dormitories
    assert feats("Must vendors pay agents enough to live on?", ["x y z"])["live"] == 0.0
    assert feats("Can agents live in the vendor's dormitories?", ["x y z"])["live"] == 0.0
    assert feats("How many weeks of parental leave do our own employees get?", ["x y z"])["own_company"] == 1.0
    assert feats("How many weeks of leave do vendor staff get?", ["x y z"])["own_company"] == 0.0
    # the asker's own terms of employment are our own company's affairs too
    ask = "How many days of annual leave do I get as a Kestrel employee?"
    assert features(evidence(ask, ["x y z"]), lambda t: 1.0, lambda t: True, home="Kestrel Group")["own_company"] == 1.0
    assert feats("How do I apply for parental leave?", ["x y z"])["own_company"] == 1.0
    assert feats("How long did Acme have to cut off access to our employee data?", ["x y z"])["own_company"] == 0.0
    assert feats("Who is Acme Widgets' owner?", ["Northwind processes payroll."])["names_missing"] == 1.0
    # a country named by its adjective is met by its name, and the other way round; another country is not
    assert feats("Is the services agreement under Irish law?", ["It is governed by the law of Ireland."])["names_missing"] == 0.0
    assert feats("Which law applies in Ireland?", ["Irish law governs it."])["names_missing"] == 0.0
    assert feats("Is it under American law?", ["The BAA follows US law."])["names_missing"] == 0.0
    assert feats("Is the services agreement under French law?", ["It is governed by the law of Ireland."])["names_missing"] == 1.0
    # a short acronym is met only by itself, not inside a word ("EU" in "queue")
    assert feats("Which EU rule applies?", ["The queue is answered in order."])["names_missing"] == 1.0
    assert feats("Which EU rule applies?", ["The EU AI Act applies."])["names_missing"] == 0.0
    assert feats("When did IA close it?", ["Internal Audit closed it in May."])["names_missing"] == 0.0  # its initials


def test_fit_separates_answerable_from_unanswerable_and_saves(tmp_path):
    rng = np.random.default_rng(7)
    rows, labels = [], []
    for _ in range(120):
        y = int(rng.random() < 0.6)
        rows.append({"best_cover": rng.normal(0.7 if y else 0.3, 0.1), "dense_max": rng.normal(0.5, 0.1)})
        labels.append(y)
    model = fit(rows, labels)
    assert model.weights["best_cover"] > 0 and abs(model.weights["dense_max"]) < model.weights["best_cover"]
    acc = np.mean([model.answerable(r) == bool(y) for r, y in zip(rows, labels)])
    assert acc > 0.9
    model.save(tmp_path / "m.json")
    again = Answerability.load(tmp_path / "m.json")
    assert again.probability(rows[0]) == pytest.approx(model.probability(rows[0]))
    assert Answerability.load(tmp_path / "missing.json").answerable({})  # no model: never refuses silently by default


def test_rows_for_the_threshold_only_move_the_threshold_and_never_the_weights():
    rng = np.random.default_rng(11)

    def sample(n, shift=0.0):
        rows, labels = [], []
        for _ in range(n):
            y = int(rng.random() < 0.6)
            rows.append({"best_cover": rng.normal((0.7 if y else 0.3) - shift, 0.15)})
            labels.append(y)
        return rows, labels

    rows, labels = sample(200)
    fresh = sample(400, shift=0.15)  # questions the signals were not developed on score lower
    alone, both = fit(rows, labels), fit(rows, labels, extra=fresh)
    assert both.weights == alone.weights and both.bias == alone.bias
    assert both.threshold < alone.threshold
    rate = lambda m: np.mean([m.answerable(r) for r, y in zip(*fresh) if y])  # noqa: E731
    assert rate(both) > rate(alone)


def test_best_threshold_balances_the_two_rates():
    probs = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    y = np.array([0, 0, 0, 1, 1, 1])
    t = best_threshold(probs, y)
    assert 0.3 < t < 0.7


def test_the_question_form_is_a_signal():
    short = feats("Who insures the vendor?", ["x y z"])
    scenario = feats("A vendor's laptop with our files was stolen last night. How long do they have to tell us?", ["x y z"])
    assert short["multi_sentence"] == 0.0 and scenario["multi_sentence"] == 1.0
    # the future is asked of time ("next year"), not of place ("next to the scans")
    assert feats("What will the vendor do next year?", ["x y z"])["future"] == 1.0
    assert feats("How did Acme fix the keys kept next to the scans?", ["x y z"])["future"] == 0.0
    # live information is asked of the present, not of a situation supposed ("Say ... tomorrow", "if ... today")
    assert feats("What is Acme's share price today?", ["x y z"])["live"] == 1.0
    assert feats("Say Acme's site went dark tomorrow. How long does it have to recover?", ["x y z"])["live"] == 0.0
    assert feats("If the site flooded today, who would we call first?", ["x y z"])["live"] == 0.0
    # ... nor of the time the asker's own plan starts
    assert feats("Can I tell the vendor we are changing the service levels from next month?", ["x y z"])["live"] == 0.0
    assert feats("A vendor wants a subcontractor from next month. What has to happen first?", ["x y z"])["live"] == 0.0
    assert feats("What is the exchange rate today? I want to check an invoice.", ["x y z"])["live"] == 1.0
    # a service that "went live" or where files "live" asks for nothing live
    assert feats("Why did the audit period start before the tenant went live?", ["x y z"])["live"] == 0.0
    assert feats("Where do signed contracts live?", ["x y z"])["live"] == 0.0


def test_a_name_that_only_sets_out_the_situation_is_no_subject_of_the_ask():
    told = "A vendor wants a subcontractor in Vietnam to handle our data. What has to happen before they start?"
    assert feats(told, ["Subcontractors need prior written approval."])["names_missing"] == 0.0
    # the same name in the ask is asked about
    asked = "A vendor wants to offshore our data. Which rules apply in Vietnam?"
    assert feats(asked, ["Subcontractors need prior written approval."])["names_missing"] == 1.0
    assert set_out(told) == ("A vendor wants a subcontractor in Vietnam to handle our data.",
                             "What has to happen before they start?")
    assert set_out("What is X? And what is Y?") == ("", "What is X? And what is Y?")


def test_calendar_words_and_the_home_organisation_are_not_answers_or_names():
    q = "Which Acme administrator sent the file to the wrong address?"
    assert not provides("person", q, "In July 2024, a file was sent to the wrong address.")  # "In July" is not a name
    assert provides("person", q, "In July 2024, Maria Lopez sent the file to the wrong address.")
    q = "Which insurance company covers the vendor's cyber risk?"
    assert not provides("organisation", q, "Kestrel Group's Internal Audit reviewed the cover.", home="Kestrel Group")
    assert provides("organisation", q, "Cover is placed with Harbour Mutual Insurance.", home="Kestrel Group")
    assert names("The vendor missed the target in January, March and May. Can we terminate?") == []
    # a one-word name with a capital inside it is a name ("QuickServe"); a word that starts a sentence is not
    q = "Who was the overflow team the vendor used without telling us?"
    assert provides("person", q, "Staff of QuickServe BPO held 38 accounts.")
    assert not provides("person", q, "Overflow staff held 38 accounts.")


def test_own_company_follows_the_organisation_setting_and_yields_to_a_named_vendor():
    def own(question: str) -> float:
        return features(evidence(question, ["x y z"]), lambda t: 1.0, lambda t: True, home="Acme Holdings",
                        vendors=["Northwind"])["own_company"]
    assert own("How many weeks of leave do Acme's own employees get?") == 1.0
    assert own("How many Acme employees were in the file Northwind mislaid?") == 0.0  # about the vendor
    assert own("How many weeks of leave do vendor staff get?") == 0.0


def test_compound_questions_are_split_into_their_asks():
    assert question_parts("Can we end the deal early, and how much notice do we owe?") == [
        "Can we end the deal early", "and how much notice do we owe?"]
    assert question_parts("Our vendor missed the target twice. Can we terminate?") == [
        "Our vendor missed the target twice.", "Can we terminate?"]
    assert question_parts("How soon must the vendor tell us?") == ["How soon must the vendor tell us?"]
    assert question_parts("Is it faster or slower?") == ["Is it faster or slower?"]  # no fragment parts
    assert feats("Can we end the deal early, and how much notice do we owe?", ["x y z"])["compound"] == 1.0
    assert feats("Is the Acme notice period longer than the Beta one?", ["x y z"])["compound"] == 1.0
    assert feats("How much notice must we give?", ["x y z"])["compound"] == 0.0
    # a second ask in the perfect tense ("..., and has it been closed?") is a second ask too
    q = "How many Acme hires started before their checks were done, and has that finding been closed?"
    assert feats(q, ["x y z"])["compound"] == 1.0
    assert question_parts(q) == ["How many Acme hires started before their checks were done",
                                 "and has that finding been closed?"]
    assert feats("Is Acme's notice period the same as Beta's?", ["x y z"])["compound"] == 1.0
    # ... and one asked after a preposition ("..., and on what date ...?"), but not an infinitive ("and to have")
    q = "How did Acme fix the key problem, and on what date was the finding closed?"
    assert feats(q, ["x y z"])["compound"] == 1.0 and len(question_parts(q)) == 2
    assert feats("Must Acme keep a plan and to have it tested?", ["x y z"])["compound"] == 0.0
    ev = evidence("Can we end the deal early, and how much notice do we owe?", ["x y z"], sims=[0.8])
    ev.part_sims = [0.7, 0.3]
    assert features(ev, lambda t: 1.0, lambda t: True)["part_min"] == 0.3  # the worst-served ask
    assert feats("How soon must the vendor tell us?", ["x y z"])["part_min"] == 0.5


def test_best_cover_counts_only_sentences_that_give_the_asked_kind_of_value():
    q = "Which insurance company provides the vendor's cyber cover?"
    no_name = feats(q, ["The vendor shall hold cyber insurance cover of EUR 10 million.", "Harbour Mutual audits the site."])
    named = feats(q, ["The vendor's cyber insurance cover is provided by Harbour Mutual Insurance."])
    assert no_name["best_cover"] < 0.5 < named["best_cover"]  # the name sits in a sentence that is not about the cover
    untyped = feats("What must the contract say about encryption?", ["The contract must require encryption at rest.", "x y z"])
    assert untyped["best_cover"] > 0.5


def test_findings_matching_the_asked_status_are_evidence():
    ev = evidence("Which findings are still open?", ["Finding AC-2024-01 (status open)."])
    assert features(ev, lambda t: 1.0, lambda t: True)["findings_matched"] == 0.0
    ev.findings_matched = True
    assert features(ev, lambda t: 1.0, lambda t: True)["findings_matched"] == 1.0


def test_the_one_finding_a_question_names_is_evidence_but_not_a_count_of_findings():
    f = lambda ev: features(ev, lambda t: 1.0, lambda t: True)  # noqa: E731
    ev = evidence("How did Acme fix the keys problem, and when was it closed?", ["Acme moved the keys to an HSM."])
    assert f(ev)["findings_matched"] == 0.0
    ev.one_finding = True
    assert f(ev)["findings_matched"] == 1.0
    # a count asked of that one finding must still be given by a sentence
    ev = evidence("How many keys did Acme leave on the server?", ["Acme moved the keys to an HSM."])
    ev.one_finding = True
    assert f(ev)["type_missing"] == 1.0
    ev.findings_matched = True  # (a count of the findings a question selects is the register's to give)
    assert f(ev)["type_missing"] == 0.0


def test_frequencies_and_deadlines_are_values_of_their_kind():
    assert provides("period", "How often must Acme report?", "Acme reports its local spend once a year to the committee.")
    assert provides("period", "How often?", "Indicators are reviewed twice a year.")
    assert provides("deadline", "What is the deadline?", "The plan is due 2025-12-31.")
    assert provides("deadline", "What is the deadline?", "Acme must notify us within 24 hours.")
    assert not provides("deadline", "What is the deadline?", "Acme must notify us promptly.")


def test_the_words_that_ask_for_a_value_are_not_coverage_terms():
    assert value_words("How soon must Acme tell us, and what is the deadline?") == ["soon", "deadline"]
    q = "How soon must the vendor report an incident?"
    assert feats(q, ["The vendor shall report any incident within 24 hours."])["best_cover"] == 1.0
    # a named vendor is met by every passage of its own documents: coverage is over the rest of the question
    ev = evidence("How soon must Acme report an incident?", ["Acme shall report any incident within 24 hours."])
    assert features(ev, lambda t: 1.0, lambda t: True, vendors=["Acme"])["best_cover"] == 1.0
    # a word the knowledge base never uses cannot be covered: it counts in ``unknown`` instead
    f = feats("Which cipher protects the canteen menu?", ["The AES-256 cipher protects data at rest."], vocab={"cipher", "protect"})
    assert f["best_cover"] == 1.0 and f["unknown"] > 0.0
    # nor are the words that ask for a duty: the duty stated answers them
    q = "What do we expect vendors to pay their workers?"
    assert feats(q, ["Vendors must pay their workers at least the local living wage."])["best_cover"] == 1.0


def test_contraction_fragments_are_not_terms():
    assert tokens("We've listed Acme's findings; don't they'll close?") == tokens("We listed Acme findings; they close?")


def test_acronyms_match_the_words_a_document_defines_them_with():
    assert defines("RPO", "Each service has a recovery point objective (RPO) of 1 hour.") == "recovery point objective"
    assert defines("MFA", "Staff use multi-factor authentication (MFA).") == "multi factor authentication"
    assert defines("SCC", "the standard contractual clauses (SCCs) apply") == "standard contractual clauses"
    assert defines("RPO", "the report (RPO) is late") is None  # the words before the bracket do not spell it
    assert spelled_out("recovery point objective", "Acme shall meet a recovery point objective of 1 hour.")
    assert spelled_out("multi factor authentication", "Multi-factor authentication is required.")
    ev = evidence("What RPO does Acme's contract set?", ["Acme shall meet a recovery point objective of 1 hour."])
    plain = features(ev, lambda t: 1.0, lambda t: True)
    spelled = features(ev, lambda t: 1.0, lambda t: True, expansions={"RPO": "recovery point objective"})
    assert plain["names_missing"] > 0 and spelled["names_missing"] == 0.0 and spelled["best_cover"] > plain["best_cover"]



def test_a_count_is_a_number_next_to_the_counted_thing_and_not_a_clause_number():
    q = "How many individuals must a breach affect before the regulator is told?"
    assert not provides("count", q, "5. Reporting breaches 5.4 The report must identify each individual.")
    q = "How many user accounts did the review remove?"
    assert provides("count", q, "The two reviews removed 31 accounts in total.")
    assert not provides("count", q, "The review ran on 2024-04-18 and took 3 analysts.")  # a number, but of analysts
    # several asks: each one's counted thing counts
    q = "How many claim records were copied, and how many outside contractors could see them?"
    assert provides("count", q, "Of the 9 accounts with access, 6 belonged to contractors.")


def test_the_year_a_question_asks_about_must_be_in_the_evidence():
    ev = evidence("How many agents will Acme hire ahead of the 2026 peak season?",
                  ["Acme hired 45 additional agents ahead of the 2024 peak season."])
    assert features(ev, lambda t: 1.0, lambda t: True)["names_missing"] == 0.5  # Acme found, 2026 not
    q = "What on-time rate must Acme hit?"
    assert value_words(q, expected_type(q)) == ["rate"]


def test_the_year_inside_a_finding_id_is_part_of_the_id_not_a_second_name():
    q = "What did the auditors say about AC-2025-07?"
    f = lambda texts: features(evidence(q, texts), lambda t: 1.0, lambda t: True)["names_missing"]  # noqa: E731
    # one name: an id the evidence lacks is wholly missing, though its year is in every 2025 passage
    assert f(["Finding AC-2025-02 (2025): the auditors found stale accounts."]) == 1.0
    assert f(["Finding AC-2025-07: the auditors found stale accounts."]) == 0.0
    # a year asked for beside the id still counts as its own name
    q = "Was AC-2025-07 closed in 2026?"
    assert features(evidence(q, ["AC-2025-07 was closed in 2025."]), lambda t: 1.0, lambda t: True)["names_missing"] == 0.5


def test_the_month_a_question_pins_must_be_in_the_evidence_by_name_or_iso_date():
    q = "Was Acme's finding closed at the February 2026 review?"
    f = lambda texts: features(evidence(q, texts), lambda t: 1.0, lambda t: True)["names_missing"]  # noqa: E731
    # names: Acme, 2026 and February 2026
    assert f(["Acme's finding stays open after the review of 2026-01-20."]) == 1 / 3
    assert f(["Acme's finding was closed at the review of 2026-02-10."]) == 0.0
    assert f(["At the February 2026 review, Acme's finding was closed."]) == 0.0


def test_a_word_that_starts_a_sentence_names_something_only_when_it_is_not_everyday_english():
    everyday = {"apart", "while", "one"}.__contains__
    assert names("Apart from the vendor itself, who else do we consult?", everyday) == []
    assert names("We asked twice. While we wait, can Crestline start?", everyday) == ["Crestline"]
    assert names("Crestline wants to start. Can it?", everyday) == ["Crestline"]  # not everyday English
    assert names("Apart from the vendor itself, who else do we consult?") == ["Apart"]  # with no vocabulary: as before
    # a finding id is one name, not its letters as an acronym: evidence naming another of the vendor's findings
    # ("HV-2025-01") does not meet a question about "HV-2025-09"
    assert names("Who owns HV-2025-09 and what did SOC2 say?") == ["HV-2025-09", "SOC2"]


def test_a_date_the_question_gives_answers_nothing_and_on_what_date_asks_for_a_day():
    q = "On what date did Acme notify the regulator of the July 2024 breach?"
    assert not provides("date", q, "The breach happened in July 2024.")  # the question's own month and year
    assert not provides("date", q, "Acme must notify the regulator within 72 hours.")  # a period is no day
    assert provides("date", q, "Acme notified the regulator on 2024-07-19.")
    assert provides("date", q, "Acme notified the regulator on 19 July 2024.")
    assert provides("date", "When did Acme fix it?", "Acme fixed it in March 2025.")  # "when" takes a month


def test_the_answer_type_is_read_from_the_sentence_not_its_heading():
    def signals(bare):
        ev = Evidence("When did Acme notify the regulator?", ["Status as of 2025-04-15 Acme notified the regulator."],
                      ["Status as of 2025-04-15 Acme notified the regulator late."], [0.7], 0.7, bare=bare)
        return features(ev, lambda t: 1.0, lambda t: True)

    assert signals([])["type_missing"] == 0.0  # without the bare sentences, the heading's date counts
    assert signals(["Acme notified the regulator late."])["type_missing"] == 1.0


def test_a_pay_standard_answers_what_workers_are_to_be_paid_but_not_what_we_paid_a_vendor():
    q = "What do we expect vendors to pay their workers?"
    assert expected_type(q) == "money"
    assert provides("money", q, "Wages must be at least the local living wage benchmark.")
    assert provides("money", "How much are the agents paid for overtime?", "Overtime was paid at a premium rate.")
    assert not provides("money", q, "Wages must be paid on time.")  # no standard, no amount
    paid = "How much did we pay Acme in 2025?"  # a vendor's fees: a pay standard is no answer
    assert expected_type(paid) == "money" and not provides("money", paid, "Acme pays at least the living wage.")


def test_a_money_word_that_names_rules_asks_for_no_amount_and_a_currency_name_is_its_code():
    assert expected_type("What minimum wage rules apply to workers at our vendors?") is None
    assert expected_type("What penalty clauses does the agreement have?") is None
    assert expected_type("What wage must vendors pay?") == "money"
    assert expected_type("What is the fee for a for-cause audit?") == "money"
    assert tokens("one million euros") == tokens("one million EUR")  # the knowledge base writes "EUR 1 million"


def test_the_words_that_picked_the_document_need_not_be_in_the_evidence():
    q = "What did the latest Northwind follow-up say about leaver access?"
    sentence = ["Leaver access is now removed the same day."]
    plain = features(evidence(q, sentence), lambda t: 1.0, lambda t: True, vendors=["Northwind"])
    picked = features(Evidence(q, chunk_texts=sentence, sentences=sentence, sentence_sims=[0.5], dense_max=0.5,
                               reference="latest Northwind follow-up"), lambda t: 1.0, lambda t: True, vendors=["Northwind"])
    assert plain["best_cover"] < 1.0  # "latest", "follow-up", "say" are not in the sentence
    assert picked["best_cover"] == 1.0  # the document chosen answers "latest follow-up"; "leaver access" is covered


@pytest.mark.parametrize("question,ask", [
    ("Our vendor lost a site and switched to its disaster plan. What must it send us while it recovers?",
     "What must it send us while it recovers?"),
    ("What must a vendor send us while it recovers from a disaster?", ""),  # one sentence: the whole question asks
    ("A vendor lost a site. Now what?", ""),  # too short to stand alone
])
def test_the_ask_after_a_scenario(question, ask):
    assert final_ask(question) == ask


@pytest.mark.parametrize("question,left", [
    # a vendor (with its possessive), the organisation, a finding id and a year go; what is asked of them stays
    ("What does Crestline's 2024 contract say about Acme Holdings' archive boxes?", "What does contract say about archive boxes?"),
    ("Was CR-2024-03 closed by the spring review?", "Was closed by the spring review?"),
    # other named things too (a regulation, a city), but not a capitalised everyday word that starts the question
    ("Under the Widget Act, may staff in Lisbon work nights?", "Under the , may staff in work nights?"),
    ("How often must the vendor test its backups?", "How often must the vendor test its backups?"),
])
def test_without_names_keeps_only_what_the_question_asks(question, left):
    common = {"under", "how", "what", "was"}.__contains__
    assert without_names(question, vendors=["Crestline"], home="Acme Holdings", common=common) == left


def test_the_denamed_similarity_is_a_signal_of_the_model():
    ev = evidence("What does Crestline charge?", ["Crestline shall scan archives."])
    ev.denamed_sim = 0.31
    f = features(ev, lambda t: 1.0, lambda t: True)
    assert f["denamed_sim"] == 0.31 and "denamed_sim" in Answerability.load().weights


def test_contractions_typed_without_their_apostrophe_are_read_as_contractions():
    assert with_apostrophes("Whats the minimum age, and why doesnt it match?") == "What's the minimum age, and why doesn't it match?"
    assert with_apostrophes("Its contract wont change.") == "Its contract wont change."  # words of their own stay
    # read as typed, "Whats" would be a name the evidence lacks
    assert names("Whats the minimum age?") == ["Whats"] and names(with_apostrophes("Whats the minimum age?")) == []


def test_a_vendor_that_only_sets_out_a_plan_before_a_rule_ask_is_judged_by_the_rules():
    vendors = ["Acme"]
    assert asks_our_rules("Acme wants to trial software that reads agents' moods. Is that allowed?", vendors)
    assert asks_our_rules("Acme wants to add a subcontractor. What approvals would that need?", vendors)
    # the vendor asked about, or an ask about what it did or holds, is judged by its own documents
    assert not asks_our_rules("Is Acme allowed to add a subcontractor?", vendors)
    assert not asks_our_rules("Acme had an incident. When did it tell us?", vendors)
    assert not asks_our_rules("Acme wants a new site. Is Acme allowed to move?", vendors)

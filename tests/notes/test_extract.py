"""Reading action items, decisions, owners and attendees the way people write them, and reading
back exactly what the bot writes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zulip_bot.notes import Attendee, NotesDocument, inline_text
from zulip_bot.notes.extract import (
    NOT_INITIALS,
    NOT_NAMES,
    NOT_PEOPLE,
    find_decision,
    is_decision,
    owner_prefix,
    read_actions,
)
from zulip_bot.notes.names import person_for

BASE = """\
# 2024-11-06 Conda Community Meeting

## Attendees

| Name                   | Initials | Affiliation  | GH Username |
| ---------------------- | -------- | ------------ | ----------- |
| Jaime Rodríguez-Guerra | JRG      | Quansight/cf | jaimergp    |
| Dasha Gurova           | DG       | Anaconda     | dashagurova |

## New Agenda Items

- [x] DG: Zulip CEP
"""


def notes(*children: str) -> NotesDocument:
    return NotesDocument.parse(BASE + "".join(f"    - {child}\n" for child in children))


def actions(*children: str) -> list[tuple[tuple[str, ...], str]]:
    return [(a.owners, a.task) for a in notes(*children).action_items()]


# --- what the bot writes reads back exactly ------------------------------------------------

TASKS = st.text(
    st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]), min_size=1, max_size=40
).filter(lambda t: inline_text(t).strip() != "")


@given(
    task=st.one_of(
        TASKS,
        st.sampled_from(["Review the CEP draft", "3 reviews", "`conda` docs", "Ünïcode first"]),
    ),
    owners=st.sampled_from([("DG",), ("BZ", "WV"), ("chenghlee",), ("Dasha",), ("MvN",)]),
)
def test_a_written_action_reads_back_with_its_owners_and_task(
    task: str, owners: tuple[str, ...]
) -> None:
    """The line `action DG <task>` writes, whatever the task's first character."""
    doc = notes()
    head = f"Action item: {'/'.join(owners)} to "
    doc.add_child(doc.items("New Agenda Items")[0], head + task)
    again = NotesDocument.parse(doc.render())
    written = again.items("New Agenda Items")[0].children[-1].text
    (found,) = again.action_items()
    assert (found.owners, found.task, found.confidence) == (
        owners, written.removeprefix(head), "explicit"
    )  # fmt: skip
    assert written.startswith(head)


@given(task=TASKS.filter(lambda t: " to " not in t and " will " not in t))
def test_an_ownerless_written_action_reads_back_without_an_owner(task: str) -> None:
    doc = notes()
    doc.add_child(doc.items("New Agenda Items")[0], f"Action item: {task}")
    again = NotesDocument.parse(doc.render())
    written = again.items("New Agenda Items")[0].children[-1].text
    found = again.action_items()
    assert [(a.owners, a.task) for a in found] == [((), written.removeprefix("Action item: "))]


def test_the_written_forms_of_the_issues() -> None:
    assert actions(
        "Action item: DG to Review the CEP draft",
        "Action item: chenghlee to go get the names",
        "Action item: deprecate --use-channeldata",
        "Action item: BZ/WV to write it up",
    ) == [
        (("DG",), "Review the CEP draft"),
        (("chenghlee",), "go get the names"),
        ((), "deprecate --use-channeldata"),
        (("BZ", "WV"), "write it up"),
    ]


# --- prose ---------------------------------------------------------------------------------


def test_assignments_in_prose_are_inferred() -> None:
    doc = notes(
        "JRG to create proposal PR in conda-build",
        "Jaime will look into this.",
        "this should be a blog post, Dasha to edit the PR and add Bas for review",
        "(Justin, nominally) Cheng, Marcelo to work on it.",
        "Labels for Python 3.6 -- Jaime will add a comment",
        "@msarahan, @jakirkham and @pelson to reconvene on Friday",
    )
    found = [(a.owners, a.task, a.confidence) for a in doc.action_items()]
    assert found == [
        (("JRG",), "create proposal PR in conda-build", "inferred"),
        (("Jaime",), "look into this.", "inferred"),
        (("Dasha",), "edit the PR and add Bas for review", "inferred"),
        (("Cheng", "Marcelo"), "work on it.", "inferred"),
        (("Jaime",), "add a comment", "inferred"),
        (("msarahan", "jakirkham", "pelson"), "reconvene on Friday", "inferred"),
    ]


def test_unchecked_sub_items_that_read_as_tasks() -> None:
    assert actions(
        "[ ] (MRB) make a PR on the bot to mention the policy",
        "[ ] JL: support in conda-build will come in 24.11",
        "[ ] (WV) Also asking OpenSSF for funding",
        "[x] (JK) check the workers",
        "[ ] review the docs",
    ) == [(("MRB",), "make a PR on the bot to mention the policy")]


def test_owned_items_that_say_will() -> None:
    assert actions(
        "(DPC) Will create a Zenodo citation for conda",
        "(KK) will push it out to people",
        "Action: Phil to take a look at the PR",
        "ACTION: get rid of softlinks",
        "Jaime will check with the committee. ~~- a struck-out idea?~~",
    ) == [
        (("DPC",), "create a Zenodo citation for conda"),
        (("KK",), "push it out to people"),
        (("Phil",), "take a look at the PR"),
        ((), "get rid of softlinks"),
        (("Jaime",), "check with the committee."),
    ]


def test_an_owner_nobody_knows_is_kept_as_written() -> None:
    assert actions("Zoltan to fix the mirror", "(Zed?) will chase the vendor") == [
        (("Zoltan",), "fix the mirror"),
        (("Zed?",), "chase the vendor"),
    ]


def test_owners_named_the_way_people_name_them() -> None:
    """Older notes name owners rather than give initials: a name alone, a first name and an
    initial, a name then a dash; the file's attendee table says who they are."""
    doc = notes(
        "Travis will be writing a blog article eventually on plugins",
        "John K. will update the cuda toolkit feedstock",
        "John will go too!",
        "Dasha - open an issue in the conda organization",
        "Jaime \u2014 create the CEP draft",
        "Anaconda to build separate conda-launcher",
    )
    found = [(a.owners, a.people, a.task) for a in doc.action_items()]
    assert found == [
        (("Travis",), ("Travis",), "be writing a blog article eventually on plugins"),
        (("John K.",), ("John K.",), "update the cuda toolkit feedstock"),
        (("John",), ("John",), "go too!"),
        (("Dasha",), ("DG",), "open an issue in the conda organization"),
        (("Jaime",), ("JRG",), "create the CEP draft"),
        (("Anaconda",), ("Anaconda",), "build separate conda-launcher"),
    ]


def test_names_with_particles_glued_initials_and_labels_after_the_task() -> None:
    assert actions(
        "Marius van Niekerk offered to help review on staged-recipes",
        "MichaelS/Sophia will announce the start time on gitter",
        "Design doc for 5.0 (action item for CHL)",
        "(Needs Owner) is no owner outside an action list",
    ) == [
        (("Marius van Niekerk",), "help review on staged-recipes"),
        (("MichaelS", "Sophia"), "announce the start time on gitter"),
        (("CHL",), "Design doc for 5.0"),
    ]


def test_the_roster_knows_handles_and_names_the_notes_do_not() -> None:
    """`jjhelmus to add a comment` is a task only for a reader that knows jjhelmus is a
    person; the roster says so, and who he is, before the attendee table is asked."""
    doc = notes("jjhelmus to add a comment", "Jaime will look into this.")
    assert [a.owners for a in doc.action_items()] == [("Jaime",)]
    roster = [
        Attendee("Jonathan Helmus", "JJH", "Anaconda", "jjhelmus"),
        Attendee("Jaime Rodriguez-Guerra", "JRGU", "", ""),
    ]
    found = [(a.owners, a.people, a.task) for a in doc.action_items(roster)]
    assert found == [
        (("jjhelmus",), ("JJH",), "add a comment"),
        (("Jaime",), ("JRGU",), "look into this."),
    ]


def test_a_name_two_people_answer_to_is_kept_as_written() -> None:
    johns = [Attendee("John Kirkham", "JK"), Attendee("John Lee", "JL")]
    assert person_for("John", johns) == "John"
    assert person_for("John K.", johns) == "JK"
    assert person_for("jakirkham", [Attendee("John Kirkham", "JK", "", "@jakirkham")]) == "JK"
    assert person_for("Rodriguez", [Attendee("Jaime Rodríguez", "JRG")]) == "Rodriguez"
    assert person_for("jaime rodriguez", [Attendee("Jaime Rodríguez", "JRG")]) == "JRG"
    assert person_for("Eric", [Attendee("Eric")]) == "Eric"
    assert person_for("Sophia", [Attendee("Sophia C.")]) == "Sophia C."


NAMES = st.from_regex(r"[A-Z][a-z]{2,9}", fullmatch=True).filter(
    lambda n: (
        n.casefold() not in NOT_PEOPLE
        and n.upper() not in NOT_INITIALS | NOT_NAMES
        and not n.endswith("ing")
    )
)
MENTIONS = [
    "as {} said, the docs need work",
    "we asked {} about the mirror",
    "thanks to {} for the fix",
    "{}'s PR was merged last week",
    "talked with {} yesterday about it",
    "the idea from {} was to move it",
    "ask {} about the budget?",
    "as {} said, we will revisit the pinning",
    "we talked to {} and will follow up",
    "according to {} the mirror will move",
    "the plan from {} will need a review",
    "{}'s proposal to drop py27 was accepted",
    "who will ask {} to review?",
    "we waited for {} to reply",
    "the email {} will send covers it",
]


@given(name=NAMES, template=st.sampled_from(MENTIONS))
def test_text_that_merely_mentions_a_person_is_no_action(name: str, template: str) -> None:
    assert actions(template.format(name)) == []


@given(
    owners=st.lists(
        st.one_of(NAMES, st.sampled_from(["JRG", "DG", "MvN", "@jezdez"])),
        min_size=2,
        max_size=3,
        unique=True,
    ),
    separator=st.sampled_from([" & ", "&", " and ", "/", " / "]),
    verb=st.sampled_from(["to", "will"]),
)
def test_owners_joined_by_and_split_into_each_owner(
    owners: list[str], separator: str, verb: str
) -> None:
    text = f"{separator.join(owners)} {verb} review the packaging docs"
    assert actions(text) == [(tuple(o.lstrip("@") for o in owners), "review the packaging docs")]


def test_labelled_forms_are_explicit() -> None:
    doc = notes(
        "TODO: Eric to set up quarterly check-ins",
        "TODO for @chenghlee: ask the infra team",
        "cfep-10 next steps: CJ to call a vote",
        "AI: raise an issue about PyPy",
        "(TODO) CEP for artifact signature verification (SA, next two weeks)",
    )
    found = [(a.owners, a.task, a.confidence) for a in doc.action_items()]
    assert found == [
        (("Eric",), "set up quarterly check-ins", "explicit"),
        (("chenghlee",), "ask the infra team", "explicit"),
        (("CJ",), "call a vote", "explicit"),
        ((), "raise an issue about PyPy", "explicit"),
        (("SA",), "CEP for artifact signature verification (SA, next two weeks)", "explicit"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "we will look into it",
        "It will be released next week",
        "conda will be upgraded to read the glibc version",
        "Miniconda will start shipping .condarc files",
        "Miniconda and Anaconda Distribution will start shipping .condarc files",
        "Proposal: Account will still be there, but it won't be active.",
        "Anaconda, Inc will use its own DTK.",
        "Jaime will be at PyCon",  # a whereabouts, not a task
        "Jaime will probably join later",
        "Will JRG do it?",
        "JRG to review it?",
        'She said "JRG will fix it" in the call',
        "see [JRG will fix this](https://example.org/1)",
        "`JRG to run` is the command",
        "Welcome to the meeting",
        "Moving to conda build 2.0 requires rebuilds",
        "Wolf to core",
        "Need to talk to Anaconda IT",
        "How to move forward?",
        "CHL: Will talk to the team about it.",  # what a speaker said in the discussion
        "Approval to host the same version of cudatoolkit",
        "Reminder to vote on the CFEP",
        "AWS is going to pay our bill",
        "GSoC will announce mentoring organizations",
    ],
)
def test_prose_that_is_not_an_action_item_stays_out(text: str) -> None:
    assert actions(text) == []


def test_quotes_and_code_blocks_stay_out() -> None:
    doc = NotesDocument.parse(
        BASE + "    - > JRG will fix it\n\n```\nJRG to deploy\nAction item: deploy\n```\n"
        "\n> Action item: quoted\n"
    )
    assert doc.action_items() == []


def test_who_will_do_this_takes_the_topic_as_the_task() -> None:
    doc = NotesDocument.parse(
        BASE + "    - Open a tracking issue for the CEP\n        - Who will do this? JRG will.\n"
    )
    assert [(a.owners, a.task) for a in doc.action_items()] == [
        (("JRG",), "Open a tracking issue for the CEP")
    ]


def test_who_will_do_it_is_answered_by_the_next_line() -> None:
    doc = NotesDocument.parse(
        BASE + "    - ask: who wants to do an async review of the plan?\n"
        "        - Jaime; should also reach out (Dasha to follow up)\n"
        "    - Who will chair? KK\n"
        "    - Who will pay? Nobody knows\n"
    )
    found = sorted((a.line, a.owners, a.task) for a in doc.action_items())
    assert found == [
        (14, ("Dasha",), "follow up"),
        (14, ("Jaime",), "do an async review of the plan"),
        (15, ("KK",), "chair"),
    ]


# --- lists under an action heading or lead-in ----------------------------------------------

ACTION_LISTS = """\
# Meeting

## Check in on previous action items

### Move to Issue Tracker

* [ ] (jakirkham) write a blog post on CUDA
    * a note under it, not a task
* [x] (FF) done already
* [ ] (IF/MRB/MV) intel oneAPI
    * todo
        * [ ] (MRB/IF) think about fortran ABI
* [ ] (Marius?) Python 2.7 migration
    * ( ) [ ] make a hint
* Remove the readthedocs site.
* [ ] jakirkham & CJ-wright to sync on the migration bot
* [ ] (Needs Owner) Searching on our website is a little difficult

## Discussion

Next steps:

- write the abstract
- Dasha to ask the board

- **Actionable things to check in**
    - @Mike S is working on a secondary channel
"""


def test_lists_under_action_headings_and_lead_ins_are_tasks() -> None:
    doc = NotesDocument.parse(ACTION_LISTS)
    found = [(a.owners, a.task) for a in doc.action_items()]
    assert found == [
        (("jakirkham",), "write a blog post on CUDA"),
        (("MRB", "IF"), "think about fortran ABI"),
        ((), "make a hint"),
        ((), "Remove the readthedocs site."),
        (("jakirkham", "CJ-wright"), "sync on the migration bot"),
        ((), "Searching on our website is a little difficult"),
        ((), "write the abstract"),
        (("Dasha",), "ask the board"),
        (("Mike S",), "is working on a secondary channel"),
    ]
    assert {a.confidence for a in doc.action_items()} == {"explicit"}


# --- decisions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "decision", "confidence"),
    [
        ("Consensus: give it a try", "Consensus: give it a try", "explicit"),
        (
            "Decided to keep discussing in the PR",
            "Decided to keep discussing in the PR",
            "explicit",
        ),
        ("Resolved: we ship it", "Resolved: we ship it", "explicit"),
        ("CONCLUSION: reenable it", "CONCLUSION: reenable it", "explicit"),
        ("Agreement that we pin", "Agreement that we pin", "explicit"),
        ("Feeling is no, for now", "Feeling is no, for now", "inferred"),
        ("We decided to move to Zoom", "We decided to move to Zoom", "inferred"),
        (
            "Vote passed: https://github.com/x/y/1",
            "Vote passed: https://github.com/x/y/1",
            "inferred",
        ),
        ("Voice vote to cancel the 29th.", "Voice vote to cancel the 29th.", "inferred"),
        ("Needs new champion. Solved: defer it.", "Solved: defer it.", "explicit"),
        ("8 / 14 yes (57.14%)", "8 / 14 yes (57.14%)", "inferred"),
        (
            "Consensus --- yes; next meeting in May",
            "Consensus --- yes; next meeting in May",
            "explicit",
        ),
    ],
)
def test_decisions(text: str, decision: str, confidence: str) -> None:
    assert find_decision(text) == (decision, confidence)
    assert [(d.text, d.confidence) for d in notes(text).decisions()] == [(decision, confidence)]


@pytest.mark.parametrize(
    "text",
    [
        "Decision on Python 3.6 vs 3.7?",
        "Nothing decided, not even next steps.",
        "No consensus yet",
        "Proposal: move the meeting to 15:00",
        "Calling for vote on CEP 2",
        "Should we agree on this?",
        "Formal document, which includes how consensus is reached",
        "> Consensus: a quote",
        "Decisions:",
        "Decisions to be made: when we start the deprecation",
        "Once you have agreement on the scope, go ahead",
    ],
)
def test_questions_proposals_and_quotes_are_no_decisions(text: str) -> None:
    assert notes(text).decisions() == []


def test_is_decision_means_the_whole_text() -> None:
    assert is_decision("Consensus: try it")
    assert not is_decision("we vote next week")
    assert not is_decision("Needs a champion. Solved: defer it.")


# --- owners of items -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "owners"),
    [
        ("Lilly: new product manager", ("Lilly",)),
        ("Mike S.: the plan", ("Mike S.",)),
        ("John K: the plan", ("John K",)),
        ("Anthony + SoPhia: the plan", ("Anthony", "SoPhia")),
        ("(JL; KO) the plan", ("JL", "KO")),
        ("(WV): the plan", ("WV",)),
        ("(CJ via MRB) the plan", ("CJ", "MRB")),
        ("(Marius?) the plan", ("Marius?",)),
        ("(jaimergp) the plan", ("jaimergp",)),
        ("(DG/Travis) the plan", ("DG", "Travis")),
        ("BZ/WV: the plan", ("BZ", "WV")),
        ("JK (from chat): the plan", ("JK",)),
        ("Asmit - working on the site", ("Asmit",)),
        ("SC: Planning to implement it", ("SC",)),
        ("(IF/MRB/MV) intel oneAPI", ("IF", "MRB", "MV")),
        ("@Christopher W : Add link to the docs", ("Christopher W",)),
        ("[DP]: Question about logging styles", ("DP",)),
    ],
)
def test_owner_forms(text: str, owners: tuple[str, ...]) -> None:
    found = owner_prefix(text)
    assert found is not None and found.owners == owners
    assert notes(text).items("New Agenda Items")[0].children[0].owners == owners


@pytest.mark.parametrize(
    "text",
    [
        "Status: done",
        "Note: CDTs do not contain distro",
        "Zulip CEP: vote now",
        "CEP: vote now",
        "(conda) build tools meeting",
        "(Needs Owner) searching the website",
        "Linux: ready to go",
        "é: lower-case first",
        "CONCLUSION: reenable it",
    ],
)
def test_labels_are_no_owners(text: str) -> None:
    assert owner_prefix(text) is None


# --- attendees -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("roster", "names"),
    [
        ("**Attendees**\n\n*   Jonathan, Phil, John\n*   **Apologies**\n*   Michael (re 16th)\n",
         ["Jonathan", "Phil", "John"]),
        ("**Attendees**\nJonathan Helmus, Eric Dill, @Michael Sarahan\n\n**Notes**\n\nx\n",
         ["Jonathan Helmus", "Eric Dill", "Michael Sarahan"]),
        ("**Attendees**\n\nEric Dill\n\n[Phil Elson](https://x.org/p)\n\n**Standing items**\n",
         ["Eric Dill", "Phil Elson"]),
        ("Attendees (github handle in parens):\n\n- Ann Bee (annb)\n- Cy Dee (cyd)\n\nText.\n",
         ["Ann Bee", "Cy Dee"]),
        ("## Attendees\n\n* **Name (Initials)**\n* Megan Yancy (MCY)\n* Matt B. (MRB)\n* \n",
         ["Megan Yancy", "Matt B."]),
        ("## Attendees\n\n- Ann Bee AB @annb\n- Cy Dee @cyd, Org\n- [ ]\n", ["Ann Bee", "Cy Dee"]),
        ("## Attendees\n\n - MS, ED, Matt B, Uwe\n", ["MS", "ED", "Matt B", "Uwe"]),
    ],
)  # fmt: skip
def test_attendee_list_forms(roster: str, names: list[str]) -> None:
    doc = NotesDocument.parse(f"# 2016-09-23\n\n{roster}\n## Agenda\n\n- [ ] topic\n")
    assert [a.name for a in doc.attendees()] == names


def test_attendee_initials_and_handles_are_read() -> None:
    doc = NotesDocument.parse("## Attendees\n\n- Ann Bee AB @annb\n- Megan Yancy (MCY)\n")
    assert [(a.initials, a.github) for a in doc.attendees()] == [("AB", "annb"), ("MCY", "")]


# --- arbitrary text ------------------------------------------------------------------------

ANY = st.text(st.characters(codec="utf-8"), max_size=300)
MARKDOWN = st.lists(
    st.sampled_from(
        [
            "- ",
            "* [ ] ",
            "    - ",
            "## Action items\n",
            "**Attendees**\n",
            "Next steps:\n",
            "TODO: ",
            "JRG to ",
            "Jaime will ",
            "(XX) ",
            "JRG:",
            "[ ] ",
            "Who will ",
            "? ",
            "Consensus: ",
            "> ",
            "```\n",
            "[a](b) ",
            "`c` ",
            '"q" ',
            "(",
            ")",
            ", ",
            "; ",
            " -- ",
            "\n",
            "\n\n",
        ]
    )
    | ANY,
    max_size=30,
).map("".join)


def test_items_with_only_an_owner_read_as_nothing() -> None:
    assert actions("[ ] (MRB)", "JRG:", "[ ] JRG:") == []


@given(text=ANY)
def test_prose_readers_never_fail(text: str) -> None:
    for found in read_actions(text, {"jaime"}):
        assert found.owners and found.task
    find_decision(text)
    owner_prefix(text)


@given(text=MARKDOWN)
def test_document_readers_never_fail(text: str) -> None:
    doc = NotesDocument.parse(text)
    for action in doc.action_items():
        assert action.confidence in ("explicit", "inferred") and action.line >= 1
    for decision in doc.decisions():
        assert decision.text.strip()
    doc.attendees()

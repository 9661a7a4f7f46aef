"""enforcement.ledger: the canonical form (checked against sha256sum, json.dumps and jq), chains
built by hand and verified, each kind of tampering reported at exactly the entry it touched,
the case-file manifest checked by sha256sum itself, and verification in constant memory."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from enforcement.ledger import (
    FORMAT,
    GENESIS,
    GENESIS_HEAD,
    LEDGER_CHECK_SCRIPT,
    Entry,
    Head,
    Kind,
    Reason,
    canonical_entry,
    canonical_json,
    content_hash_of_fact,
    entry_from_json,
    entry_hash,
    entry_json,
    fact_nonce,
    format_time,
    hash_files_under,
    how_to_verify_text,
    manifest_text,
    next_entry,
    parse_time,
    redaction_record,
    sha256_bytes,
    sha256_file,
    verify_chain,
)

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
CASE = "case:6f1c2a4e-8b1d-4c55-9a3e-0d7f1e2b3c4d"
KINDS = list(Kind)


def build_chain(n: int, evidence: Path | None = None) -> list[Entry]:
    """n entries of every kind in turn; with a directory, every third entry records a file
    written there (its bytes differ per entry)."""
    entries: list[Entry] = []
    previous: Entry | None = None
    for i in range(n):
        file = None
        if evidence is not None and i % 3 == 0:
            file = f"exhibits/{i:04d}/photo {i}.jpg"
            path = evidence / file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"JPEG bytes of exhibit %d" % i)
            content = sha256_file(path)
        else:
            content = content_hash_of_fact({"case": CASE, "step": i})
        previous = next_entry(
            previous,
            kind=KINDS[i % len(KINDS)],
            time=T0 + timedelta(minutes=i, microseconds=i),
            actor="system" if i % 2 else f"user:{40 + i % 5}",
            subject=CASE if i % 4 else f"submission:incident_v3/uuid:{i:08d}-aaaa-4bbb-8ccc-000000000000",
            content_hash=content,
            file=file,
        )
        entries.append(previous)
    return entries


def rehashed(entry: Entry, **changes: Any) -> Entry:
    """The entry with fields changed and its entry_hash recomputed, as a careful forger would."""
    changed = entry._replace(**changes)
    return changed._replace(entry_hash=entry_hash(changed))


def problem_at(entries: list[Entry], **kwargs: object) -> tuple[Reason, int | None, int]:
    result = verify_chain(entries, **kwargs)  # type: ignore[arg-type]
    assert result.problem is not None, "the tampering went unnoticed"
    return result.problem.reason, result.problem.sequence, result.problem.position


# --- The canonical form ------------------------------------------------------------------------


def test_the_documented_example_is_exact():
    """The module docstring's example is the real canonical text and hash: anyone re-verifying
    with another tool can start from it."""
    import enforcement.ledger as module

    doc = module.__doc__ or ""
    block = re.search(r'\n    (\{"actor":"user:42",\n(?:    .*\n)+?    "time":[^\n]*\})\n', doc)
    assert block is not None
    documented = "".join(line.strip() for line in block.group(1).splitlines())
    fact = {"status": "reported", "area": 3}
    entry = next_entry(
        None,
        kind="case_opened",
        time=T0,
        actor="user:42",
        subject=CASE,
        content_hash=content_hash_of_fact(fact),
    )
    assert canonical_entry(entry) == documented
    assert f"its entry_hash is {entry.entry_hash}." in doc
    assert canonical_json(fact) == '{"area":3,"status":"reported"}'
    assert entry.previous_hash == GENESIS == "0" * 64
    # coreutils agrees on the hash of those bytes
    digest = subprocess.run(["sha256sum"], input=documented.encode(), capture_output=True, check=True)
    assert digest.stdout.decode().split()[0] == entry.entry_hash == sha256_bytes(documented.encode())


def awkward_entry() -> Entry:
    """Non-ASCII, a quote, a backslash and a slash in the fields other tools must reproduce."""
    return next_entry(
        next_entry(None, kind="case_opened", time=T0, actor="system", subject=CASE, content_hash="a" * 64),
        kind=Kind.ATTACHMENT_RECEIVED,
        time=datetime(2024, 5, 1, 18, 30, 0, 5, tzinfo=timezone(timedelta(hours=10))),
        actor="user:7",
        subject='submission:patrouille_été/uuid:1 "ß" \\ 🐊',
        content_hash="b" * 64,
        file="submissions/2024/05/01/9f3a/photo 1.jpg",
    )


def test_python_json_rebuilds_the_canonical_form():
    entry = awkward_entry()
    line = entry_json(entry)
    fields = json.loads(line)
    claimed = fields.pop("entry_hash")
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert text == canonical_entry(entry)
    assert sha256_bytes(text.encode()) == claimed == entry.entry_hash
    assert fields["time"] == "2024-05-01T08:30:00.000005Z"  # +10:00 written as UTC
    assert fields["format"] == FORMAT


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_jq_and_sha256sum_rebuild_the_entry_hash(tmp_path):
    """The recipe in the module docstring (jq ... | sha256sum), with tools that share no code
    with this module."""
    entry = awkward_entry()
    (tmp_path / "entry.json").write_text(entry_json(entry) + "\n", encoding="utf-8")
    canonical = subprocess.run(
        ["jq", "-cjS", "del(.entry_hash)", "entry.json"], cwd=tmp_path, capture_output=True, check=True
    ).stdout
    out = subprocess.run(["sha256sum"], input=canonical, capture_output=True, check=True)
    assert out.stdout.decode().split()[0] == entry.entry_hash


def test_canonical_json_is_the_same_for_every_key_order():
    members = {
        "status": "seized",
        "items": [{"what": "snare", "count": 12}, {"what": "shotgun", "count": 1}],
        "case": {"id": CASE, "area": 4},
        "seized_at": datetime(2024, 5, 2, 6, 0, tzinfo=UTC),
        "day": date(2024, 5, 2),
        "nonce": "00ff",
    }
    texts = set()
    for order in itertools.permutations(members):
        fact = {key: members[key] for key in order}
        fact["case"] = dict(reversed(list(members["case"].items())))
        texts.add(canonical_json(fact))
    assert texts == {
        '{"case":{"area":4,"id":"' + CASE + '"},"day":"2024-05-02",'
        '"items":[{"count":12,"what":"snare"},{"count":1,"what":"shotgun"}],'
        '"nonce":"00ff","seized_at":"2024-05-02T06:00:00.000000Z","status":"seized"}'
    }


def test_canonical_json_writes_values_one_way_only():
    assert canonical_json({"t": True, "f": False, "n": None, "i": -7, "s": 'é\n"\\/'}) == (
        '{"f":false,"i":-7,"n":null,"s":"é\\n\\"\\\\/","t":true}'
    )
    assert canonical_json([]) == "[]" and canonical_json({}) == "{}"
    # The same instant in any timezone is one text.
    assert canonical_json(datetime(2024, 5, 1, 18, 30, tzinfo=timezone(timedelta(hours=10)))) == (
        canonical_json(datetime(2024, 5, 1, 8, 30, tzinfo=UTC))
    )
    # Keys sorted by UTF-16 code units (RFC 8785): U+1F40A (surrogates D83D DC0A) before U+E000,
    # though its code point is larger.
    assert canonical_json({"\ue000": 1, "🐊": 2, "a": 3}) == '{"a":3,"🐊":2,"\ue000":1}'
    assert canonical_json(2**53 - 1) == "9007199254740991"


@pytest.mark.parametrize(
    "value",
    [
        {"amount": 1.5},
        {"amount": Decimal("1500.00")},
        {"big": 2**53},
        {"when": datetime(2024, 5, 1, 8, 30)},  # naive
        {1: "key not a string"},
        {"raw": b"bytes"},
        {"tags": {"a", "b"}},
        {"text": "\ud800"},  # a lone surrogate has no UTF-8
    ],
)
def test_canonical_json_refuses_what_has_no_single_spelling(value):
    with pytest.raises((TypeError, ValueError)):
        canonical_json(value)


def test_times_are_utc_with_microseconds_both_ways():
    moment = datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5)))
    assert format_time(moment) == "2024-03-01T04:59:59.999999Z"
    assert parse_time("2024-03-01T04:59:59.999999Z") == moment
    assert format_time(datetime(7, 1, 2, tzinfo=UTC)) == "0007-01-02T00:00:00.000000Z"
    for spelling in (
        "2024-03-01T04:59:59Z",
        "2024-03-01T04:59:59.999999+00:00",
        "2024-03-01 04:59:59.999999Z",
    ):
        with pytest.raises(ValueError):
            parse_time(spelling)


def test_sha256_file_streams_and_matches_sha256_bytes(tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 17)
    (tmp_path / "big.bin").write_bytes(data)
    assert sha256_file(tmp_path / "big.bin") == sha256_bytes(data)
    assert sha256_bytes(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_ledger_imports_without_django():
    code = "import sys, enforcement.ledger; assert 'django' not in sys.modules, sorted(sys.modules)"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)


# --- Appending ---------------------------------------------------------------------------------


def test_next_entry_numbers_and_links_each_entry():
    first = next_entry(
        None, kind=Kind.CASE_OPENED, time=T0, actor="user:1", subject=CASE, content_hash="c" * 64
    )
    assert (first.sequence, first.previous_hash) == (1, GENESIS)
    assert first.entry_hash == entry_hash(first) == entry_hash(first._asdict())
    local = datetime(2024, 5, 1, 18, 31, 0, 250, tzinfo=timezone(timedelta(hours=10)))
    fields = {"kind": "custody_transferred", "time": local, "actor": "user:2", "subject": CASE}
    second = next_entry(first, **fields, content_hash="d" * 64)
    assert (second.sequence, second.previous_hash) == (2, first.entry_hash)
    assert second.time == local and second.time.tzinfo is UTC and second.time.microsecond == 250
    assert second.kind == "custody_transferred" and type(second.kind) is str
    # The app may keep only the head: the same entry follows.
    assert next_entry(first.head, **fields, content_hash="d" * 64) == second
    assert str(second.head) == f"2:{second.entry_hash}" and Head.parse(f" {second.head}\n") == second.head


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "case_reopened"},  # not a Kind
        {"time": datetime(2024, 5, 1, 8, 30)},  # naive
        {"actor": ""},
        {"actor": " user:1"},
        {"subject": "case:1\nforged line"},
        {"subject": "case:\x7f"},
        {"content_hash": "C" * 64},  # upper case
        {"content_hash": "c" * 63},
        {"file": "/etc/passwd"},
        {"file": "exhibits/../../etc/passwd"},
        {"file": "exhibits//photo.jpg"},
        {"file": "C:/evidence/photo.jpg"},
    ],
)
def test_next_entry_refuses_malformed_fields(change):
    fields = {"kind": "file_added", "time": T0, "actor": "user:1", "subject": CASE, "content_hash": "c" * 64}
    with pytest.raises(ValueError):
        next_entry(None, **{**fields, **change})


def test_a_head_is_read_strictly():
    for text in ("12", "x:" + "a" * 64, "12:" + "a" * 63, "-1:" + "a" * 64, "١٢:" + "a" * 64):
        with pytest.raises(ValueError):
            Head.parse(text)
    assert Head.parse("12:" + "A" * 64) == Head(12, "a" * 64)


# --- Verification: a clean chain ----------------------------------------------------------------


def test_a_clean_chain_verifies_with_its_files_and_heads(tmp_path):
    chain = build_chain(30, tmp_path)
    result = verify_chain(
        chain,
        file_hash=hash_files_under(tmp_path),
        expected_head=chain[-1].entry_hash,
        published_heads=[chain[9].head, chain[19].head],
    )
    assert result.ok, result.problem
    assert (result.checked, result.files, result.heads, result.head) == (30, 10, 3, chain[-1].head)


def test_an_empty_chain_verifies_and_its_head_is_the_genesis():
    result = verify_chain([])
    assert result.ok and result.head == GENESIS_HEAD and result.checked == 0
    assert verify_chain([], expected_head=GENESIS).ok


def test_verifying_from_a_head_checks_only_what_follows():
    chain = build_chain(20)
    assert verify_chain(chain[12:], after=chain[11].head, expected_head=chain[-1].entry_hash).ok
    assert problem_at(chain[12:], after=chain[10].head) == (Reason.DELETED, 12, 1)


def test_a_chain_read_back_from_json_lines_verifies():
    chain = build_chain(12)
    lines = [entry_json(entry) for entry in chain]
    assert [entry_from_json(line + "\n") for line in lines] == chain
    assert verify_chain(entry_from_json(line) for line in lines).ok
    spaced = json.dumps(json.loads(lines[3]))  # same data, not canonical
    with pytest.raises(ValueError, match="canonical"):
        entry_from_json(spaced)
    with pytest.raises(ValueError):
        entry_from_json(lines[3].replace(FORMAT, "fieldkit.ledger.v2"))


# --- Verification: tampering, each reported at exactly its entry -----------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("kind", "redaction"),
        ("time", T0 + timedelta(days=1)),
        ("actor", "user:99"),
        ("subject", "case:00000000-0000-0000-0000-000000000000"),
        ("content_hash", "e" * 64),
        ("file", "exhibits/other.jpg"),
        ("previous_hash", "f" * 64),
        ("entry_hash", "0" * 63 + "1"),
    ],
)
def test_an_edited_field_is_reported_at_its_entry(field, value):
    chain = build_chain(12)
    chain[6] = chain[6]._replace(**{field: value})
    assert problem_at(chain) == (Reason.EDITED, 7, 7)


def test_an_edited_sequence_is_reported_at_its_place_in_the_stream():
    chain = build_chain(12)
    chain[6] = chain[6]._replace(sequence=70)
    result = verify_chain(chain)
    assert result.problem is not None
    assert (result.problem.reason, result.problem.sequence, result.problem.position) == (Reason.EDITED, 70, 7)
    assert "where entry 7 belongs" in result.problem.detail
    assert result.head == chain[5].head and result.checked == 6


def test_a_row_that_cannot_be_hashed_is_an_edit():
    chain = build_chain(8)
    chain[4] = chain[4]._replace(time=chain[4].time.replace(tzinfo=None))
    assert problem_at(chain) == (Reason.EDITED, 5, 5)
    chain = build_chain(8)
    chain[4] = chain[4]._replace(sequence="5")
    assert problem_at(chain) == (Reason.EDITED, None, 5)


@pytest.mark.parametrize("index", [0, 6, 10])
def test_a_deleted_entry_is_reported_at_its_number(index):
    chain = build_chain(12)
    del chain[index]
    assert problem_at(chain)[:2] == (Reason.DELETED, index + 1)


def test_deleted_entries_renumbered_and_rehashed_break_the_next_link():
    """A forger removes entry 7 and renumbers and rehashes every later entry, but cannot fix
    the link from 8 (now 7) to the entry it followed without rewriting the rest."""
    chain = build_chain(12)
    forged = chain[:6] + [rehashed(entry, sequence=entry.sequence - 1) for entry in chain[7:]]
    reason, sequence, _ = problem_at(forged)
    assert (reason, sequence) == (Reason.DELETED, 7)


def test_the_last_entry_deleted_is_caught_by_a_head():
    chain = build_chain(12)
    head = chain[-1].head
    del chain[-1]
    assert verify_chain(chain).ok  # nothing to recompute: only a head can tell
    assert problem_at(chain, published_heads=[head])[:2] == (Reason.HEAD_MISMATCH, 12)
    assert problem_at(chain, expected_head=head.entry_hash)[:2] == (Reason.HEAD_MISMATCH, 11)


@pytest.mark.parametrize("first, second", [(6, 7), (6, 10), (0, 1), (0, 11)])
def test_two_swapped_entries_are_reported_where_the_first_belongs(first, second):
    chain = build_chain(12)
    chain[first], chain[second] = chain[second], chain[first]
    assert problem_at(chain)[:2] == (Reason.REORDERED, first + 1)


def test_two_rows_with_swapped_sequence_numbers_are_an_edit_at_the_first():
    """Swapping two rows' numbers in the table: read in sequence order, the first no longer
    matches its hash, since the sequence is hashed."""
    chain = build_chain(12)
    chain[6], chain[9] = chain[9]._replace(sequence=7), chain[6]._replace(sequence=10)
    assert problem_at(chain) == (Reason.EDITED, 7, 7)


def test_an_entry_edited_and_rehashed_is_caught_at_the_next_link():
    chain = build_chain(12)
    chain[6] = rehashed(chain[6], actor="user:99")
    assert problem_at(chain)[:2] == (Reason.DELETED, 8)  # entry 8's predecessor is gone


def test_an_entry_linked_to_a_later_one_is_reordered():
    chain = build_chain(12)
    chain[6] = rehashed(chain[6], previous_hash=chain[9].entry_hash)
    assert problem_at(chain)[:2] == (Reason.REORDERED, 7)


def test_a_fork_is_reported_at_the_second_entry_with_one_number():
    chain = build_chain(8)
    twin = next_entry(
        chain[4], kind="file_added", time=T0, actor="user:5", subject=CASE, content_hash="9" * 64
    )
    forked = [*chain[:6], twin, *chain[6:]]
    assert problem_at(forked) == (Reason.FORKED, 6, 7)


def test_the_first_problem_is_the_one_reported(tmp_path):
    chain = build_chain(12, tmp_path)
    (tmp_path / chain[9].file).write_bytes(b"changed")
    chain[7] = chain[7]._replace(actor="user:99")
    del chain[4]
    assert problem_at(chain, file_hash=hash_files_under(tmp_path))[:2] == (Reason.DELETED, 5)


def test_a_changed_file_is_reported_at_its_entry(tmp_path):
    chain = build_chain(12, tmp_path)
    assert chain[6].file is not None
    path = tmp_path / chain[6].file
    path.write_bytes(path.read_bytes() + b"\x00")
    result = verify_chain(chain, file_hash=hash_files_under(tmp_path))
    assert result.problem is not None
    assert (result.problem.reason, result.problem.sequence) == (Reason.FILE_CHANGED, 7)
    assert result.files == 2 and result.checked == 6
    assert verify_chain(chain).ok  # without the files, the chain itself is intact


def test_a_missing_file_is_reported_at_its_entry(tmp_path):
    chain = build_chain(12, tmp_path)
    assert chain[9].file is not None
    (tmp_path / chain[9].file).unlink()
    assert problem_at(chain, file_hash=hash_files_under(tmp_path)) == (Reason.FILE_MISSING, 10, 10)


def test_a_consistent_rewrite_is_caught_only_by_a_published_head():
    chain = build_chain(12)
    rewritten = chain[:4]
    for entry in chain[4:]:
        actor = "user:99" if entry.sequence == 5 else entry.actor
        rewritten.append(
            next_entry(
                rewritten[-1],
                kind=entry.kind,
                time=entry.time,
                actor=actor,
                subject=entry.subject,
                content_hash=entry.content_hash,
                file=entry.file,
            )
        )
    assert verify_chain(rewritten).ok
    assert verify_chain(rewritten, published_heads=[chain[3].head]).ok  # published before it
    assert problem_at(rewritten, published_heads=[chain[3].head, chain[7].head])[:2] == (
        Reason.HEAD_MISMATCH,
        8,
    )
    assert problem_at(rewritten, published_heads=[chain[4].head])[:2] == (Reason.HEAD_MISMATCH, 5)
    result = verify_chain(rewritten, expected_head=chain[-1].entry_hash)
    assert result.problem is not None and result.problem.reason == Reason.HEAD_MISMATCH
    assert "nowhere in it" in result.problem.detail


def test_entries_after_the_expected_head_are_reported():
    chain = build_chain(12)
    assert problem_at(chain, expected_head=chain[8].entry_hash) == (Reason.HEAD_MISMATCH, 10, 10)


def test_malformed_heads_are_the_callers_mistake():
    chain = build_chain(3)
    with pytest.raises(ValueError):
        verify_chain(chain, expected_head="not a hash")
    with pytest.raises(ValueError):
        verify_chain(chain[1:], after=chain[0].head, published_heads=[Head(1, "a" * 64)])


# --- Redaction -------------------------------------------------------------------------------


def test_redaction_keeps_the_chain_and_records_no_removed_value():
    """The case tables hold the facts; the chain holds their hashes. Removing a person's
    details from the tables and recording the redaction leaves a chain that verifies."""
    person = {"case": CASE, "name": "Kila Wari", "village": "Koiari", "nonce": fact_nonce()}
    table = {"person:1": dict(person)}
    chain = [
        next_entry(
            None,
            kind=Kind.CASE_OPENED,
            time=T0,
            actor="user:3",
            subject="person:1",
            content_hash=content_hash_of_fact(person),
        )
    ]
    record = redaction_record(
        subject="person:1",
        fields=["village", "name", "nonce", "name"],
        reason="retention period over after the case closed",
        redacted_by="user:1",
        redacted_at=T0 + timedelta(days=800),
    )
    table["person:1"].update(name="", village="", nonce="")
    chain.append(
        next_entry(
            chain[-1],
            kind=Kind.REDACTION,
            time=T0 + timedelta(days=800),
            actor="user:1",
            subject="person:1",
            content_hash=content_hash_of_fact(record),
        )
    )
    assert verify_chain(chain).ok
    assert record["fields"] == ["name", "nonce", "village"]
    stored = canonical_json(record) + "".join(entry_json(entry) for entry in chain)
    assert "Kila" not in stored and "Koiari" not in stored
    # Without the nonce, the old hash cannot be found again by guessing the name.
    guess = {"case": CASE, "name": "Kila Wari", "village": "Koiari"}
    assert content_hash_of_fact(guess) != chain[0].content_hash
    with pytest.raises(ValueError):
        redaction_record(subject="person:1", fields=[], reason="x", redacted_by="user:1", redacted_at=T0)


# --- The case-file manifest -------------------------------------------------------------------


CASE_FILES = {
    "summary.pdf": b"%PDF-1.7 summary",
    "exhibits/E1 snare wire.jpg": b"snare",  # spaces
    "exhibits/E2/photo_été.jpg": b"photo",  # non-ASCII
    "submissions/uuid:0001/submission.xml": b"<data/>",
    "ledger.jsonl": b"{}\n",
    "odd/back\\slash.txt": b"backslash",  # GNU sha256sum escapes these
    "odd/new\nline.txt": b"newline",
}


def write_case_file(directory: Path) -> str:
    for name, data in CASE_FILES.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    text = manifest_text((name, sha256_bytes(data)) for name, data in reversed(CASE_FILES.items()))
    (directory / "MANIFEST.sha256").write_bytes(text.encode("utf-8"))
    return text


def test_sha256sum_checks_the_manifest(tmp_path):
    write_case_file(tmp_path)
    checked = subprocess.run(["sha256sum", "-c", "MANIFEST.sha256"], cwd=tmp_path, capture_output=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.decode().count(": OK\n") == len(CASE_FILES)
    assert "exhibits/E1 snare wire.jpg: OK" in checked.stdout.decode()

    (tmp_path / "exhibits/E1 snare wire.jpg").write_bytes(b"snarf")
    (tmp_path / "summary.pdf").unlink()
    checked = subprocess.run(["sha256sum", "-c", "MANIFEST.sha256"], cwd=tmp_path, capture_output=True)
    assert checked.returncode == 1
    assert "exhibits/E1 snare wire.jpg: FAILED" in checked.stdout.decode()
    assert "summary.pdf: FAILED open or read" in checked.stdout.decode()


def test_the_manifest_is_what_sha256sum_itself_writes(tmp_path):
    text = write_case_file(tmp_path)
    names = sorted(CASE_FILES)
    written = subprocess.run(["sha256sum", "--", *names], cwd=tmp_path, capture_output=True, check=True)
    assert written.stdout.decode("utf-8") == text
    assert "\\" + sha256_bytes(b"newline") + "  odd/new\\nline.txt\n" in text


@pytest.mark.skipif(shutil.which("shasum") is None, reason="shasum (Perl, as on macOS) is not installed")
def test_shasum_checks_the_manifest(tmp_path):
    write_case_file(tmp_path)
    checked = subprocess.run(
        ["shasum", "-a", "256", "-c", "MANIFEST.sha256"], cwd=tmp_path, capture_output=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    "pairs",
    [
        [("/etc/passwd", "a" * 64)],
        [("../outside.txt", "a" * 64)],
        [("exhibits/./E1.jpg", "a" * 64)],
        [("", "a" * 64)],
        [("a.txt", "a" * 64), ("a.txt", "b" * 64)],
        [("a.txt", "not a hash")],
    ],
)
def test_the_manifest_refuses_names_that_could_mislead(pairs):
    with pytest.raises(ValueError):
        manifest_text(pairs)


def test_the_ledger_check_in_the_instructions_verifies_an_excerpt(tmp_path):
    """The Python lines a prosecutor is told to run accept an intact excerpt, and name the
    line of one that was edited, shortened in the middle or reordered."""
    chain = build_chain(20)
    excerpt = chain[5:15]
    text = how_to_verify_text(first=excerpt[0].head, last=excerpt[-1].head)
    assert "sha256sum -c MANIFEST.sha256" in text and "shasum -a 256 -c MANIFEST.sha256" in text
    assert "Get-FileHash -Algorithm SHA256" in text
    assert "entries 6 to 15" in text and str(excerpt[-1].head) in text
    script = "".join(line[4:] + "\n" for line in text.splitlines() if line.startswith("    "))
    assert LEDGER_CHECK_SCRIPT in script
    (tmp_path / "check_ledger.py").write_text(LEDGER_CHECK_SCRIPT)

    def check(entries: list[str]) -> subprocess.CompletedProcess[str]:
        (tmp_path / "ledger.jsonl").write_text("".join(line + "\n" for line in entries), encoding="utf-8")
        return subprocess.run(
            [sys.executable, "check_ledger.py", "ledger.jsonl"], cwd=tmp_path, capture_output=True, text=True
        )

    lines = [entry_json(entry) for entry in excerpt]
    intact = check(lines)
    assert intact.returncode == 0 and intact.stdout == f"ledger intact: last entry {excerpt[-1].head}\n"

    edited = list(lines)
    edited[3] = edited[3].replace('"actor":"', '"actor":"x', 1)
    assert "line 4: entry 9 does not match" in check(edited).stderr
    assert "line 4: entry 10 does not follow entry 8" in check(lines[:3] + lines[4:]).stderr
    swapped = [*lines[:3], lines[4], lines[3], *lines[5:]]
    assert check(swapped).returncode != 0


# --- Constant memory and speed --------------------------------------------------------------


def lazy_chain(n: int) -> Iterator[Entry]:
    """A chain made while it is read, as a database cursor yields rows: never all in memory."""
    previous: Entry | None = None
    content = content_hash_of_fact({"case": CASE})
    for i in range(n):
        previous = next_entry(
            previous,
            kind=Kind.CUSTODY_TRANSFERRED,
            time=T0 + timedelta(microseconds=i),
            actor="user:42",
            subject=CASE,
            content_hash=content,
        )
        yield previous


MEMORY_PROBE = """
import sys
from datetime import UTC, datetime, timedelta
from enforcement.ledger import next_entry, verify_chain

def lazy_chain(n):
    previous = None
    for i in range(n):
        previous = next_entry(previous, kind="custody_transferred", actor="user:42", subject="case:1",
                              time=datetime(2024, 5, 1, tzinfo=UTC) + timedelta(microseconds=i),
                              content_hash="c" * 64)
        yield previous

def peak_kib():
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("VmHWM:")).split()[1])

assert verify_chain(lazy_chain(1000)).ok
# A child starts with its parent's peak (it is copied at fork): reset it (Linux ≥ 4.0).
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")
before = peak_kib()
entries = list(lazy_chain(100_000)) if sys.argv[1] == "list" else lazy_chain(100_000)
assert verify_chain(entries).checked == 100_000
print(peak_kib() - before)
"""


def test_verification_memory_does_not_grow_with_the_chain():
    """100,000 entries read from a generator, as from a database cursor: the process's peak
    memory barely moves, while holding the same entries in a list costs tens of MB."""

    def growth_kib(mode: str) -> int:
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_PROBE, mode], cwd=ROOT, capture_output=True, text=True, check=True
        )
        return int(out.stdout)

    streamed, held = growth_kib("stream"), growth_kib("list")
    assert streamed < 2 * 1024, f"{streamed} KiB"
    assert held > 20 * 1024, f"{held} KiB"  # the probe can see growth when there is some


def test_verification_reads_100k_entries_in_a_few_seconds():
    chain = list(lazy_chain(100_000))
    started = time.perf_counter()
    result = verify_chain(chain, expected_head=chain[-1].entry_hash)
    elapsed = time.perf_counter() - started
    assert result.ok and result.checked == 100_000
    # About 0.5 s on a quiet 2-core machine (≈ 200,000 entries/s); bench/ledger.py measures it.
    assert elapsed < 5, f"{100_000 / elapsed:.0f} entries/s"

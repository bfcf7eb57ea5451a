"""`screener classify`: screen a JSONL file of records, one JSON result per line, in order.

Only JSON goes to the output stream. Bad lines become error records and the
run goes on; the caller turns `errors > 0` into exit status 3.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import IO, Iterable, Iterator

from screener import hold_earlier
from screener.errors import RecordError
from screener.message import Message, clean_text
from screener.screening import Screener

CHUNK = 1024


@dataclass
class ClassifyStats:
    screened: int = 0
    errors: int = 0


def parse_line(line: str) -> Message | dict:
    """A Message, or the error record for this line."""
    try:
        return Message.from_json(line)
    except RecordError as exc:
        rec_id = None
        try:
            obj = json.loads(line)
            if isinstance(obj, dict) and isinstance(obj.get("id"), (str, int)):
                rec_id = clean_text(str(obj["id"]))
        except (ValueError, RecursionError):
            pass
        return {"id": rec_id, "error": str(exc)}


def chunks(lines: Iterable[str], size: int = CHUNK) -> Iterator[list[str]]:
    batch: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        batch.append(line)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def classify_stream(screener: Screener, lines: Iterable[str], out: IO[str], progress=None) -> ClassifyStats:
    """Each chunk's records are written once the next chunk is screened: a sender that a later
    message shows to be a blocked person has its earlier messages held (`screener.hold_earlier`)
    over two chunks, 1,024 to 2,047 records back."""
    stats = ClassifyStats()
    waiting = None   # the previous chunk: (parsed lines, messages, verdicts, seen_before), not yet written
    for batch in chunks(lines):
        parsed = [parse_line(line) for line in batch]
        messages = [p for p in parsed if isinstance(p, Message)]
        verdicts, seen_before = screener.screen_each(messages)
        if waiting is None:
            verdicts = hold_earlier.revise_batch(messages, verdicts, seen_before)
        else:
            before, earlier_messages, earlier_verdicts, earlier_seen = waiting
            both = hold_earlier.revise_batch(earlier_messages + messages, earlier_verdicts + verdicts,
                                             earlier_seen + seen_before)
            _write(before, both[:len(earlier_verdicts)], out, stats)
            verdicts = both[len(earlier_verdicts):]
        waiting = (parsed, messages, verdicts, seen_before)
        if progress:
            progress(len(batch))
    if waiting is not None:
        _write(waiting[0], waiting[2], out, stats)
    out.flush()
    return stats


def _write(parsed: list, verdicts: list, out: IO[str], stats: ClassifyStats) -> None:
    results = iter(verdicts)
    for p in parsed:
        if isinstance(p, Message):
            record = next(results).as_dict()
            stats.screened += 1
        else:
            record = p
            stats.errors += 1
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


class Progress:
    """A plain progress line on standard error, only when it is a terminal."""

    def __init__(self, total_bytes: int | None, stream=sys.stderr):
        self.enabled = stream.isatty() and bool(total_bytes)
        self.stream, self.done = stream, 0

    def __call__(self, n: int) -> None:
        self.done += n
        if self.enabled:
            self.stream.write(f"\rscreened {self.done:,} messages")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")

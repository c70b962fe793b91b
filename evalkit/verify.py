"""Check a data folder a user already has, before a long run finds its holes at frame 900 of sequence 71.

    >>> result = verify_suite("otb100", Path("../shared/data/sequences"), ["Couple", "Dog1"])  # doctest: +SKIP
    >>> result.ok, result.findings[:1]                                                  # doctest: +SKIP
    (True, [])

What :mod:`evalkit.preflight` checks for a run (the suite name, the root and its layout, malformed annotation files
naming file and line, unknown ``--sequences`` names, frame images missing) is reused as it is; on top of it every
missing sequence gets its own line, and every frame image of the selected sequences is opened (its header only) to
check that it is readable and the same size as the sequence's other frames (and as a VOT ``sequence`` file says).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.errors import EvalkitError, InputFileError


@dataclass(frozen=True)
class Finding:
    """One thing missing or wrong: what it concerns and what is wrong, printed as one line."""

    kind: str  # missing | annotation | frames | image | data | sequence
    subject: str  # suite/sequence, or the suite
    message: str

    def __str__(self) -> str:
        return f"{self.kind:10s} {self.subject}: {self.message}"


@dataclass
class VerifyResult:
    """Everything :func:`verify_suite` found, and how much it looked at."""

    suite: str
    root: Path
    source: str = ""
    expected: int = 0  # sequences in the benchmark
    checked: list[str] = field(default_factory=list)  # sequences whose files were checked
    frames: int = 0  # frame images opened
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is missing or wrong."""
        return not self.findings

    def summary(self) -> str:
        """One line: how many sequences and frames were checked, and how many problems were found."""
        kinds = Counter(f.kind for f in self.findings)
        bad = {f.subject for f in self.findings if f.kind != "missing"}
        head = (f"{self.suite}: {len(self.checked)} sequence{'s' if len(self.checked) != 1 else ''} checked "
                f"({self.frames} frames) in {self.source or self.root}")
        if self.ok:
            return f"{head}: OK"
        parts = [f"{kinds['missing']} of {self.expected} sequences missing"] if kinds["missing"] else []
        if bad:
            parts.append(f"{len(bad)} with problems ({len(self.findings) - kinds['missing']} lines above)")
        return f"{head}: {', '.join(parts)}"


def verify_suite(suite: str, root: Path, sequences: SequenceABC[str] | None = None,
                 images: bool = True) -> VerifyResult:
    """Check ``root`` as ``suite``'s data: every (or each named) sequence present, its annotation well formed, every
    annotated frame's image present, readable and of one size. ``images=False`` skips opening the images."""
    from evalkit.datasets import load_suite
    from evalkit.preflight import preflight

    root = Path(root).expanduser()
    result = VerifyResult(suite.lower(), root)
    # allow_partial: the aggregate "N sequences missing" line is replaced by one line per missing sequence below
    problems = preflight([], None, [suite], {suite: root}, sequences, allow_partial=True)
    for p in problems:
        kind = {"data": "annotation" if "/" in p.subject else "data"}.get(p.kind, p.kind)
        # the fix is kept where the message alone does not say what to do (a bad root, a misspelt sequence)
        message = f"{p.message} (fix: {p.fix})" if kind in ("data", "sequence", "suite") else p.message
        result.findings.append(Finding(kind, p.subject, message))
    if any(p.kind in ("suite", "data") and "/" not in p.subject for p in problems):
        return result  # no usable root: nothing further can be looked at
    try:
        loaded = load_suite(suite, root, collect=True)
    except (EvalkitError, OSError) as exc:  # preflight reported it already
        result.findings.append(Finding("data", suite, str(exc)))
        return result
    result.source, result.expected = loaded.source, len(loaded.expected)
    failed = set(loaded.failed)
    if sequences:
        selected = [s for n in sequences if (s := loaded.find(n)) is not None]
    else:
        selected = list(loaded)
        where = loaded.source or str(root)
        result.findings += [Finding("missing", f"{suite}/{name}", f"not in {where}")
                            for name in loaded.missing if name not in failed]
    result.checked = [s.name for s in selected] + [n for n in loaded.failed if not sequences or n in sequences]
    if images:
        from tqdm import tqdm

        # LaSOT's 280 sequences are 690k frame headers (minutes): a bar on a terminal, silence in logs
        for seq in tqdm(selected, desc=f"{suite} images", unit="seq", leave=False, file=sys.stderr, disable=None):
            result.frames += _check_images(suite, seq, result.findings)
    return result


def _check_images(suite: str, seq: object, findings: list[Finding]) -> int:
    """Open every present frame's header: unreadable images, and sizes other than the sequence's usual one."""
    from evalkit.datasets.base import read_image_size

    frames = getattr(seq, "frames", None)
    if not frames:
        return 0
    subject = f"{suite}/{getattr(seq, 'name', '?')}"
    sizes: dict[Path, tuple[int, int]] = {}
    opened = 0
    for path in frames:
        if not path.is_file():
            continue  # named by preflight's frame check
        opened += 1
        try:
            sizes[path] = read_image_size(path)
        except InputFileError as exc:
            findings.append(Finding("image", subject, str(exc)))
    if not sizes:
        return opened
    usual, _ = Counter(sizes.values()).most_common(1)[0]
    odd = [(p, s) for p, s in sizes.items() if s != usual]
    if odd:
        first, size = odd[0]
        findings.append(Finding("image", subject, f"{len(odd)} of {len(sizes)} frames are not {usual[0]}x{usual[1]} "
                                                  f"like the others (first: {first} is {size[0]}x{size[1]})"))
    declared = getattr(seq, "image_size", None)
    if declared is not None and tuple(declared) != usual:
        findings.append(Finding("image", subject, f"frames are {usual[0]}x{usual[1]} but the annotation declares "
                                                  f"{declared[0]}x{declared[1]}"))
    return opened

"""Validation of notebook parameters (the cell tagged ``parameters``).

Papermill accepts any value for any name: ``-p EPOCHS one`` gives the string
"one", ``-r`` always gives strings, and an unknown name such as ``-p EPOCH 3``
is only a warning in its log while the notebook trains with the default. So
every notebook calls :func:`check_parameters` right after its parameters cell:
it stops the run before any training, with one message that lists every problem
and the values that are allowed.
"""

from __future__ import annotations

import ast
import difflib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path


class ParameterError(ValueError):
    """One or more notebook parameters are missing, unknown or out of range."""


@dataclass(frozen=True)
class Rule:
    """What a parameter may be: a test and the words that describe it."""

    description: str
    accepts: Callable[[object], bool]
    #: Optional: says *why* a rejected value is wrong (e.g. "it is a file").
    explain: Callable[[object], str] | None = None


def _range_words(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" >= {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""


def _in_range(value: float, minimum: float | None, maximum: float | None) -> bool:
    return (minimum is None or value >= minimum) and (maximum is None or value <= maximum)


def choice(*allowed: object) -> Rule:
    """The value must be one of ``allowed`` (compared with ``==``, type included)."""
    words = ", ".join(repr(value) for value in allowed)
    return Rule(f"one of {words}", lambda v: any(type(v) is type(a) and v == a for a in allowed))


def integer(minimum: int | None = None, maximum: int | None = None) -> Rule:
    """A whole number (not a bool) within the optional bounds."""

    def accepts(value: object) -> bool:
        return (
            isinstance(value, Integral)
            and not isinstance(value, bool)
            and _in_range(int(value), minimum, maximum)
        )

    return Rule(f"an integer{_range_words(minimum, maximum)}", accepts)


def number(minimum: float | None = None, maximum: float | None = None) -> Rule:
    """An int or float (not a bool) within the optional bounds."""

    def accepts(value: object) -> bool:
        return (
            isinstance(value, Real)
            and not isinstance(value, bool)
            and _in_range(float(value), minimum, maximum)
        )

    return Rule(f"a number{_range_words(minimum, maximum)}", accepts)


def boolean() -> Rule:
    """``True`` or ``False``."""
    return Rule("True or False", lambda v: isinstance(v, bool))


def text() -> Rule:
    """A non-empty string (a folder name, for example)."""
    return Rule("a non-empty string", lambda v: isinstance(v, str) and v.strip() != "")


def list_of(rule: Rule, min_length: int = 1) -> Rule:
    """A list (or tuple) of at least ``min_length`` items, each accepted by ``rule``."""

    def accepts(value: object) -> bool:
        return (
            isinstance(value, (list, tuple))
            and len(value) >= min_length
            and all(rule.accepts(item) for item in value)
        )

    return Rule(f"a list of at least {min_length} items, each {rule.description}", accepts)


def optional(rule: Rule) -> Rule:
    """``None`` (meaning: decided by the notebook, e.g. by the training budget) or ``rule``."""
    return Rule(f"None or {rule.description}", lambda v: v is None or rule.accepts(v), rule.explain)


def _folder_problem(value: object) -> str:
    """Why ``value`` cannot be a folder to write into ("" when it can)."""
    path = Path(str(value)).expanduser()
    if path.exists() and not path.is_dir():
        return f"{str(path)!r} exists and is not a folder"
    existing = path
    while not existing.exists():  # the folder is created later: its nearest ancestor decides
        existing = existing.parent
    if not existing.is_dir():
        return f"{str(existing)!r} is a file, so no folder can be made inside it"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"this process may not write into {str(existing.resolve())!r}"
    return ""


def writable_folder() -> Rule:
    """A folder name that this notebook can create or write into (relative to the notebook).

    Checked with the parameters so that a notebook never trains for minutes and
    then fails to save its results.
    """
    return Rule(
        "a folder this notebook can write into (created if missing)",
        lambda v: isinstance(v, str) and v.strip() != "" and not _folder_problem(v),
        lambda v: _folder_problem(v) if isinstance(v, str) and v.strip() else "",
    )


def parse_literal(text: str) -> object:
    """Read a value as a Python literal (``"3"`` -> 3, ``"[16, 32]"`` -> [16, 32]), else keep the string.

    The course runner reads ``-p NAME=VALUE`` with it, and the parameter check
    uses it to spot numbers that arrived as strings (papermill's ``-r``).
    """
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _looks_like_parameter(name: str) -> bool:
    """Parameters are UPPER_CASE globals; everything else in a namespace is ignored."""
    return not name.startswith("_") and name.isupper()


def check_parameters(namespace: Mapping[str, object], **rules: Rule) -> dict[str, object]:
    """Check the notebook's parameters and return them as a dict (for the results file).

    ``namespace`` is the notebook's ``globals()``; ``rules`` maps each parameter
    name to a :class:`Rule`. Any UPPER_CASE name in the namespace without a rule
    is reported as unknown, which catches papermill typos like ``-p EPOCH 3``.
    Raises :class:`ParameterError` listing every problem at once.
    """
    problems = []
    for name, rule in rules.items():
        if name not in namespace:
            problems.append(f"{name}: missing; define it in the parameters cell ({rule.description})")
            continue
        value = namespace[name]
        if not rule.accepts(value):
            hint = ""
            if isinstance(value, str) and rule.accepts(parse_literal(value)):
                hint = " (a string: papermill's -r always passes strings; pass numbers with -p)"
            elif rule.explain is not None and rule.explain(value):
                hint = f" ({rule.explain(value)})"
            problems.append(
                f"{name} = {value!r} ({type(value).__name__}): expected {rule.description}{hint}"
            )
    for name in sorted(n for n in namespace if _looks_like_parameter(n) and n not in rules):
        close = difflib.get_close_matches(name, list(rules), n=1)
        suggestion = f"; did you mean {close[0]}?" if close else ""
        problems.append(f"{name}: unknown parameter{suggestion}")
    if problems:
        allowed = "\n".join(f"  {name}: {rule.description}" for name, rule in rules.items())
        raise ParameterError(
            "Invalid notebook parameters:\n"
            + "\n".join(f"- {problem}" for problem in problems)
            + f"\nAllowed parameters and values:\n{allowed}"
        )
    values = {name: namespace[name] for name in rules}
    print("Parameters:", ", ".join(f"{name}={value!r}" for name, value in values.items()))
    return values

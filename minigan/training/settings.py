"""Settings: each option of a run declared once, with its type, default, range and help.

A :class:`Setting` is everything minigan knows about one option. The command line
(:mod:`minigan.cli.train`), :class:`~minigan.training.config.TrainConfig`'s validation, the study
runner's ``--vary`` keys and the configuration stored in checkpoints are all derived from
these declarations, so a new option is one new line::

    beta1: float = setting(0.5, "Adam beta_1", low=0, high=1)          # a TrainConfig field
    Setting("width", 1.0, "multiplier of every hidden layer size", low=0, low_open=True)

Ranges are half-open, ``low <= value < high`` (``low < value`` with ``low_open``), as the
usual bounds of learning rates and Adam's betas are.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class BadValue(argparse.ArgumentTypeError, ValueError):
    """A bad option value: argparse prints its message; outside argparse it is a ValueError."""


@dataclass(frozen=True)
class Setting:
    """One option: ``name`` (``--name-with-dashes`` on the command line), ``default``, ``help``.

    ``kind``: the type a command-line value is parsed to (default: the default's type; give it
    when the default is None). ``low``/``high``/``low_open``: the range of a number;
    ``choices``: the allowed values. ``stored``: False for options that describe this machine
    or invocation (an output folder, a data folder, the backend), never taken from a checkpoint.
    ``vary``: a study may vary it (``--vary name=v1,v2``). ``nargs``: argparse's, for an option
    that takes several words (``--data folder PATH``).
    """

    name: str
    default: Any
    help: str
    kind: type | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[Any, ...] | None = None
    stored: bool = True
    vary: bool = True
    nargs: str | None = None

    @property
    def type(self) -> type:
        return self.kind or type(self.default)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def bounds(self) -> str:
        """The range in words: ``">= 1"``, ``"> 0"``, ``">= 0 and < 1"``."""
        text = f"{'>' if self.low_open else '>='} {self.low:g}" if self.low is not None else ""
        if self.high is not None:
            text += f"{' and ' if text else ''}< {self.high:g}"
        return text

    def check(self, value: Any, owner: str) -> None:
        """Raise ValueError ``"<owner>: expected <name> ..., got <value>"`` if ``value`` is out of range."""
        if value is None and self.default is None:
            return
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{owner}: expected {self.name} in {self.choices}, got {value!r}")
        if self.low is None and self.high is None:
            return
        too_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        if too_low or (self.high is not None and value >= self.high):
            raise ValueError(f"{owner}: expected {self.name} {self.bounds()}, got {value!r}")

    def parse(self, text: str) -> Any:
        """A command-line (or ``--vary``) value: parsed to :attr:`type` and checked, else :class:`BadValue`."""
        if self.type is bool:
            words = {"true": True, "yes": True, "on": True, "1": True,
                     "false": False, "no": False, "off": False, "0": False}
            if text.lower() not in words:
                raise BadValue(f"expected true or false, got {text!r}")
            return words[text.lower()]
        try:
            value = self.type(text)
        except ValueError:
            raise BadValue(f"expected {self.type.__name__}, got {text!r}") from None
        if self.choices is not None and value not in self.choices:
            raise BadValue(f"expected one of {', '.join(map(str, self.choices))}, got {text!r}")
        if (self.low is not None or self.high is not None):
            try:
                self.check(value, "")
            except ValueError:
                raise BadValue(f"expected a value {self.bounds()}, got {text!r}") from None
        return value


def number(kind: type, low: float, low_open: bool = False, high: float | None = None) -> Any:
    """An argparse ``type``: ``kind`` in [low, high) (or (low, high) when ``low_open``), else :class:`BadValue`."""
    return Setting("value", kind(low), "", low=low, low_open=low_open, high=high).parse


POSITIVE_INT = number(int, 1)
POSITIVE = number(float, 0, low_open=True)


def setting(default: Any, help: str, **kwargs: Any) -> Any:
    """A dataclass field declared as a :class:`Setting` (its name is the field's name)."""
    return dataclasses.field(default=default, metadata={"setting": Setting("", default, help, **kwargs)})



def settings_of(cls: type) -> list[Setting]:
    """The :class:`Setting` s declared by a dataclass's fields (see :func:`setting`), in order."""
    return [
        dataclasses.replace(f.metadata["setting"], name=f.name)
        for f in dataclasses.fields(cls)
        if "setting" in f.metadata
    ]


def check_all(settings: Sequence[Setting], values: Any, owner: str) -> None:
    """Check every setting's value (read as an attribute of ``values``)."""
    for s in settings:
        s.check(getattr(values, s.name), owner)

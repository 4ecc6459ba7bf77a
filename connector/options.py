"""Builder options as data: one table per builder (`connector.source.options`, `connector.sink.options`).

Each `Option` names its builder call, the Java connector's option name (error messages use it), the field of the
built configuration it sets, a check of a given value, and its meaning. Builders validate with `check_options`;
the README's option tables are `markdown_table`s of these tables with the defaults read from a built
configuration, and `tests/unit/test_options_readme.py` keeps them equal (its failure prints the table to paste).
No I/O.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pulsar

from connector.errors import PulsarConfigError

Check = Callable[[Any], "str | None"]


@dataclass(frozen=True)
class Option:
    calls: str
    """The builder call(s), e.g. "set_poll_interval_ms"."""
    java_name: str | None
    """The Java connector's name for it (errors name it), or None where Java has no such option."""
    field: str | None
    """The field of the built configuration it sets; None when it sets several."""
    meaning: str
    check: Check | None = None
    """The problem with a given value (completing "<name> ..."), or None if it is fine."""
    default: str | None = None
    """The README's default when the field's value in a minimal configuration does not say it (e.g. "required")."""

    @property
    def name(self) -> str:
        return self.java_name or self.calls.split(" ")[0].strip("`")


def positive_int(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return f"must be a positive int, got {value!r}"
    return None


def instance_of(kind: type) -> Check:
    def check(value: Any) -> str | None:
        return None if isinstance(value, kind) else f"must be a {kind.__name__}, not {value!r:.100}"
    return check


def keywords_of(function: Callable[..., Any], managed: Iterable[str] = (), own: Iterable[str] = ()) -> Check:
    """A check that a value is a mapping of `function`'s keyword arguments other than those the connector sets
    itself (`managed`), or of the connector's `own` keywords that it takes there."""
    what = function.__qualname__.replace(".__init__", "")
    allowed = (frozenset(inspect.signature(function).parameters) | set(own)) - {"self", *managed}

    def check(value: Any) -> str | None:
        if not isinstance(value, Mapping):
            return f"must be a mapping of pulsar.{what} keywords, not {value!r:.100}"
        unknown = sorted(set(value) - allowed)
        if unknown:
            return (f"has {', '.join(map(repr, unknown))}, not a pulsar.{what} keyword the connector passes on; "
                    f"allowed: {', '.join(sorted(allowed))}")
        return None
    return check


_client_keyword = keywords_of(pulsar.Client.__init__, managed={"service_url", "logger"})


def client_keywords(value: Any) -> str | None:
    """Keywords of `pulsar.Client` but the service URL, the logger and authentication (which `set_security`
    carries)."""
    if isinstance(value, Mapping) and "authentication" in value:
        return ("must not carry authentication: pass it with set_security(PulsarSecurity(...)), so it reaches the "
                "admin calls too and travels pickled to every worker")
    return _client_keyword(value)


def check_options(table: Iterable[Option], values: Mapping[str, Any]) -> None:
    """Raise `PulsarConfigError` for the first option of `table` whose field `values` holds and its check refuses."""
    for option in table:
        if option.check is not None and option.field in values:
            problem = option.check(values[option.field])
            if problem:
                raise PulsarConfigError(f"{option.name} {problem}")


def markdown_table(table: Iterable[Option], built: Any) -> str:
    """The README rows of `table`: builder call (Java name) | meaning | default, the default read from `built` (a
    configuration built with only the required options)."""
    rows = ["| builder call (Java option) | meaning | default |", "|---|---|---|"]
    for option in table:
        java = f" ({option.java_name})" if option.java_name else ""
        default = option.default if option.default is not None else _shown(getattr(built, option.field))
        rows.append(f"| {option.calls}{java} | {option.meaning} | {default} |")
    return "\n".join(rows)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(getattr(value, "kind", None), enum.Enum):  # a cursor: the call that makes it
        return f"{value.kind.value}()"
    if value is None or value == {} or value == ():
        return ""
    return str(value)

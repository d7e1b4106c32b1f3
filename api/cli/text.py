"""The command line's language: every text a dispatcher meets in `chunyun ...` comes from the one
catalogue (api/i18n.py), in Chinese unless English is asked for.

The language is `--lang` (`chunyun --lang en plan ...`), else the first of LC_ALL, LC_MESSAGES
and LANG that is set (`en_US.UTF-8` -> English; `zh_CN.UTF-8`, `C` and anything else -> Chinese),
else Chinese. Texts are English msgids marked with `_()` here, so `pybabel extract` and the
catalogue test find them. The `--help` texts and Typer's usage errors follow the same language
(api/cli/helptext.py).
"""

from __future__ import annotations

import os
from typing import Any

from api.i18n import DEFAULT_LOCALE, N_, normalise_locale, recognise, translate, translate_detail

_chosen: list[str] = []

# The home-address resolver's notes (optimizer/geography/resolve.py), shown by `chunyun geo`.
recognise(
    N_("prefecture {name} resolved to its seat county {county}"),
    N_("province {name} resolved to its seat county {county}"),
    N_("{name} is the former name of {county}"),
    N_("retired code {code} ({name}, last listed {year}) is now {adcode} {county} ({reason})"),
)
# The scenario reader's refusals (optimizer/read.py) that `chunyun plan` and `fleet-size` print.
recognise(
    N_("{file} is missing from the scenario folder {folder}"),
    N_("{file} is not a readable UTF-8 CSV table: {error}"),
    N_("{file}: {key} = {value} is not a date (YYYY-MM-DD)"),
    N_("{file} is not valid TOML: {error}"),
    N_("{file} lacks required key(s): {keys}"),
    N_("{file} has unknown key(s) {keys}; known: {known}"),
    # A bad [policy] or [solver] value: api.i18n SETTING_TEXTS.
    N_("{file}: [{table}] must be a table"),
    N_("scenario folder {folder} does not exist"),
    N_("{file}: region: {place} is not a county, prefecture or province"),
    N_("{file}: region: {place} is ambiguous ({candidates}); write it in full"),
    N_("{file}: direction = {value} must be home or return"),
    N_("{file}: first_departure {first} is after last_departure {last}"),
    N_("{file}: origin {origin} is not one county of the region"),
    N_("{file}: origin: {place} is not a county, prefecture or province"),
    N_("{file}: origin: {place} is ambiguous ({candidates}); write it in full"),
    N_(
        "{file}: origin {origin} names {count} counties, not one; name one county, or give "
        "them as the region"
    ),
    N_("{file}: region must be a name or a list of names"),
    # The same region refusals without a file: `chunyun generate --origins ...`.
    N_("region: {place} is not a county, prefecture or province"),
    N_("region: {place} is ambiguous ({candidates}); write it in full"),
    N_("the region names no county, prefecture or province"),
    N_("origin {code} is not a county of the gazetteer"),
    N_("a region needs at least one origin county"),
)
# The planner's progress texts are recognised by api.i18n (PROGRESS_TEXTS).
# The database a start-up or account message names (api/core/db.py `describe`).
recognise(N_("SQLite file {path}"))


def set_locale(value: str | None) -> None:
    """Use `value` (zh_CN, zh, en ...) for this run; None goes back to the environment."""
    _chosen.clear()
    if value:
        _chosen.append(normalise_locale(value))


def cli_locale() -> str:
    """The language of this run's messages (see the module docstring)."""
    if _chosen:
        return _chosen[0]
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return normalise_locale(value)
    return DEFAULT_LOCALE


def _(msgid: str, /, **values: Any) -> str:
    """`msgid` in the run's language, its `{name}` placeholders filled from `values`."""
    return translate(cli_locale(), msgid, **values)


def service_message(key: str, /, **values: Any) -> str:
    """One of the service's own messages (`api.errors.MESSAGES`) in the run's language."""
    from api.errors import MESSAGES

    return translate(cli_locale(), MESSAGES[key], **values)


def error_text(error: BaseException) -> str:
    """An error's message in the run's language (known templates translated, else as it is)."""
    return detail_text(str(error))


def detail_text(text: str) -> str:
    """A text made elsewhere in English (a recognised template) in the run's language."""
    return translate_detail(cli_locale(), text)

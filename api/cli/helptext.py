"""The command line's own frame in the run's language: the help of every command, option and
argument, Typer's headings (`Usage:`, `Options`, `[default: ...]`) and its usage errors ("Missing
argument", "No such option", "Invalid value for ...").

The help texts stay English where they are written (help= strings and docstrings are the msgids);
Typer builds a fresh click command tree from them on every run (`app()`), so `LocalisedGroup`,
the root group, makes that tree speak the run's language before parsing begins:

- the language is read from the arguments first (`--lang en` is seen before `--help`, which
  click handles during parsing, and before a usage error), else from the environment
  (`api.cli.text.cli_locale`);
- every command's help, every parameter's help and explicit metavar, the `--help` option's own
  help and the `[OPTIONS]` / `COMMAND [ARGS]...` of the usage line are looked up in the
  catalogue, and each command's context prints `Usage:` from it;
- Typer's help panels and error frame take their titles from `typer.rich_utils`, which reads
  them at import; they are set from the catalogue for the run, with a highlighter that lets
  Chinese help fold (rich breaks lines at spaces only);
- Typer (0.29 vendors a gettext-free click) raises its usage errors in English: the root group
  catches them and shows the same error with its text recognised by template, as api/i18n does
  with the optimizer's English texts. An error no template knows is shown as it is. Without
  rich (TYPER_USE_RICH=0, or rich not installed) click's own frame ("Error: ", "Try ... for
  help.") is written by `LocalisedUsageError.show` in the run's language too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any
from weakref import WeakKeyDictionary

import typer._click.termui
import typer.core
import typer.rich_utils
from rich.markup import escape
from rich.text import Text
from typer._click._compat import get_text_stderr
from typer._click.core import Command, Context
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer._click.formatting import HelpFormatter
from typer._click.utils import echo
from typer.core import TyperArgument, TyperGroup, TyperOption
from typer.exceptions import Abort, Exit

from api.cli.text import _, cli_locale, detail_text, set_locale
from api.i18n import N_, gettext_in, match_template, translate_known

LANG_OPTION = "--lang"

HELP_OPTION = N_("Show this message and exit.")
OPTIONS_METAVAR = N_("[OPTIONS]")
SUBCOMMAND_METAVAR = N_("COMMAND [ARGS]...")
USAGE_PREFIX = N_("Usage: ")

# Typer's rich help panels and error frame (typer.rich_utils reads these module texts when it
# formats; they were looked up once, in English, at import).
RICH_TEXTS: dict[str, str] = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "DEFAULT_STRING": N_("[default: {}]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "DEPRECATED_STRING": N_("(deprecated) "),
    "ABORTED_TEXT": N_("Aborted."),
    "RICH_HELP": N_("Try [blue]'{command_path} {help_option}'[/] for help."),
}

# Typer's usage errors that this command line can raise (typer/_click/exceptions.py, parser.py,
# core.py; typer/core.py) and the checks behind "Invalid value for ..." (typer's path checks and
# choices, pydantic's number checks), as they read when shown. Of two templates that could both
# match, the more specific comes first.
USAGE_ERRORS: tuple[str, ...] = (
    N_("Missing argument {name}."),
    N_("Missing option {name}."),
    N_("Missing command."),
    N_("No such command {name}."),
    N_("No such option: {name} (Possible options: {options})"),
    N_("No such option: {name}"),
    N_("Option {name} requires an argument."),
    N_("Option {name} does not take a value."),
    N_("Got unexpected extra argument(s) ({arguments})"),
    N_("dir {path} does not exist."),
    N_("dir {path} is a file."),
    N_("dir {path} is not readable."),
    N_("Input should be a valid number, unable to parse string as a number"),
    N_("Input should be a valid integer, unable to parse string as an integer"),
    N_("Input should be greater than or equal to {limit}"),
    N_("Input should be less than or equal to {limit}"),
    N_("Value error, {value} is not one of {choices}."),
)
# The frame of an error Typer prints without rich (typer/_click/exceptions.py `show`).
ERROR_LINE = N_("Error: {message}")
TRY_HELP = N_("Try '{command} {option}' for help.")
# click's second question of a value asked twice (typer/_click/termui.py).
REPEAT_PROMPT = N_("Repeat for confirmation")
VALUES_DIFFER = N_("Error: The two entered values do not match.")
# Errors that carry another error's text: the inner text is translated in its turn.
INVALID_VALUE_FOR = N_("Invalid value for {hint}: {message}")
INVALID_VALUE = N_("Invalid value: {message}")


def requested_language(args: list[str]) -> str | None:
    """The value of `--lang` among the root's own options in `args` (before the command name),
    or None. A value the callback will refuse is returned too: the refusal is then shown in the
    environment's language."""
    position = 0
    while position < len(args):
        arg = args[position]
        if arg == LANG_OPTION:
            return args[position + 1] if position + 1 < len(args) else None
        if arg.startswith(LANG_OPTION + "="):
            return arg.split("=", 1)[1]
        if not arg.startswith("-"):
            return None  # the command: its own options come after it
        position += 1
    return None


def _known_language(value: str | None) -> str | None:
    text = (value or "").strip().lower()
    return value if text.startswith(("zh", "en")) else None


def help_text(text: str | None) -> str | None:
    """A help text in the run's language, escaped for Typer's rich markup (the texts hold
    literal brackets such as `[solver]`) unless Typer prints without rich (TYPER_USE_RICH=0)."""
    if not text:
        return text
    translated = gettext_in(cli_locale(), text)
    return escape(translated) if typer.core.HAS_RICH else translated


class LocalisedFormatter(HelpFormatter):
    """click's help formatter with the usage line's `Usage:` in the run's language, and the
    section headings Typer writes without rich (TYPER_USE_RICH=0)."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, _(USAGE_PREFIX) if prefix is None else prefix)

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        with super().section(_(name)):
            yield


class LocalisedContext(Context):
    formatter_class = LocalisedFormatter


# The English texts of each command and parameter as Typer made them, kept on first use: a tree
# localised again (one `get_command` invoked twice) starts from English, not from a translation.
_ENGLISH: WeakKeyDictionary[object, dict[str, str | None]] = WeakKeyDictionary()


def _english(thing: object, *names: str) -> dict[str, str | None]:
    kept = _ENGLISH.setdefault(thing, {})
    for name in names:
        kept.setdefault(name, getattr(thing, name))
    return kept


def localise_command(command: Command) -> None:
    """`command` and every command below it with their help texts in the run's language."""
    command.context_class = LocalisedContext
    group = isinstance(command, TyperGroup)
    names = ("help", "short_help", "options_metavar") + (("subcommand_metavar",) if group else ())
    english = _english(command, *names)
    command.help = help_text(english["help"])
    command.short_help = help_text(english["short_help"])
    if english["options_metavar"]:
        command.options_metavar = _(english["options_metavar"])
    for param in command.params:
        texts = _english(param, "help", "metavar")
        if isinstance(param, TyperArgument | TyperOption):
            param.help = help_text(texts["help"])
        if isinstance(param, TyperOption) and param.prompt:
            # A value asked for at the terminal (`chunyun users add`'s password): the question
            # and, when it is asked twice, the second one.
            asked = _english(param, "prompt", "confirmation_prompt")
            param.prompt = _(str(asked["prompt"]))
            repeat: object = asked["confirmation_prompt"]  # True or a question of its own
            if repeat:
                param.confirmation_prompt = _(repeat if isinstance(repeat, str) else REPEAT_PROMPT)
                ask_twice(param)
        metavar = texts["metavar"]
        if metavar is None and param.param_type_name == "argument" and param.name:
            # An argument is shown (usage line, errors) by its upper-case name: a word to read.
            metavar = param.name.upper()
        param.metavar = _(metavar) if metavar else metavar
    # The --help option is made (once per command) from click's English text; make it now.
    help_option = command.get_help_option(LocalisedContext(command, **command.context_settings))
    if help_option is not None:
        help_option.help = help_text(HELP_OPTION)
    if isinstance(command, TyperGroup):
        command.subcommand_metavar = _(english["subcommand_metavar"] or SUBCOMMAND_METAVAR)
        for sub in command.commands.values():
            localise_command(sub)


def ask_twice(option: TyperOption) -> None:
    """Ask `option`'s value, then its confirmation, here rather than in click's `prompt`, whose
    "Error: The two entered values do not match." is English: the same questions, the same
    loop, that line in the run's language."""
    if getattr(option, "_asks_twice", False):
        return
    ask_once = type(option).prompt_for_value

    def prompt_for_value(ctx: Context) -> Any:
        repeat = option.confirmation_prompt
        option.confirmation_prompt = False
        try:
            while True:
                value = ask_once(option, ctx)
                again = typer._click.termui.prompt(
                    str(repeat), hide_input=option.hide_input, show_default=False
                )
                if again == value:
                    return value
                echo(_(VALUES_DIFFER), err=True)
        finally:
            option.confirmation_prompt = repeat

    option.prompt_for_value = prompt_for_value  # type: ignore[method-assign]
    option._asks_twice = True  # type: ignore[attr-defined]


class FoldingHighlighter(typer.rich_utils.OptionHighlighter):
    """Typer's highlighter of help texts, which also lets a help text fold between any two
    characters: rich breaks lines only at spaces and cuts a longer "word" off with an ellipsis,
    and a Chinese sentence has no spaces."""

    def highlight(self, text: Text) -> None:
        super().highlight(text)
        text.overflow = "fold"
        text.highlight_words([_(USAGE_PREFIX)], style=typer.rich_utils.STYLE_USAGE)


def use_rich_texts() -> None:
    """Typer's panel titles and error frame in the run's language, and its highlighter."""
    for name, msgid in RICH_TEXTS.items():
        setattr(typer.rich_utils, name, _(msgid))
    typer.rich_utils.highlighter = FoldingHighlighter()


def usage_error_text(text: str) -> str:
    """A usage error's English text in the run's language (as it is when no template knows it)."""
    wrapped = match_template(text, (INVALID_VALUE_FOR, INVALID_VALUE))
    if wrapped is not None:
        template, values = wrapped
        values["message"] = usage_error_text(values["message"])
        return _(template, **values)
    found = translate_known(cli_locale(), text, USAGE_ERRORS)
    return detail_text(text) if found is None else found


class LocalisedError(ClickException):
    """A failure shown without rich (TYPER_USE_RICH=0, or rich not installed) in the run's
    language: click's `show` writes "Error: ..." in English."""

    def show(self, file: IO[Any] | None = None) -> None:
        echo(_(ERROR_LINE, message=self.format_message()), file=file or get_text_stderr())


class LocalisedUsageError(UsageError):
    """A usage error shown without rich in the run's language: the usage line (already
    localised by `LocalisedFormatter`), "Try '... --help' for help." and "Error: ..."."""

    def show(self, file: IO[Any] | None = None) -> None:
        file = file or get_text_stderr()
        color = None
        if self.ctx is not None:
            color = self.ctx.color
            hint = ""
            if self.ctx.command.get_help_option(self.ctx) is not None:
                option = self.ctx.help_option_names[0]
                hint = _(TRY_HELP, command=self.ctx.command_path, option=option) + "\n"
            echo(f"{self.ctx.get_usage()}\n{hint}", file=file, color=color)
        echo(_(ERROR_LINE, message=self.format_message()), file=file, color=color)


def translated_error(error: ClickException) -> ClickException:
    """The same error with its text in the run's language, shown in it with or without rich
    (the help shown for a command called without arguments is already translated)."""
    if isinstance(error, NoArgsIsHelpError):
        return error
    text = usage_error_text(error.format_message())
    shown: ClickException = LocalisedError(text)
    if isinstance(error, UsageError):
        shown = LocalisedUsageError(text, ctx=error.ctx)
    shown.exit_code = error.exit_code
    return shown


class LocalisedGroup(TyperGroup):
    """The root `chunyun` group: see the module docstring."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Context | None = None,
        **extra: Any,
    ) -> Context:
        if parent is None:
            set_locale(_known_language(requested_language(args)))
            use_rich_texts()
            localise_command(self)
        try:
            return super().make_context(info_name, args, parent, **extra)
        except ClickException as error:
            raise translated_error(error) from error

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except ClickException as error:
            raise translated_error(error) from error
        except Abort:
            if typer.core.HAS_RICH:
                raise  # rich's frame says RICH_TEXTS["ABORTED_TEXT"], in the run's language
            # Without rich Typer writes "Aborted!" in English (a prompt answered with Ctrl-D).
            echo(_(RICH_TEXTS["ABORTED_TEXT"]), err=True)
            raise Exit(1) from None

"""The command line's own frame speaks the catalogue's languages: `--help` of every command, its
options and arguments, Typer's headings and click's usage errors are Chinese by default and
English with --lang en (or an English LANG); no command, option or argument lacks a translation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from babel.messages.pofile import read_po
from rich.cells import cell_len
from typer._click.core import Command
from typer.core import TyperArgument, TyperGroup, TyperOption
from typer.testing import CliRunner

from api.cli import app, helptext
from api.cli.text import set_locale
from api.i18n import LOCALE_DIR, gettext_in

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
# Rich draws panels and wraps lines: compare texts without whitespace and box drawing.
FRAME = re.compile(r"[\s\u2500-\u257f]+")


@pytest.fixture(autouse=True)
def no_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # one line per table row: texts read whole


def _flat(text: str) -> str:
    return FRAME.sub("", text)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _zh(msgid: str) -> str:
    return gettext_in("zh_CN", msgid)


def _commands(
    command: Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Command]]:
    yield path, command
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


def _texts(command: Command) -> Iterator[str]:
    """The English texts of `command` that its help shows: its help, each parameter's help and
    each argument's name or metavar (as the usage line and errors show it)."""
    if command.help:
        yield command.help
    for param in command.params:
        if isinstance(param, TyperArgument | TyperOption) and param.help:
            yield param.help
        if param.metavar:
            yield param.metavar
        elif param.param_type_name == "argument" and param.name:
            yield param.name.upper()


def test_every_command_option_and_argument_has_a_chinese_text() -> None:
    """Walks the app as Typer builds it: a command, option or argument added without a catalogue
    entry fails here, named."""
    missing = [
        (" ".join(path) or "chunyun", text)
        for path, command in _commands(typer.main.get_command(app))
        for text in _texts(command)
        if not CJK.search(_zh(text))
    ]
    frame = [
        helptext.HELP_OPTION,
        helptext.OPTIONS_METAVAR,
        helptext.SUBCOMMAND_METAVAR,
        helptext.USAGE_PREFIX,
        helptext.INVALID_VALUE_FOR,
        helptext.INVALID_VALUE,
        *helptext.RICH_TEXTS.values(),
        *helptext.USAGE_ERRORS,
    ]
    missing += [("frame", text) for text in frame if not CJK.search(_zh(text))]
    assert not missing


def test_chunyun_help_is_chinese_by_default_and_english_with_lang_en() -> None:
    code, chinese = _run("--help")
    assert code == 0
    flat = _flat(chinese)
    for msgid in ("Usage: ", "[OPTIONS]", "Options", "Commands", "Show this message and exit."):
        assert _flat(_zh(msgid)) in flat, msgid
    assert _flat(_zh(app.info.help or "")) in flat
    assert "Usage:" not in chinese and "Show this message" not in chinese
    for flag in (("--lang", "en", "--help"), ("--help", "--lang", "en"), ("--lang=en", "--help")):
        code, english = _run(*flag)
        assert code == 0
        assert "Usage: " in english and "Options" in english and "Commands" in english
        assert "Show this message and exit." in english and "用法" not in english


@pytest.mark.parametrize("path", [p for p, _c in _commands(typer.main.get_command(app))])
def test_every_commands_help_shows_its_texts_in_chinese_and_english(path: tuple[str, ...]) -> None:
    """`chunyun ... --help` of each command shows each of its texts whole (folded, not cut off)
    in Chinese, and in English with --lang en."""
    command = typer.main.get_command(app)
    for name in path:
        assert isinstance(command, TyperGroup)
        command = command.commands[name]
    code, chinese = _run(*path, "--help")
    assert code == 0, chinese
    code, english = _run("--lang", "en", *path, "--help")
    assert code == 0, english
    for text in _texts(command):
        assert _flat(_zh(text)) in _flat(chinese), text
        assert _flat(text) in _flat(english), text
    assert _flat(_zh(helptext.HELP_OPTION)) in _flat(chinese)


def test_chinese_help_folds_on_a_narrow_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich breaks lines at spaces and cuts a longer word off with an ellipsis; a Chinese
    sentence has no spaces, so it folds instead (read whole, not cut off)."""
    monkeypatch.setenv("COLUMNS", "80")
    code, chinese = _run("plan", "--help")
    assert code == 0 and "…" not in chinese
    for msgid in (
        "Render maps, manifests, trip sheets and notices (--no-render: manifests only).",
        "Service phone printed in every worker SMS.",
    ):
        assert _flat(_zh(msgid)) in _flat(chinese)
    assert max(cell_len(line) for line in chinese.splitlines()) <= 80


def test_plan_help_in_chinese_by_default_and_english_from_lang() -> None:
    code, chinese = _run("plan", "--help")
    assert code == 0
    flat = _flat(chinese)
    assert _flat("用法：chunyun plan [选项] ") in flat and "场景目录" in flat
    assert _flat(_zh("Plan folder to write.")) in flat and "[必填]" in flat
    assert "[默认：road]" in flat and _flat(_zh("Arguments")) in flat
    # A literal bracket in a help text is shown, not taken for rich markup.
    assert "[solver]" in flat
    code, english = _run("--lang", "en", "plan", "--help")
    assert code == 0
    assert "Plan folder to write." in english and "[required]" in english
    assert "[default: road]" in english and "[solver]" in english and "SCENARIO_DIR" in english


def test_one_command_tree_run_again_starts_from_english() -> None:
    """The same click tree invoked in Chinese, English and Chinese again: each run translates
    from the English texts, not from the previous run's (no double escaping, no Chinese left)."""
    command = typer.main.get_command(app)

    def run(*args: str) -> str:
        with CliRunner().isolation() as (_stdout, _stderr, output):
            assert command.main(list(args), prog_name="chunyun", standalone_mode=False) == 0
            return output.getvalue().decode()

    first = run("plan", "--help")
    english = run("--lang", "en", "plan", "--help")
    again = run("plan", "--help")
    assert first == again and "[solver]" in again and "\\[" not in again
    assert "Seconds (default: scenario's [solver])." in english and not CJK.search(english)


def test_an_english_environment_gives_english_help(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    code, english = _run("plan", "--help")
    assert code == 0 and "Usage: " in english and not CJK.search(english)
    _code, chinese = _run("--lang", "zh_CN", "plan", "--help")
    assert "用法：" in chinese


def test_a_missing_argument_is_named_in_chinese_or_english() -> None:
    code, chinese = _run("plan")
    assert code == 2
    assert "缺少参数 '场景目录'。" in chinese and "用法：" in chinese
    assert "查看帮助" in chinese and "错误" in chinese and "Missing" not in chinese
    code, english = _run("--lang", "en", "plan")
    assert code == 2
    assert "Missing argument 'SCENARIO_DIR'." in english and "Usage: " in english
    assert "for help." in english and not CJK.search(english)


def test_an_unknown_option_is_named_in_chinese_or_english(tmp_path: Path) -> None:
    code, chinese = _run("plan", str(tmp_path), "--bogus")
    assert code == 2
    assert "没有选项：--bogus" in chinese and "No such option" not in chinese
    code, english = _run("--lang", "en", "plan", str(tmp_path), "--bogus")
    assert code == 2 and "No such option: --bogus" in english
    # An unknown option before the command is refused in the language asked for.
    code, english = _run("--lang", "en", "--bogus", "version")
    assert code == 2 and "No such option: --bogus" in english


# Each usage error the command line can raise: arguments, then the English and Chinese texts.
USAGE_CASES: dict[str, tuple[list[str], str, str]] = {
    "Missing argument {name}.": (["geo", "route"], "Missing argument 'FROM'.", "缺少参数 '起点'。"),
    "Missing option {name}.": (["plan", "x"], "Missing option '--out'", "缺少选项 '--out'"),
    "Missing command.": ([], "Missing command.", "缺少命令。"),  # after --lang
    "No such command {name}.": (["bogus"], "No such command 'bogus'.", "没有命令 'bogus'。"),
    "No such option: {name} (Possible options: {options})": (
        ["plan", "x", "--ou"],
        "No such option: --ou (Possible options: --out)",
        "没有选项：--ou（可用的选项：--out）",
    ),
    "No such option: {name}": (["plan", "x", "--zzz"], "No such option: --zzz", "没有选项：--zzz"),
    "Option {name} requires an argument.": (
        ["plan", "x", "-o"],
        "Option '-o' requires an argument.",
        "选项 '-o' 需要一个值。",
    ),
    "Option {name} does not take a value.": (
        ["geo", "resolve", "--json=1", "x"],
        "Option '--json' does not take a value.",
        "选项 '--json' 不接受值。",
    ),
    "Got unexpected extra argument(s) ({arguments})": (
        ["plan", "a", "b", "-o", "c"],
        "Got unexpected extra argument(s) (b)",
        "多余的参数（b）",
    ),
    "dir {path} does not exist.": (
        ["render", "/nonexistent/chunyun"],
        "Invalid value for 'PLAN_DIR': dir '/nonexistent/chunyun' does not exist.",
        "'方案目录' 的值无效：目录 '/nonexistent/chunyun' 不存在。",
    ),
    "dir {path} is a file.": (
        ["render", "pyproject.toml"],
        "Invalid value for 'PLAN_DIR': dir 'pyproject.toml' is a file.",
        "'方案目录' 的值无效：'pyproject.toml' 是文件，不是目录。",
    ),
    "Input should be a valid number, unable to parse string as a number": (
        ["plan", "x", "-o", "y", "--time-limit", "abc"],
        "Invalid value for '--time-limit': Input should be a valid number",
        "'--time-limit' 的值无效：应为数字，无法把输入读作数字",
    ),
    "Input should be a valid integer, unable to parse string as an integer": (
        ["generate", "x", "--out", "y", "--seed", "1.5"],
        "Invalid value for '--seed': Input should be a valid integer",
        "'--seed' 的值无效：应为整数，无法把输入读作整数",
    ),
    "Input should be greater than or equal to {limit}": (
        ["generate", "x", "--out", "y", "--workers", "0"],
        "Invalid value for '--workers': Input should be greater than or equal to 1",
        "'--workers' 的值无效：应大于或等于 1",
    ),
    "Input should be less than or equal to {limit}": (
        ["worker", "--slots", "65"],
        "Invalid value for '--slots': Input should be less than or equal to 64",
        "'--slots' 的值无效：应小于或等于 64",
    ),
    "Value error, {value} is not one of {choices}.": (
        ["generate", "x", "--out", "y", "--profile", "foo"],
        "'foo' is not one of 'concentrated', 'dispersed'.",
        "'foo' 不是 'concentrated', 'dispersed' 之一。",
    ),
}
# Not reachable from the shell: an unreadable folder needs a permission the tests may not have.
UNREACHED = {"dir {path} is not readable."}


def test_every_usage_error_template_has_a_case() -> None:
    assert set(USAGE_CASES) | UNREACHED == set(helptext.USAGE_ERRORS)


@pytest.mark.parametrize("template", sorted(USAGE_CASES))
def test_usage_errors_in_chinese_and_english(
    template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # the cases name pyproject.toml
    args, english_text, chinese_text = USAGE_CASES[template]
    code, chinese = _run("--lang", "zh_CN", *args)
    assert code == 2, chinese
    assert _flat(chinese_text) in _flat(chinese)
    code, english = _run("--lang", "en", *args)
    assert code == 2, english
    assert english_text in " ".join(english.replace("│", " ").split())
    assert not CJK.search(english)


@pytest.mark.parametrize(("lang", "heading"), [("zh_CN", "选项:"), ("en", "Options:")])
def test_plain_help_headings_follow_the_language(lang: str, heading: str) -> None:
    """Without rich (TYPER_USE_RICH=0) Typer writes its sections through click's formatter."""
    set_locale(lang)
    try:
        formatter = helptext.LocalisedFormatter()
        formatter.write_usage("chunyun", "--lang")
        with formatter.section("Options"):
            formatter.write_text("--lang")
        text = formatter.getvalue()
    finally:
        set_locale(None)
    assert heading in text and text.startswith(_flat(gettext_in(lang, "Usage: ")))


def test_an_unknown_usage_error_is_shown_as_it_is() -> None:
    assert helptext.usage_error_text("something typer says one day") == (
        "something typer says one day"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--lang", "en", "plan"], "en"),
        (["--lang=en", "--help"], "en"),
        (["--help", "--lang", "zh_CN"], "zh_CN"),
        (["plan", "--lang", "en"], None),  # a command's own arguments are not the root's
        (["--lang"], None),
        ([], None),
    ],
)
def test_the_language_is_read_before_parsing(args: list[str], expected: str | None) -> None:
    assert helptext.requested_language(args) == expected


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_catalogue_files_are_complete_and_well_formed(locale: str) -> None:
    """Both .po files parse strictly; no entry is fuzzy; every Chinese entry is translated."""
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "chunyun.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, abort_invalid=True)
    entries = [m for m in catalog if m.id]
    assert entries
    assert not [m.id for m in entries if m.fuzzy]
    if locale == "zh_CN":
        assert not [m.id for m in entries if not str(m.string).strip()]


@pytest.mark.parametrize("rich", [True, False], ids=["rich", "plain"])
def test_a_usage_errors_frame_follows_the_language_with_and_without_rich(
    rich: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without rich (TYPER_USE_RICH=0) click writes the usage line, "Try ... for help." and
    "Error: ..." itself: Chinese by default and English with --lang en, as in rich's frame."""
    monkeypatch.setattr(typer.core, "HAS_RICH", rich)
    code, chinese = _run("plan")
    assert code == 2, chinese
    assert "用法：chunyun plan [选项]" in chinese and "缺少参数 '场景目录'。" in chinese
    assert "'chunyun plan --help' 查看帮助" in chinese, chinese
    assert "错误" in chinese and not re.search(r"\b(Usage|Error|Try|for help)\b", chinese)
    code, english = _run("--lang", "en", "plan")
    assert code == 2, english
    assert "Usage: chunyun plan [OPTIONS]" in english and "Try 'chunyun plan --help' for help." in (
        " ".join(english.replace("│", " ").split())
    )
    assert "Error" in english and not CJK.search(english)
    code, chinese = _run("bogus")
    assert code == 2 and "没有命令 'bogus'。" in chinese and "Error" not in chinese


@pytest.mark.parametrize("rich", [True, False], ids=["rich", "plain"])
def test_plain_help_is_chinese_by_default(rich: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(typer.core, "HAS_RICH", rich)
    code, chinese = _run("plan", "--help")
    assert code == 0 and "用法" in chinese and "选项" in chinese, chinese
    assert not re.search(r"\b(Usage|Options)\b", chinese), chinese


@pytest.mark.parametrize("rich", [True, False], ids=["rich", "plain"])
def test_a_prompt_and_its_abort_follow_the_language(
    rich: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`chunyun users add` asks for the password at the terminal: the question, and the
    "Aborted" of an answer cut short (Ctrl-D), in the run's language."""
    monkeypatch.setattr(typer.core, "HAS_RICH", rich)
    args = ["users", "add", "--role", "dispatcher", "--username", "bob"]
    chinese = CliRunner().invoke(app, args, input="")
    assert chinese.exit_code == 1, chinese.output
    assert "密码" in chinese.output and "已中止" in chinese.output, chinese.output
    assert not re.search(r"\b(Password|Abort\w*)\b", chinese.output), chinese.output
    english = CliRunner().invoke(app, ["--lang", "en", *args], input="")
    assert "Password" in english.output and "Aborted" in english.output, english.output
    assert not CJK.search(english.output)


@pytest.mark.parametrize("rich", [True, False], ids=["rich", "plain"])
def test_two_different_passwords_are_refused_in_the_runs_language(
    rich: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The password is asked twice; two different answers are refused in the run's language
    (click says so in English) and the questions start again."""
    monkeypatch.setattr(typer.core, "HAS_RICH", rich)
    args = ["users", "add", "--role", "dispatcher", "--username", "bob"]
    chinese = CliRunner().invoke(app, args, input="Abcdefgh-12x\nother\n")
    assert "再次输入以确认" in chinese.output and "两次输入的值不一致" in chinese.output
    assert chinese.output.count("密码") == 2 and "match" not in chinese.output, chinese.output
    english = CliRunner().invoke(app, ["--lang", "en", *args], input="Abcdefgh-12x\nother\n")
    assert "Repeat for confirmation" in english.output
    assert "The two entered values do not match." in english.output and not CJK.search(
        english.output
    )

"""Write gd-studio.1 (man(7) roff) from the command-line parser itself, so the man page never drifts from --help."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

PACKAGING = Path(__file__).resolve().parent
ROOT = PACKAGING.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # document the checkout's parser, not an older installed copy

import appinfo  # noqa: E402


def _escape(word: str) -> str:
    return word.replace("\\", "\\e").replace("-", "\\-")


def roff(text: str, width: int = 78) -> str:
    """Escape plain text for roff (backslashes, option dashes, lines that would read as requests), wrapped
    to short source lines as man-page linters ask: the width counts the escaped bytes, since escapes
    lengthen a line ("--size" is 8 bytes in roff)."""
    out = []
    for paragraph in text.splitlines():
        line = ""
        for word in (_escape(w) for w in paragraph.split()):
            if line and len((line + " " + word).encode()) > width:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        out.append(line)
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line for line in out)


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    formatter = parser._get_formatter()
    return formatter._expand_help(action) if action.help else ""


def _option_line(action: argparse.Action) -> str:
    forms = []
    metavar = action.metavar or (action.dest.upper() if action.nargs != 0 else None)
    if isinstance(action.metavar, tuple):
        metavar = " ".join(action.metavar)
    if action.choices is not None and action.metavar is None and not isinstance(action, argparse._SubParsersAction):
        metavar = "{" + ",".join(map(str, action.choices)) + "}"
    for opt in action.option_strings or [metavar]:
        if action.option_strings and action.nargs != 0:
            forms.append(f"\\fB{roff(opt)}\\fR \\fI{roff(str(metavar))}\\fR")
        elif action.option_strings:
            forms.append(f"\\fB{roff(opt)}\\fR")
        else:
            forms.append(f"\\fI{roff(str(metavar))}\\fR")
    return ", ".join(forms)


def _options(parser: argparse.ArgumentParser) -> list[str]:
    out: list[str] = []
    for group in parser._action_groups:
        actions = [a for a in group._group_actions
                   if a.help != argparse.SUPPRESS and not isinstance(a, argparse._SubParsersAction)]
        if not actions:
            continue
        if group.title not in ("options", "optional arguments", "positional arguments"):
            out.append(f".PP\n\\fI{roff(group.title)}\\fR")
        for action in actions:
            out += [".TP", _option_line(action), roff(_help(parser, action))]
    return out


def _examples(epilog: str | None, paragraph: bool = True) -> list[str]:
    lines = [line for line in (epilog or "").splitlines() if line.strip() and not line.startswith("examples")]
    if not lines:
        return []
    # .nf keeps each example on its own line, so escape without wrapping
    body = [roff(line.strip(), width=10_000) for line in lines]
    return ([".PP"] if paragraph else []) + [".nf", ".RS 4"] + body + [".RE", ".fi"]


def _release_date(version: str) -> str:
    """The CHANGELOG's date for this version (reproducible pages), else 'unreleased'."""
    try:
        text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    except OSError:
        return "unreleased"
    found = re.search(rf"^## \[{re.escape(version)}\] - (\d{{4}}-\d\d-\d\d)", text, re.MULTILINE)
    return found.group(1) if found else "unreleased"


def render() -> str:
    from gd_studio import cli
    from gd_studio.file_types import describe
    from gd_studio.settings_location import settings_file

    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    version = appinfo.version()
    name = cli.PROG
    out = [
        f'.TH {name.upper()} 1 "{_release_date(version)}" "{name} {version}" "User Commands"',
        ".SH NAME",
        f"{roff(name)} \\- {roff(appinfo.SUMMARY[0].lower() + appinfo.SUMMARY[1:], width=60)}",
        ".SH SYNOPSIS",
        f".B {roff(name)}\n[\\fIoptions\\fR] [\\fIFILE\\fR]",
        ".br",
        f".B {roff(name)}\n\\fICOMMAND\\fR [\\fIoptions\\fR]",
        ".SH DESCRIPTION",
        roff(parser.description or ""),
        ".PP",
        roff("FILE is a file to open in the window: " + describe() + ". Each COMMAND runs the same engine "
             "headless, for scripts and lecture preparation; the same seed prints the same output."),
        ".SH OPTIONS",
        *_options(parser),
        ".SH COMMANDS",
    ]
    for choice, help_action in zip(sub.choices.items(), sub._choices_actions):
        command, subparser = choice
        out += [f".SS {roff(command)}", roff(subparser.description or help_action.help or ""),
                *_options(subparser), *_examples(subparser.epilog)]
    out += [".SH EXAMPLES", *_examples(parser.epilog, paragraph=False)]
    out += [
        ".SH EXIT STATUS",
        roff("0 on success; 1 when training diverged (train) or a self-test check failed; 2 for bad "
             "arguments or data, or when the window cannot open (no display, missing system libraries), "
             "with one line on standard error saying what and where."),
        ".SH ENVIRONMENT",
        ".TP\n\\fBQT_QPA_PLATFORM\\fR",
        roff("Qt's platform plugin: offscreen renders without a screen; wayland falls back to xcb (X11) with a "
             "note when the build has no Wayland plugin."),
        ".TP\n\\fBGD_STUDIO_SETTINGS\\fR",
        roff("Use this INI file for settings instead of the default."),
        ".SH FILES",
        ".TP",
        f"\\fI{roff(str(settings_file('linux', {'HOME': '~'})))}\\fR",
        roff("Settings on Linux ($XDG_CONFIG_HOME/gd-studio/gd-studio.ini when XDG_CONFIG_HOME is set). "
             "A corrupt or unreadable file is ignored: the app starts with the defaults."),
        ".SH SEE ALSO",
        roff("The README and packaging/README.md in the source distribution; Leslie N. Smith, Cyclical "
             "Learning Rates for Training Neural Networks (2017)."),
    ]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("out", nargs="?", type=Path, help="file to write (default: standard output)")
    ns = args.parse_args(argv)
    text = render()
    if ns.out:
        ns.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

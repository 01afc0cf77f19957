"""The gd-studio command: no arguments opens the window; subcommands run the engine headless."""
from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import signal
import sys
from typing import Iterator, Sequence

from . import __version__
from .engine import fmt as numfmt

PROG = "gd-studio"


class CliError(Exception):
    """A usage or input problem: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of usage + message
        raise CliError(f"{message} (see '{self.prog} --help')")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Every option's default in --help (as ArgumentDefaultsHelpFormatter), examples kept as written,
    and no '(default: None)' or '(default: False)' noise for options that are simply off."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or isinstance(action, argparse._VersionAction):
            return action.help
        return super()._get_help_string(action)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number above 0")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number ≥ 0")
    return value


def _count(low: int, high: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r} must be at least {low}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{text!r} must be at most {high}")
        return value
    return parse


def _size(text: str) -> tuple[int, int]:
    parts = text.lower().replace("×", "x").split("x")
    try:
        w, h = (int(v) for v in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give the size as WIDTHxHEIGHT, e.g. 1600x1000") from None
    if not (320 <= w <= 10000 and 240 <= h <= 10000):
        raise argparse.ArgumentTypeError(f"{text!r}: the size must be from 320x240 to 10000x10000")
    return w, h


def _hidden(text: str) -> tuple[int, ...]:
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("give the hidden layer sizes as e.g. 16 or 16,16")
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: hidden sizes must be whole numbers, e.g. 16,16") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: every hidden layer needs at least one unit")
    return sizes


def _add_run_options(p: argparse.ArgumentParser) -> None:
    from .engine.config import ACTIVATIONS, MODEL_KINDS, OPTIMIZERS
    from .engine.datasets import NAMES

    data = p.add_argument_group("data")
    source = data.add_mutually_exclusive_group()
    source.add_argument("--dataset", choices=NAMES, default="moons", help="a generated or bundled dataset")
    source.add_argument("--data", metavar="FILE.csv", help="a CSV file with a header row")
    data.add_argument("--target", help="CSV target column (default: the last one)")
    data.add_argument("--task", choices=("auto", "classification", "regression"), default="auto",
                      help="CSV: read the target as class labels or as numbers; auto decides from the data")
    data.add_argument("--header", choices=("auto", "yes", "no"), default="auto",
                      help="CSV: is the first row column names?; auto decides from the file")
    data.add_argument("--samples", type=_count(2), default=400, help="samples to generate")
    data.add_argument("--noise", type=_non_negative_float, default=0.2, help="generator noise")
    data.add_argument("--classes", type=_count(2), default=3, help="classes for spiral")
    data.add_argument("--data-seed", type=_count(0), default=0, help="seed of the generated data")
    data.add_argument("--no-standardize", action="store_true", help="keep the features as they are")
    data.add_argument("--val-fraction", type=_non_negative_float, default=0.2,
                      help="share held out for validation")
    model = p.add_argument_group("model")
    model.add_argument("--model", choices=MODEL_KINDS, default="mlp", help="model family")
    model.add_argument("--hidden", type=_hidden, default="16", help="hidden layer sizes (mlp), e.g. 16,16")
    model.add_argument("--activation", choices=ACTIVATIONS, default="tanh", help="hidden-layer activation")
    model.add_argument("--loss", choices=("cross_entropy", "squared_error", "mse"),
                       help="default: cross_entropy for classes, mse for regression")
    train = p.add_argument_group("training")
    train.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd", help="update rule")
    train.add_argument("--momentum", type=_non_negative_float, help="momentum / nesterov coefficient")
    train.add_argument("--batch-size", type=_count(0), default=32, help="samples per step; 0 for the full batch")
    train.add_argument("--seed", type=_count(0), default=0, help="seed of weights and shuffling")


def _config(args: argparse.Namespace, lr: float = 0.1):
    from .engine.config import RunConfig

    is_regression_data = args.data is None and args.dataset in ("line", "sine")
    loss = args.loss or ("mse" if is_regression_data else "cross_entropy")
    optimizer_params = {}
    if args.momentum is not None:
        optimizer_params["momentum"] = args.momentum
    dataset_params = {"n_samples": args.samples, "noise": args.noise, "seed": args.data_seed,
                      "n_classes": args.classes}
    if args.data is not None:
        dataset_params = {}
        if args.task != "auto":
            dataset_params["task"] = args.task
        if args.header != "auto":
            dataset_params["header"] = args.header == "yes"
    return RunConfig(
        dataset=args.dataset,
        dataset_params=dataset_params,
        data_path=args.data, target=args.target, model=args.model, hidden=args.hidden,
        activation=args.activation, loss=loss, optimizer=args.optimizer,
        optimizer_params=optimizer_params, lr=lr, batch_size=args.batch_size, seed=args.seed,
        standardize=not args.no_standardize, val_fraction=args.val_fraction)


def _session(args: argparse.Namespace, lr: float = 0.1):
    from .engine import datasets, descent

    config = _config(args, lr)
    dataset = descent.load_dataset(config)  # its notes come back in session.notes, printed by each command
    if args.loss is None and args.data is not None:  # a CSV decides its own task
        config = config.replace(loss="mse" if dataset.task == "regression" else "cross_entropy")
    return descent.build(config, dataset=dataset), datasets


def _write_json(obj: dict, dest: str) -> None:
    from .engine import fileio

    text = json.dumps(obj, indent=2, allow_nan=False)
    if dest == "-":
        sys.stdout.write(text + "\n")
        return
    fileio.atomic_write(dest, text + "\n")  # a FIFO or device is refused, a symlink written through


def _write_csv(dest: str, header: Sequence[str], rows) -> None:
    from .engine import fileio

    with fileio.atomic_writer(dest, mode="w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _fmt(value) -> str:
    return numfmt.fmt_lr(value)


VALIDATE_BUDGET = 500  # what `train` runs by default
SUGGESTION_ORDER = ("recommended", "steepest", "valley", "minimum/10", "base_lr", "max_lr")


def _print_suggestions(out, suggestions: dict, describe=None) -> None:
    for name in SUGGESTION_ORDER:
        if name in suggestions:
            text = describe(name) if describe else _fmt(suggestions[name])
            print(f"  {name:<11} {text}", file=out)
    from .engine.lr_finder import EXPLANATIONS

    from .engine.lr_finder import RULES

    for name in ("recommended", "steepest"):
        if name in suggestions:
            print(f"{name}: {EXPLANATIONS[name]}; {RULES[name]}", file=out)


def _cmd_range_test(args: argparse.Namespace) -> int:
    from .engine import lr_finder

    if args.end_lr <= args.start_lr:
        raise CliError(f"--end-lr ({args.end_lr:g}) must be above --start-lr ({args.start_lr:g})")
    session, _ = _session(args)
    out = sys.stderr if args.json == "-" else sys.stdout
    kwargs = dict(start_lr=args.start_lr, end_lr=args.end_lr, num_iter=args.iters, mode=args.mode,
                  batch_size=args.batch_size, optimizer=args.optimizer,
                  optimizer_params=session.config.optimizer_params)
    print(f"range test: {session.dataset.describe()}; {session.model.describe()}", file=out)
    for note in session.notes:
        print(f"note: {note}", file=out)
    if args.repeats > 1:
        seeds = tuple(range(args.seed, args.seed + args.repeats))
        rep = lr_finder.repeat_range_test(session.model, session.train, session.initial_params,
                                          seeds=seeds, **kwargs)
        result = rep.results[0]
        print(f"{args.repeats} runs (seeds {seeds[0]}–{seeds[-1]}); suggestions as centre ×/÷ spread:",
              file=out)
        _print_suggestions(out, result.suggestions, rep.describe)
        payload = rep.to_dict() if hasattr(rep, "to_dict") else {}
        payload.update(result.to_dict())
    else:
        result = lr_finder.range_test(session.model, session.train, session.initial_params,
                                      seed=args.seed, **kwargs)
        print(f"stopped: {result.stop_reason}", file=out)
        _print_suggestions(out, result.suggestions)
        payload = result.to_dict()
    payload["recommended"] = _json_num(result.suggestions.get("recommended"))
    if args.validate is not None:
        payload.update(_validate(args, session, result.suggestions, out))
    if args.json:
        _write_json(payload, args.json)
    if args.csv:
        _write_csv(args.csv, ("lr", "loss", "smoothed"),
                   ((repr(float(a)), repr(float(b)), repr(float(c)))
                    for a, b, c in zip(result.lrs, result.losses, result.smoothed)))
    return 0


def _json_num(v):
    import math as _math

    return float(v) if v is not None and _math.isfinite(v) else None


def _validate(args: argparse.Namespace, session, suggestions: dict, out) -> dict:
    """--validate BUDGET: the validated recommendation for a BUDGET-step training, printed; its JSON keys."""
    from .engine import lr_finder

    try:
        v = lr_finder.validated_recommendation(
            session.model, session.train, session.initial_params, suggestions, args.validate,
            val_ds=session.val, seed=args.seed, batch_size=args.batch_size, optimizer=args.optimizer,
            optimizer_params=session.config.optimizer_params)
    except lr_finder.ConfigError as exc:
        print(f"validate: {exc}; recommended_validated is unset", file=out)
        return {"recommended_validated": None, "validation": None}
    on = "held-out" if session.val is not None else "training"
    n = len(v.lrs)
    print(f"validated for a {v.budget}-step training: {n} trainings of {v.steps} steps from the same start "
          f"(seed {args.seed}), {n * v.steps / v.budget:.3g}× the budget; {on} loss:", file=out)
    for lr, score in zip(v.lrs, v.scores):
        mark = ("  ← curve-only pick" if v.curve_pick is not None and _math_close(lr, v.curve_pick) else "")
        mark += "  ← best" if lr == v.best_lr else ""
        loss = f"{score:.4g}" if score < float("inf") else "diverged"
        print(f"  lr {_fmt(lr):<10} {loss}{mark}", file=out)
    if v.best_lr is None:
        print("  every candidate diverged: recommended_validated is unset", file=out)
    else:
        if v.gain is None:
            than = ""
        elif v.gain == 1.0:
            than = ", the curve-only pick itself"
        elif v.gain == float("inf"):
            than = ", while the curve-only pick diverged"
        else:
            than = f", {v.gain:.2f}× lower {on} loss than the curve-only pick"
        scaled = (f"; × √({v.steps}/{v.budget}) for the whole budget (a short run's best LR sits higher)"
                  if v.recommended != v.best_lr else "")
        print(f"  recommended_validated {_fmt(v.recommended)}: best after {v.steps} steps {_fmt(v.best_lr)}"
              f"{than}{scaled}", file=out)
        # only downwards: the highest often wins a short run (and is carried over for that), and going
        # higher still diverged later in the benchmark
        if v.at_edge == "lowest":
            print("  note: the lowest candidate won, so the best LR may be lower still: lower LRs are worth a try",
                  file=out)
    return {"recommended_validated": _json_num(v.recommended), "validation": v.to_dict()}


def _math_close(a: float, b: float) -> bool:
    import math as _math

    return _math.isclose(a, b, rel_tol=1e-9)


def _cmd_train(args: argparse.Namespace) -> int:
    import math as _math

    session, _ = _session(args, lr=args.lr)
    out = sys.stderr if args.json == "-" else sys.stdout
    runner = session.runner
    # Step by step, keeping only what the summary needs: the runner's own History is the flat-memory
    # record of the run (10 million steps stay a few hundred kB).
    first = last = None
    lowest = _math.inf
    steps = 0
    for _ in range(args.steps):
        record = runner.step()
        if record is None:
            break
        if first is None:
            first = record
        last = record
        lowest = min(lowest, record.loss)
        steps += 1
    print(f"train: {session.dataset.describe()}; {session.model.describe()}", file=out)
    for note in session.notes:
        print(f"note: {note}", file=out)
    if last is not None:
        print(f"  steps       {steps} (epoch {last.epoch}), lr {_fmt(last.lr)}", file=out)
        print(f"  batch loss  {first.loss:.4g} → {last.loss:.4g} (lowest {lowest:.4g})", file=out)
        print(f"  train loss  {runner.full_loss():.4g}", file=out)
        if runner.last_val_loss is not None:
            print(f"  val loss    {runner.last_val_loss:.4g}", file=out)
    print(f"  stopped     {runner.stop_reason or f'after {args.steps} steps as asked'}", file=out)
    if args.json:
        cols = runner.history.columns()
        val = runner.val_history.columns()
        final = runner.full_loss() if last is not None else None
        _write_json({
            "config": session.config.to_dict(),
            "steps": steps,
            "stop_reason": runner.stop_reason,
            "final_train_loss": final if final is None or _math.isfinite(final) else None,
            "final_val_loss": runner.last_val_loss,
            # thinned evenly once a run outgrows the runner's history (see descent.History)
            "history_stride": runner.history.stride,
            "history": {k: v.tolist() for k, v in cols.items()},
            "val_history": {k: v.tolist() for k, v in val.items()},
        }, args.json)
    return 0 if not runner.stopped else 1


def read_curve_csv(path: str):
    """(lrs, losses) from a CSV with columns lr and loss (names matched case-insensitively).

    Read by the same streaming reader as datasets (separators, encodings, comment lines); the header is
    checked before any data. Every problem raises a GDStudioError naming the file and the line.
    """
    import numpy as np

    from .engine import datasets
    from .engine.errors import GDStudioError

    columns, lines, notes = datasets.read_csv_columns(
        path, {"lr": ("lr", "learning_rate", "learning rate"), "loss": ("loss", "losses", "train_loss")},
        nonfinite_ok=("loss",))
    for note in notes:
        print(f"{PROG}: note: {note}", file=sys.stderr)
    lrs, losses = columns["lr"], columns["loss"]
    bad = ~(np.isfinite(lrs) & (lrs > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise GDStudioError(f"{path}, line {lines[i]}: lr must be a finite number above 0, got {lrs[i]:g}")
    if lrs.size >= 2:
        falls = np.diff(lrs) <= 0
        if falls.any():
            i = int(np.argmax(falls)) + 1
            same = "repeats" if lrs[i] == lrs[i - 1] else "is below"
            raise GDStudioError(f"{path}, line {lines[i]}: lr {lrs[i]:g} {same} the previous row's "
                                f"{lrs[i - 1]:g} (line {lines[i - 1]}); a range-test curve needs rising learning rates")
    # a NaN/inf tail is a diverged run, the finder's to cut; a curve with too little before it is not usable.
    # Losses beyond ±1e100 are diverged too (and would overflow the finder's sums): they count as inf.
    losses = np.where(np.abs(losses) > datasets.MAX_ABS_VALUE, np.inf, losses)
    finite = np.isfinite(losses)
    usable = int(np.argmin(finite)) if not finite.all() else losses.size
    if usable < 5:
        if losses.size and not finite.any():
            raise GDStudioError(f"{path}: no usable loss values (every loss is NaN, infinite or beyond "
                                f"±{datasets.MAX_ABS_VALUE:g})")
        if usable < losses.size:
            raise GDStudioError(f"{path}, line {lines[usable]}: the loss diverges (NaN, infinite or beyond "
                                f"±{datasets.MAX_ABS_VALUE:g}) from here on, leaving "
                                f"{usable} usable point{'s' if usable != 1 else ''}; at least 5 are needed")
        raise GDStudioError(f"{path}: needs at least 5 points, found {losses.size}")
    return lrs, losses


def _suggest_range_file(args: argparse.Namespace) -> int | None:
    """``suggest`` for a .gdrange file (or anything that looks like JSON): None for a CSV."""
    from .engine import fileio, rangefile
    from .engine.errors import GDStudioError

    path = args.curve
    if not rangefile.is_range_file(path):
        try:
            with fileio.open_regular(path) as fh:  # never blocks on a FIFO
                if not fh.read(64).lstrip().startswith(b"{"):
                    return None
        except (OSError, GDStudioError):
            return None  # the CSV reader words the error
    record = rangefile.load(path)
    out = sys.stderr if args.json == "-" else sys.stdout
    if args.json:
        payload = {"suggestions": record.suggestions}
        if record.repeat is not None:
            payload["spread"] = record.repeat.to_dict()["spread"]
        _write_json(payload, args.json)
    runs = "" if record.repeat is None else f", median of {len(record.repeat.results)} runs"
    print(f"suggestions for {args.curve} ({record.lrs.size} points{runs}):", file=out)
    _print_suggestions(out, record.suggestions, record.describe if record.repeat is not None else None)
    for note in record.notes:
        print(f"note: {note}", file=out)
    return 0


def _cmd_suggest(args: argparse.Namespace) -> int:
    from .engine import lr_finder

    done = _suggest_range_file(args)
    if done is not None:
        return done
    lrs, losses = read_curve_csv(args.curve)
    suggestions = lr_finder.suggest_all(lrs, losses)
    if args.json:
        _write_json({"suggestions": suggestions}, args.json)
    out = sys.stderr if args.json == "-" else sys.stdout
    print(f"suggestions for {args.curve} ({len(lrs)} points):", file=out)
    _print_suggestions(out, suggestions)
    return 0


MAIN_EXAMPLES = f"""examples:
  {PROG}                                 open the window
  {PROG} lecture.gdscenario              open the window with a scenario
  {PROG} --presentation lecture.gdscenario
  {PROG} --scenario lecture.gdscenario --screenshot slide.png --steps 20
  {PROG} range-test --dataset spiral --hidden 32,32
  {PROG} --self-test                     check an installation, print one line
"""
RANGE_TEST_EXAMPLES = f"""examples:
  {PROG} range-test --dataset moons --model mlp --hidden 16,16 --start-lr 1e-7 --end-lr 10 --iters 100
  {PROG} range-test --data my.csv --target label --repeats 5 --json result.json --csv curve.csv
  {PROG} range-test --dataset digits --model logistic --optimizer adam --validate 2000 --json -
"""
TRAIN_EXAMPLES = f"""examples:
  {PROG} train --dataset spiral --classes 3 --hidden 32,32 --lr 0.1 --steps 500
  {PROG} train --data my.csv --optimizer adam --lr 0.01 --json -
"""
SUGGEST_EXAMPLES = f"""examples:
  {PROG} suggest curve.csv
  {PROG} suggest curve.csv --json suggestions.json
  {PROG} suggest my_model.gdrange
"""


def split_file_argument(parser: argparse.ArgumentParser, argv: Sequence[str]) -> tuple[list[str], str | None]:
    """Take a bare FILE (the first positional argument that is not a COMMAND) out of the window's arguments.

    argparse cannot hold an optional positional beside subcommands (it would read FILE as a command), so the
    top-level arguments are scanned here: options that take a value skip it, '--' ends the options.
    """
    argv = list(argv)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    commands = set(sub.choices)
    takes_value = [opt for a in parser._actions if a.nargs != 0 for opt in a.option_strings]
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            if i + 1 < len(argv) and argv[i + 1] not in commands:
                return argv[:i] + argv[i + 2:], argv[i + 1]
            return argv, None
        if token.startswith("-") and token != "-":
            if "=" not in token and any(opt == token or (token.startswith("--") and opt.startswith(token))
                                        for opt in takes_value):
                i += 2
            else:
                i += 1
            continue
        if token in commands:
            return argv, None
        return argv[:i] + argv[i + 1:], token
    return argv, None


def _take_file(args: argparse.Namespace, path: str) -> None:
    """Check a bare FILE and route it: a scenario becomes --scenario, other kinds open once the window is up."""
    from .file_types import describe, file_type_of

    ft = file_type_of(path)
    if ft is None:
        raise CliError(f"{path!r} is neither a command (range-test, train, suggest) nor a file GD Studio opens "
                       f"({describe()})")
    from .engine.fileio import check_regular

    check_regular(path, error=CliError)  # a FIFO or folder named like a scenario is said to be one
    if args.scenario:
        raise CliError("give a FILE or --scenario, not both")
    if ft.kind == "scenario":
        args.scenario = path
    else:
        args.open_files.append(path)


def _add_record_options(parser: argparse.ArgumentParser) -> None:
    rec = parser.add_argument_group("recording (with --scenario)")
    rec.add_argument("--record", metavar="OUT.gif|OUT.mp4|DIR/",
                     help="render the run as an animation without showing the window: GIF, MP4 (needs "
                          "gd-studio[video]) or a folder of numbered PNG frames")
    rec.add_argument("--fps", type=_positive_float, default=10.0, help="frames (steps) per second (default 10)")
    rec.add_argument("--views", metavar="LIST", help="record only these views, e.g. weight,step "
                                                     "(from data, weight, lr, step); default: the whole window")
    rec.add_argument("--range-test", action="store_true", help="record the LR range test, one frame per step")
    rec.add_argument("--hold", type=_non_negative_float, default=0.0, metavar="SECONDS",
                     help="show the last frame this much longer (default 0)")


def _record(args: argparse.Namespace) -> int:
    if not args.scenario:
        raise CliError("--record needs --scenario FILE")
    if args.screenshot:
        raise CliError("--record and --screenshot cannot be combined: one output per run")
    if args.range_test and args.steps is not None:
        raise CliError("--steps does not apply to --range-test: its steps are the scenario's range-test steps")
    from . import media

    media.check_output(args.record, args.fps)  # bad names, frame rates and missing encoders fail at once
    from .engine import scenarios
    from .ui.record import RecordSettings, parse_views, record

    views = parse_views(args.views) if args.views is not None else ()
    scenario = scenarios.load(args.scenario, allow_outside_folder=args.allow_outside_data)
    steps = args.steps if args.steps is not None else (int(scenario.steps) or 30)
    settings = RecordSettings(steps=steps, fps=args.fps, size=args.size, presentation=args.presentation,
                              views=views, range_test=args.range_test, hold=args.hold)
    result = record(args.record, settings, scenario_path=args.scenario, scenario=scenario)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    w, h = result.size
    print(f"wrote {result.path}: {result.frames} frames, {w}x{h}, {args.fps:g} fps")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .file_types import describe

    parser = _Parser(
        prog=PROG, formatter_class=_HelpFormatter,
        usage=f"{PROG} [options] [FILE]\n       {PROG} COMMAND [options]   (COMMAND --help for its options)",
        description=("GD Studio: explore learning rates. With no command, opens the window; FILE, if given, "
                     f"is opened in it ({describe()})."),
        epilog=MAIN_EXAMPLES)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--scenario", metavar="FILE", help="open a scenario file")
    parser.add_argument("--presentation", action="store_true", help="start in presentation mode")
    parser.add_argument("--screenshot", metavar="OUT.png",
                        help="with --scenario: render the window to an image without showing it, then exit")
    parser.add_argument("--steps", type=_count(0),
                        help="with --screenshot: steps to run first (default 0); with --record: steps to record, "
                             "one frame each (default: the scenario's own, else 30)")
    parser.add_argument("--size", type=_size, metavar="WxH",
                        help="with --screenshot or --record: the picture size (default 1600x1000, 1920x1080 "
                             "with --presentation)")
    parser.add_argument("--allow-outside-data", action="store_true",
                        help="with --scenario: let the scenario read a data file outside its own folder")
    _add_record_options(parser)
    parser.add_argument("--self-test", action="store_true",
                        help="open the window offscreen, run a short range test, load every scenario, exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser, title="commands")

    rt = sub.add_parser("range-test", prog=f"{PROG} range-test", help="run Leslie Smith's LR range test and print the suggestions",
                        description="Run Leslie Smith's LR range test headless and print the suggested rates.",
                        formatter_class=_HelpFormatter, epilog=RANGE_TEST_EXAMPLES)
    _add_run_options(rt)
    rt.add_argument("--start-lr", type=_positive_float, default=1e-7, help="learning rate of the first step")
    rt.add_argument("--end-lr", type=_positive_float, default=10.0, help="learning rate of the last step")
    rt.add_argument("--iters", type=_count(5), default=100, help="steps (one mini-batch each)")
    rt.add_argument("--mode", choices=("exp", "linear"), default="exp",
                    help="how the LR rises: exponential or linear (Smith's original)")
    rt.add_argument("--repeats", type=_count(1), default=1, help="seeds to repeat over for a spread")
    rt.add_argument("--validate", metavar="BUDGET", type=_count(4, 100_000), nargs="?",
                    const=VALIDATE_BUDGET,
                    help="also validate for a BUDGET-step training (default %(const)s): recommended times 1/4, "
                         "1/2, 1, 2, 4, each trained a quarter of BUDGET, the best carried over to BUDGET "
                         "(recommended_validated)")
    rt.add_argument("--json", metavar="FILE|-", help="write lrs, losses, smoothed, suggestions, stop_reason"
                                                     " (and recommended, recommended_validated)")
    rt.add_argument("--csv", metavar="FILE", help="write the curve: lr, loss, smoothed")
    rt.set_defaults(func=_cmd_range_test)

    tr = sub.add_parser("train", prog=f"{PROG} train", help="train with a fixed LR and print a loss summary",
                        description="Train with a fixed learning rate headless and print a loss summary.",
                        formatter_class=_HelpFormatter, epilog=TRAIN_EXAMPLES)
    _add_run_options(tr)
    tr.add_argument("--lr", type=_positive_float, default=0.1, help="learning rate")
    tr.add_argument("--steps", type=_count(1), default=500, help="mini-batch steps to take")
    tr.add_argument("--json", metavar="FILE|-", help="write the loss history")
    tr.set_defaults(func=_cmd_train)

    sg = sub.add_parser("suggest", prog=f"{PROG} suggest",
                        help="suggest LRs for a recorded curve (CSV with columns lr, loss, or .gdrange)",
                        description="Suggest learning rates for a recorded range-test curve, e.g. from PyTorch.",
                        formatter_class=_HelpFormatter, epilog=SUGGEST_EXAMPLES)
    sg.add_argument("curve", metavar="FILE", help="curve.csv (columns lr and loss) or a range-test file (.gdrange)")
    sg.add_argument("--json", metavar="FILE|-", help="write the suggestions as JSON")
    sg.set_defaults(func=_cmd_suggest)
    return parser


def _check_scenario(path: str, allow_outside_data: bool) -> None:
    """Load a scenario and its data before any Qt starts: a bad file fails fast, with one line."""
    from .engine import descent, scenarios

    scenario = scenarios.load(path, allow_outside_folder=allow_outside_data)
    if scenario.config.data_path:
        dataset = descent.load_dataset(scenario.config)
        for note in dataset.notes:
            print(f"{PROG}: note: {note}", file=sys.stderr)


@contextlib.contextmanager
def _signals_held() -> Iterator[list[int]]:
    """Until the window's event loop takes them over, Ctrl+C and SIGTERM are noted, not raised.

    A KeyboardInterrupt inside shiboken's import is a fatal error that hangs the process, and one raised while
    the window is built left its worker thread running at exit (SIGABRT). The noted signals close the window
    as soon as its loop runs (ui.stop_signals), or end the start-up before Qt if they came first.
    """
    got: list[int] = []
    previous = {}
    try:
        for sig in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
            if sig is not None:
                previous[sig] = signal.signal(sig, lambda num, _frame: got.append(num))
    except ValueError:  # not the main thread (an embedder): leave the handlers alone
        pass
    try:
        yield got
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _open_window(args: argparse.Namespace) -> int:
    with _signals_held() as stop_requests:
        return _open_window_holding(args, stop_requests)


def _open_window_holding(args: argparse.Namespace, stop_requests: list[int]) -> int:
    # Before any QApplication: a missing display or X11 library is one line here, not a Qt abort (134).
    from .preflight import PreflightError, prepare_gui

    try:
        prepare_gui()
    except PreflightError as exc:
        raise CliError(str(exc)) from None
    try:
        from .ui.app import run_app
    except ImportError as exc:
        raise CliError(f"cannot open the window: {exc} (the command-line subcommands still work; "
                       "see 'gd-studio --help')") from None
    if stop_requests:  # interrupted while Qt was loading: there is no window to close yet
        raise KeyboardInterrupt
    if args.open_files:
        from .ui import fileopen

        fileopen.open_at_start(*args.open_files)
    return run_app(scenario=args.scenario, presentation=args.presentation, stop_requests=stop_requests)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl+C while the modules load, before the commands' own handling
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    from .engine.errors import GDStudioError

    parser = build_parser()
    try:
        argv, file_argument = split_file_argument(parser, sys.argv[1:] if argv is None else argv)
        args = parser.parse_args(argv)
        args.open_files = []
        if file_argument is not None:
            if args.command is not None:
                raise CliError(f"{file_argument!r}: a FILE opens the window; it cannot go with '{args.command}'")
            _take_file(args, file_argument)
        if args.self_test:
            from .selftest import run as self_test
            return self_test()
        if args.record:
            return _record(args)
        if args.views is not None or args.range_test or args.hold or args.fps != 10.0:
            raise CliError("--fps, --views, --range-test and --hold need --record OUT")
        if args.screenshot:
            if not args.scenario:
                raise CliError("--screenshot needs --scenario FILE")
            _check_scenario(args.scenario, args.allow_outside_data)
            from .ui.app import render_screenshot
            return render_screenshot(args.scenario, args.screenshot, steps=args.steps or 0,
                                     presentation=args.presentation, size=args.size,
                                     allow_outside_data=args.allow_outside_data)
        if args.command is None:
            return _open_window(args)
        return args.func(args)
    except CliError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except GDStudioError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def main_gui() -> int:
    """Entry point of the windowed launcher (no console on Windows): takes FILE like the console one."""
    return main()

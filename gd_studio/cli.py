"""The gd-studio command: no arguments opens the window; subcommands run the engine headless."""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path
from typing import Sequence

from . import __version__

PROG = "gd-studio"


class CliError(Exception):
    """A usage or input problem: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of usage + message
        raise CliError(f"{message} (see '{self.prog} --help')")


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


def _count(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r} must be at least {low}")
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
    data.add_argument("--samples", type=_count(2), default=400, help="samples to generate (default 400)")
    data.add_argument("--noise", type=_non_negative_float, default=0.2, help="generator noise (default 0.2)")
    data.add_argument("--classes", type=_count(2), default=3, help="classes for spiral (default 3)")
    data.add_argument("--data-seed", type=_count(0), default=0, help="seed of the generated data")
    data.add_argument("--no-standardize", action="store_true", help="keep the features as they are")
    data.add_argument("--val-fraction", type=_non_negative_float, default=0.2,
                      help="share held out for validation (default 0.2)")
    model = p.add_argument_group("model")
    model.add_argument("--model", choices=MODEL_KINDS, default="mlp")
    model.add_argument("--hidden", type=_hidden, default=(16,), help="hidden sizes, e.g. 16,16")
    model.add_argument("--activation", choices=ACTIVATIONS, default="tanh")
    model.add_argument("--loss", choices=("cross_entropy", "squared_error", "mse"),
                       help="default: cross_entropy for classes, mse for regression")
    train = p.add_argument_group("training")
    train.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd")
    train.add_argument("--momentum", type=_non_negative_float, help="momentum / nesterov coefficient")
    train.add_argument("--batch-size", type=_count(0), default=32, help="0 for full batch (default 32)")
    train.add_argument("--seed", type=_count(0), default=0, help="seed of weights and shuffling")


def _config(args: argparse.Namespace, lr: float = 0.1):
    from .engine.config import RunConfig

    is_regression_data = args.data is None and args.dataset in ("line", "sine")
    loss = args.loss or ("mse" if is_regression_data else "cross_entropy")
    optimizer_params = {}
    if args.momentum is not None:
        optimizer_params["momentum"] = args.momentum
    return RunConfig(
        dataset=args.dataset,
        dataset_params={"n_samples": args.samples, "noise": args.noise, "seed": args.data_seed,
                        "n_classes": args.classes},
        data_path=args.data, target=args.target, model=args.model, hidden=args.hidden,
        activation=args.activation, loss=loss, optimizer=args.optimizer,
        optimizer_params=optimizer_params, lr=lr, batch_size=args.batch_size, seed=args.seed,
        standardize=not args.no_standardize, val_fraction=args.val_fraction)


def _session(args: argparse.Namespace, lr: float = 0.1):
    from .engine import datasets, descent

    config = _config(args, lr)
    dataset = descent.load_dataset(config)
    if args.loss is None and args.data is not None:  # a CSV decides its own task
        config = config.replace(loss="mse" if dataset.task == "regression" else "cross_entropy")
    return descent.build(config, dataset=dataset), datasets


def _write_json(obj: dict, dest: str) -> None:
    text = json.dumps(obj, indent=2, allow_nan=False)
    if dest == "-":
        sys.stdout.write(text + "\n")
        return
    try:
        Path(dest).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {dest}: {exc.strerror or exc}") from None


def _write_csv(dest: str, header: Sequence[str], rows) -> None:
    try:
        with open(dest, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)
    except OSError as exc:
        raise CliError(f"cannot write {dest}: {exc.strerror or exc}") from None


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.3g}"


SUGGESTION_ORDER = ("steepest", "valley", "minimum/10", "base_lr", "max_lr")


def _print_suggestions(out, suggestions: dict, describe=None) -> None:
    for name in SUGGESTION_ORDER:
        if name in suggestions:
            text = describe(name) if describe else _fmt(suggestions[name])
            print(f"  {name:<11} {text}", file=out)


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
    if args.json:
        _write_json(payload, args.json)
    if args.csv:
        _write_csv(args.csv, ("lr", "loss", "smoothed"),
                   ((repr(float(a)), repr(float(b)), repr(float(c)))
                    for a, b, c in zip(result.lrs, result.losses, result.smoothed)))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    session, _ = _session(args, lr=args.lr)
    out = sys.stderr if args.json == "-" else sys.stdout
    runner = session.runner
    records = runner.run(args.steps)
    print(f"train: {session.dataset.describe()}; {session.model.describe()}", file=out)
    for note in session.notes:
        print(f"note: {note}", file=out)
    if records:
        first, last = records[0], records[-1]
        losses = [r.loss for r in records]
        print(f"  steps       {len(records)} (epoch {last.epoch}), lr {_fmt(last.lr)}", file=out)
        print(f"  batch loss  {first.loss:.4g} → {last.loss:.4g} (lowest {min(losses):.4g})", file=out)
        print(f"  train loss  {runner.full_loss():.4g}", file=out)
        if runner.last_val_loss is not None:
            print(f"  val loss    {runner.last_val_loss:.4g}", file=out)
    print(f"  stopped     {runner.stop_reason or f'after {args.steps} steps as asked'}", file=out)
    if args.json:
        cols = runner.history.columns()
        val = runner.val_history.columns()
        _write_json({
            "config": session.config.to_dict(),
            "steps": len(records),
            "stop_reason": runner.stop_reason,
            "final_train_loss": runner.full_loss() if records else None,
            "final_val_loss": runner.last_val_loss,
            "history": {k: v.tolist() for k, v in cols.items()},
            "val_history": {k: v.tolist() for k, v in val.items()},
        }, args.json)
    return 0 if not runner.stopped else 1


def read_curve_csv(path: str):
    """(lrs, losses) from a CSV with columns lr and loss (names matched case-insensitively)."""
    import numpy as np

    from .engine.errors import GDStudioError

    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise GDStudioError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise GDStudioError(f"{path}: is a directory, not a CSV file") from None
    except UnicodeDecodeError as exc:
        raise GDStudioError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise GDStudioError(f"{path}: {exc.strerror or exc}") from None
    if not rows:
        raise GDStudioError(f"{path}: the file is empty")
    header = [h.strip().lower() for h in rows[0]]
    lr_names, loss_names = ("lr", "learning_rate", "learning rate"), ("loss", "losses", "train_loss")
    try:
        i_lr = next(i for i, h in enumerate(header) if h in lr_names)
        i_loss = next(i for i, h in enumerate(header) if h in loss_names)
    except StopIteration:
        raise GDStudioError(f"{path}, line 1: needs columns named lr and loss; found "
                            f"{', '.join(rows[0]) or 'nothing'}") from None
    lrs, losses = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            lr, loss = float(row[i_lr]), float(row[i_loss])
        except (IndexError, ValueError):
            raise GDStudioError(f"{path}, line {line}: expected numbers in columns lr and loss") from None
        if not (math.isfinite(lr) and lr > 0):
            raise GDStudioError(f"{path}, line {line}: lr must be a finite number above 0, got {row[i_lr]}")
        lrs.append(lr)
        losses.append(loss)  # a NaN/inf tail (a diverged run) is the finder's to handle
    if len(lrs) < 5:
        raise GDStudioError(f"{path}: needs at least 5 points, found {len(lrs)}")
    return np.array(lrs), np.array(losses)


def _cmd_suggest(args: argparse.Namespace) -> int:
    from .engine import lr_finder

    lrs, losses = read_curve_csv(args.curve)
    suggestions = lr_finder.suggest_all(lrs, losses)
    if args.json:
        _write_json({"suggestions": suggestions}, args.json)
    out = sys.stderr if args.json == "-" else sys.stdout
    print(f"suggestions for {args.curve} ({len(lrs)} points):", file=out)
    _print_suggestions(out, suggestions)
    return 0


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
    scenario = scenarios.load(args.scenario)
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
    parser = _Parser(prog=PROG, description="GD Studio: explore learning rates. With no command, opens "
                                            "the window.")
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
    _add_record_options(parser)
    parser.add_argument("--self-test", action="store_true",
                        help="open the window offscreen, run a short range test, load every scenario, exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    rt = sub.add_parser("range-test", help="run Leslie Smith's LR range test and print the suggestions")
    _add_run_options(rt)
    rt.add_argument("--start-lr", type=_positive_float, default=1e-7)
    rt.add_argument("--end-lr", type=_positive_float, default=10.0)
    rt.add_argument("--iters", type=_count(5), default=100, help="steps (one mini-batch each)")
    rt.add_argument("--mode", choices=("exp", "linear"), default="exp",
                    help="how the LR rises: exponential (default) or linear (Smith's original)")
    rt.add_argument("--repeats", type=_count(1), default=1, help="seeds to repeat over for a spread")
    rt.add_argument("--json", metavar="FILE|-", help="write lrs, losses, smoothed, suggestions, stop_reason")
    rt.add_argument("--csv", metavar="FILE", help="write the curve: lr, loss, smoothed")
    rt.set_defaults(func=_cmd_range_test)

    tr = sub.add_parser("train", help="train with a fixed LR and print a loss summary")
    _add_run_options(tr)
    tr.add_argument("--lr", type=_positive_float, default=0.1)
    tr.add_argument("--steps", type=_count(1), default=500)
    tr.add_argument("--json", metavar="FILE|-", help="write the loss history")
    tr.set_defaults(func=_cmd_train)

    sg = sub.add_parser("suggest", help="suggest LRs for a recorded curve (CSV with columns lr, loss)")
    sg.add_argument("curve", metavar="curve.csv")
    sg.add_argument("--json", metavar="FILE|-", help="write the suggestions as JSON")
    sg.set_defaults(func=_cmd_suggest)
    return parser


def _open_window(args: argparse.Namespace) -> int:
    try:
        from .ui.app import run_app
    except ImportError as exc:
        raise CliError(f"cannot open the window: {exc} (the command-line subcommands still work; "
                       "see 'gd-studio --help')") from None
    return run_app(scenario=args.scenario, presentation=args.presentation)


def main(argv: Sequence[str] | None = None) -> int:
    from .engine.errors import GDStudioError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
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
            from .ui.app import render_screenshot
            return render_screenshot(args.scenario, args.screenshot, steps=args.steps or 0,
                                     presentation=args.presentation, size=args.size)
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
    """Entry point of the windowed launcher (no console on Windows)."""
    return main([])

"""The ``theorylab`` command line.

Exit status: 0 when everything asked for succeeded; 1 when a check FAILed or was
INCONCLUSIVE, a decoy survived, or a derivation failed or does not derive its
statement (INCONCLUSIVE is not success); 2 for bad input, which prints one line
naming the parameter and its domain.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any, NoReturn

from theorylab.errors import ParameterError, TheorylabError
from theorylab.isolation import DEFAULT_TIMEOUT, MAX_TIMEOUT

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
#: Practical upper bounds of the options (bad input beyond them is refused in one line).
MAX_BUDGET, MAX_PRECISION, MAX_OUTPUT_NUMBERS = 10_000, 10_000, 10**6
MAX_EVIDENCE_BYTES = 2 * 1024**3


def _version() -> str:
    from theorylab import __version__

    return __version__


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit with status 2."""

    def error(self, message: str) -> NoReturn:
        from theorylab.errors import elide

        self.exit(EXIT_USAGE, f"theorylab: error: {elide(message, 240)} "
                              f"(see '{self.prog} --help')\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="theorylab", description=__doc__.splitlines()[0])
    parser.add_argument("--evidence", help="evidence file (default .theorylab/evidence.jsonl)")
    parser.add_argument("--version", action="version", version=f"theorylab {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    listing = commands.add_parser("list", help="ids, titles and statuses")
    listing.add_argument("--family")
    _module_option(listing)

    show = commands.add_parser("show", help="a claim's statement, conventions and citation")
    show.add_argument("claim")
    show.add_argument("--latex", action="store_true", help="print LaTeX")
    _module_option(show)

    predict = commands.add_parser("predict", help="evaluate a claim's statement")
    predict.add_argument("claim")
    predict.add_argument("assignments", nargs="*", metavar="name=value",
                         help="parameter values; JSON for vectors and matrices")
    predict.add_argument("--precision", type=int,
                         help=f"decimal digits (mpmath), at most {MAX_PRECISION}")
    predict.add_argument("--json", action="store_true")
    _module_option(predict)

    prove = commands.add_parser("prove", help="check derivations")
    prove.add_argument("claims", nargs="*")
    prove.add_argument("--family")
    _module_option(prove)

    def run_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--budget", type=int,
                         help=f"parameter points per claim, at most {MAX_BUDGET}")
        sub.add_argument("--seed", type=int, default=0, help="in [0, 2**32)")
        sub.add_argument("--device", default="cpu", help="cpu, cuda or auto")
        sub.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                         help=f"per-claim time limit (default {DEFAULT_TIMEOUT:g}; 0: none, in "
                              f"this process); a check past it is INCONCLUSIVE 'timed out'")
        sub.add_argument("--json", action="store_true")
        _engine_options(sub)

    check = commands.add_parser(
        "check", help="verify claims against simulation",
        description="Verify claims against their simulations. Each target is a claim id, "
        "a .py file of your own claims, or an importable module of them.")
    check.add_argument("claims", nargs="*", metavar="target",
                       help="claim id, path/to/claims.py or package.module")
    check.add_argument("--family")
    _module_option(check)
    run_options(check)

    verify = commands.add_parser("verify", help="prove, check and run decoys")
    verify.add_argument("--family")
    _module_option(verify)
    run_options(verify)
    verify.add_argument("--report", metavar="DIR",
                        help="write the docs site here (default: site/ beside the evidence file)")
    verify.add_argument("--no-report", action="store_true", help="do not write the docs site")

    docs = commands.add_parser("docs", help="build the derivation docs site from the evidence")
    docs.add_argument("--family")
    docs.add_argument("--out", metavar="DIR",
                      help="output folder (default: site/ beside the evidence file)")
    _module_option(docs)

    export = commands.add_parser("export", help="a claim as a LaTeX fragment, or its BibTeX")
    export.add_argument("claim")
    _module_option(export)
    formats = export.add_mutually_exclusive_group(required=True)
    formats.add_argument("--latex", action="store_true",
                         help="statement and derivation with amsthm environments")
    formats.add_argument("--bib", action="store_true", help="BibTeX of the cited papers")
    calibrate = commands.add_parser(
        "calibrate", help="measure false-FAIL rates and p-value calibration over many seeds",
        description="Run seeds 0..N-1 of each claim on Dask (a local cluster by default), "
        "skipping (claim, seed) pairs already in the evidence; write calibration.json and "
        "calibration.html beside the evidence file.")
    calibrate.add_argument("claims", nargs="*", metavar="ID")
    calibrate.add_argument("--family")
    _module_option(calibrate)
    calibrate.add_argument("--seeds", type=int, required=True, help="seeds per claim (>= 1)")
    calibrate.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    calibrate.add_argument("--report", metavar="DIR",
                           help="folder of calibration.json/.html (default: beside the "
                                "evidence file)")
    _engine_options(calibrate)
    return parser


def _engine_options(sub: argparse.ArgumentParser) -> None:
    engine = sub.add_mutually_exclusive_group()
    engine.add_argument("--scheduler", metavar="ADDRESS",
                        help="run checks on an existing Dask scheduler (tcp://host:8786)")
    engine.add_argument("--workers", type=int, metavar="K",
                        help="run checks on a local Dask cluster of K worker processes "
                             "(check and verify: default $THEORYLAB_WORKERS, else one per "
                             "core, at most one per claim; 1: one after another in this "
                             "process)")


def check_workers(requested: int | None, claims: int) -> int:
    """Local worker processes for ``check`` and ``verify``; 1 means in this process.

    ``--workers`` when given, else ``$THEORYLAB_WORKERS``, else one per usable core;
    never more than there are claims (a worker with nothing to do only costs its start).
    """
    from theorylab.distributed import usable_cores, worker_count

    if requested is None:
        text = os.environ.get("THEORYLAB_WORKERS", "").strip()
        if text:
            try:
                requested = worker_count(int(text))  # the same domain as --workers
            except (ValueError, ParameterError):
                limit = 4 * usable_cores()
                raise ParameterError("THEORYLAB_WORKERS", f"an integer in [1, {limit}] "
                                     "(4 per core)", text) from None
        else:
            requested = usable_cores()
    return max(1, min(worker_count(requested), claims))


def _distributed_checks(args: argparse.Namespace, claims: Sequence[Any], device: str,
                        evidence: Any, progress: Any, workers: int | None,
                        proved: dict[str, bool] | None, lines: list[str]) -> list[Any]:
    """The checks of ``_run_checks`` as Dask tasks; the client records each verdict.

    With ``proved`` (verify), each claim's derivations are tasks too; the client
    records them, fills ``proved`` and says what they found into ``lines``.
    """
    from theorylab import registry
    from theorylab.distributed import Task, run_checks
    from theorylab.workflow import derivation_record

    said: dict[str, list[str]] = {}

    def record_proof(claim_id: str, results: list[Any], seconds: float) -> None:
        if results:
            evidence.record("derivation", registry.get(claim_id),
                            derivation_record(results, seconds))
        said[claim_id] = []
        assert proved is not None
        proved[claim_id] = _proved(claim_id, results, said[claim_id].append)

    tasks = [Task(claim.id, args.seed, args.budget, device) for claim in claims]
    verdicts = run_checks(tasks, modules=args.module, scheduler=args.scheduler,
                          workers=workers, evidence=evidence, timeout=args.timeout,
                          progress=lambda line: progress.update(line, advance=1),
                          proofs=[claim.id for claim in claims] if proved is not None else (),
                          on_proof=record_proof)
    for claim in claims:  # in the claims' order, as a serial run says them
        lines.extend(said.get(claim.id, []))
    return verdicts


def _command_calibrate(args: argparse.Namespace) -> int:
    import math
    from pathlib import Path

    from theorylab.calibration import MAX_SEEDS, study, write_report, write_report_page
    from theorylab.distributed import worker_count
    from theorylab.verifier import resolve_device

    if not 1 <= args.seeds <= MAX_SEEDS:
        raise ParameterError("--seeds", f"an integer in [1, {MAX_SEEDS}]", args.seeds)
    workers = None if args.workers is None else worker_count(args.workers)
    if not args.device.strip():
        raise ParameterError("--device", "one of 'cpu', 'cuda', 'auto'", args.device)
    device = resolve_device(args.device)
    loaded = _load_modules(args.module)
    claims = loaded if loaded and not args.claims and args.family is None else \
        _selected(args.claims, args.family)
    evidence = _evidence(args)
    folder = Path(args.report) if args.report else evidence.path.parent
    try:
        result = study(claims, args.seeds, evidence=evidence, modules=args.module,
                       scheduler=args.scheduler, workers=workers, device=device)
    finally:  # what finished is reported, also after an error or Ctrl-C
        from theorylab.calibration import report

        partial = report(claims, evidence, args.seeds)
        write_report(partial, folder / "calibration.json")
        write_report_page(partial, folder)
    print(f"{'claim':<42} {'checks':>6} {'FAIL':>5} {'bound':>7} {'INCONC':>6} "
          f"{'decoys':>7} {'KS p':>8}  error model")
    for claim_id, entry in result["claims"].items():
        decoys = entry["decoys"].values()
        rejected = min((d["rate"] for d in decoys), default=math.nan)
        p = entry["p_values"]
        ks = min(p.get("ks_p", 1.0), p.get("bounded_ks_p", 1.0))
        print(f"{claim_id:<42} {entry['checks']:>6} {entry['fails']:>5} "
              f"{entry['fail_upper']:>7.2g} {entry['inconclusive']:>6} {rejected:>7.2f} "
              f"{ks:>8.2g}  {'ok' if entry['error_model_ok'] else 'WRONG (p-values)'}")
    print(f"\nreport: {folder / 'calibration.json'} and {folder / 'calibration.html'}")
    bad = any(e["fails"] or e["inconclusive"] or not e["error_model_ok"]
              for e in result["claims"].values())
    return EXIT_FAIL if bad else EXIT_OK


def _module_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--module", action="append", default=[], metavar="MODULE",
                     help="load your own claims from a module or .py file (repeatable; the "
                          "working directory is importable); list, prove, check and verify "
                          "then select the claims it defines unless ids or --family are "
                          "given, docs adds them to the site")


def _load_modules(modules: Sequence[str]) -> list[Any]:
    from theorylab import registry

    loaded: list[Any] = []
    for module in modules:
        loaded.extend(registry.load(module))
    return loaded


def _targets(targets: Sequence[str], family: str | None) -> list[Any]:
    """Claims named by ids, .py files or module names (check's positional targets)."""
    from theorylab import registry
    from theorylab.errors import UnknownClaimError

    if not targets:
        return registry.claims(family)
    selected: list[Any] = []
    for target in targets:
        if target.endswith(".py") or _is_file(target):
            selected.extend(registry.load(target))
            continue
        try:
            selected.append(registry.get(target))
            continue
        except UnknownClaimError as unknown:
            if not _importable(target):
                raise unknown from None
        selected.extend(registry.load(target))
    return selected


def _is_file(name: str) -> bool:
    from pathlib import Path

    try:
        return Path(name).is_file()
    except OSError:  # a name too long for the file system is not a file
        return False


def _importable(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _selected(ids: Sequence[str], family: str | None) -> list[Any]:
    from theorylab import registry

    if ids:
        return [registry.get(claim_id) for claim_id in ids]
    return registry.claims(family)


def _evidence(args: argparse.Namespace) -> Any:
    from theorylab.evidence import Evidence

    evidence = Evidence(args.evidence)
    _check_evidence_path(evidence.path)
    return evidence


def _check_evidence_path(path: Any) -> None:
    """Refuse an evidence path that is not a text file (a folder, /dev/zero, a binary file)."""
    import os
    import stat

    from theorylab.errors import elide

    shown = elide(str(path), 80)
    if not str(path).strip() or str(path).endswith(os.sep):
        raise TheorylabError(f"--evidence {shown!r} is not a file path")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return  # created on the first record
    except OSError as error:
        raise TheorylabError(f"--evidence {shown!r} cannot be read: {error.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise TheorylabError(f"--evidence {shown!r} is a directory; give a .jsonl file path")
    if not stat.S_ISREG(info.st_mode):
        raise TheorylabError(f"--evidence {shown!r} is not a regular file")
    if info.st_size > MAX_EVIDENCE_BYTES:
        raise TheorylabError(f"--evidence {shown!r} is {info.st_size / 1024**3:.1f} GiB, over "
                             f"the {MAX_EVIDENCE_BYTES // 1024**3} GiB an evidence file may be")
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536)
    except OSError as error:
        raise TheorylabError(f"--evidence {shown!r} cannot be read: {error.strerror}") from None
    if b"\0" in head:
        raise TheorylabError(f"--evidence {shown!r} is a binary file, not JSON lines")


def _assignments(items: Sequence[str]) -> dict[str, str]:
    result = {}
    for item in items:
        name, separator, value = item.partition("=")
        if not separator or not name.strip():
            raise ParameterError(item, "given as name=value")
        if name.strip() in result:
            raise ParameterError(name.strip(), "given once", detail="given twice")
        result[name.strip()] = value.strip()
    return result


def _jsonable(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if type(value).__module__.startswith("mpmath"):
        return str(value)
    return value


def _digits(value: Any, precision: int) -> Any:
    """Mpmath values as strings with ``precision`` significant digits."""
    import mpmath

    if isinstance(value, mpmath.matrix):
        return [[_digits(value[i, j], precision) for j in range(value.cols)]
                for i in range(value.rows)]
    if hasattr(value, "dtype") and value.dtype == object:  # a numpy array of mpmath numbers
        return _digits(value.tolist(), precision)
    if isinstance(value, (list, tuple)):
        return [_digits(v, precision) for v in value]
    if isinstance(value, (mpmath.mpf, mpmath.mpc)):
        return mpmath.nstr(value, precision, strip_zeros=False)
    return value


def _command_list(args: argparse.Namespace) -> int:
    from theorylab import registry

    evidence = _evidence(args)
    loaded = _load_modules(args.module)
    claims = loaded if loaded and args.family is None else _selected((), args.family)
    rows = []
    for claim in claims:
        rests_on = registry.derivation_summary(claim, evidence)
        rows.append((claim.id, registry.status(claim, evidence),
                     f"({rests_on})" if rests_on else "", claim.title))
    width = max(len(r[0]) for r in rows)
    basis = max(len(r[2]) for r in rows)
    for claim_id, state, rests_on, title in rows:
        print(f"{claim_id:<{width}}  {state:<14}  {rests_on:<{basis}}  {title}")
    return EXIT_OK


def _command_show(args: argparse.Namespace) -> int:
    from theorylab import registry

    _load_modules(args.module)
    claim = registry.get(args.claim)
    if args.latex:
        print(claim.latex())
        for quantity, latex in claim.quantity_latex().items():
            print(f"% quantity={quantity}\n{latex}")
        return EXIT_OK
    print(f"{claim.id}: {claim.title}")
    print(f"  {claim.citation.short()}")
    print()
    print(claim.pretty())
    print()
    for quantity, pretty in claim.quantity_pretty().items():
        print(f"quantity={quantity}:")
        print(pretty)
        print()
    print("Parameters:")
    for parameter in claim.parameters:
        print(f"  {parameter.name}: {parameter.domain.describe()} -- {parameter.description}")
    for constraint in claim.constraints:
        print(f"  constraint: {constraint.description}")
    print("Conventions:")
    for convention in claim.conventions:
        print(f"  - {convention}")
    if claim.uses:
        print("Uses: " + ", ".join(claim.uses))
    print("Decoys: " + ", ".join(d.name for d in claim.decoys))
    print(f"Status: {registry.status(claim, _evidence(args))}")
    return EXIT_OK


def _command_predict(args: argparse.Namespace) -> int:
    from theorylab import registry

    _load_modules(args.module)
    claim = registry.get(args.claim)
    if args.precision is not None and not 1 <= args.precision <= MAX_PRECISION:
        raise ParameterError("--precision", f"an integer in [1, {MAX_PRECISION}]", args.precision)
    params = claim.parse(_assignments(args.assignments))
    value = claim.predict(precision=args.precision, **params)
    _printable(claim, params, value)
    if args.precision:
        value = _digits(value, args.precision)
    named = _named_components(claim.components, value)
    if args.json:
        record = {"claim": claim.id, "parameters": _jsonable(params), "value": _jsonable(value)}
        if named is not None:
            record["components"] = named
        print(json.dumps(record, allow_nan=False))
    elif named is not None:
        print(", ".join(f"{name} = {entry}" for name, entry in named.items()))
    else:
        print(value if isinstance(value, (str, float, int)) else
              json.dumps(_jsonable(value), allow_nan=False))
    return EXIT_OK


def _printable(claim: Any, params: dict[str, Any], value: Any) -> None:
    """Refuse a prediction that is not finite, or too large to print."""
    import mpmath
    import numpy as np

    from theorylab.verifier import format_point

    if isinstance(value, mpmath.matrix):
        size, finite = value.rows * value.cols, all(mpmath.isfinite(v) for v in value)
    elif isinstance(value, (mpmath.mpf, mpmath.mpc)):
        size, finite = 1, bool(mpmath.isfinite(value))
    else:
        try:
            array = np.asarray(value, dtype=np.complex128)
        except (TypeError, ValueError, OverflowError):
            return
        size, finite = array.size, bool(np.all(np.isfinite(array)))
    where = f"{claim.id} at {format_point(params)}"
    if size > MAX_OUTPUT_NUMBERS:
        raise TheorylabError(f"the prediction of {where[:120]} has {size} numbers, more than "
                             f"the {MAX_OUTPUT_NUMBERS} predict prints")
    if not finite:
        raise TheorylabError(f"the prediction of {where[:160]} is not finite")


def _named_components(names: Sequence[str], value: Any) -> dict[str, Any] | None:
    """Pair a vector value's entries with the claim's component names."""
    entries = _jsonable(value)
    if not names or not isinstance(entries, list) or len(entries) != len(names):
        return None
    return dict(zip(names, entries, strict=True))


def _prove(claims: Sequence[Any], evidence: Any, say: Any = print) -> bool:
    """Check and record derivations; True when every one derives its statement."""
    from theorylab.workflow import prove

    all_ok = True
    for claim in claims:
        all_ok &= _proved(claim.id, prove(claim, record=evidence), say)
    return all_ok


def _proved(claim_id: str, results: Sequence[Any], say: Any) -> bool:
    """Say what a claim's derivation checks found; True when every one derives it."""
    from theorylab.derivation import StepStatus

    all_ok = True
    if not results:
        say(f"{claim_id}: no derivation")
    for result in results:
        all_ok &= result.derives
        marks = " ".join({StepStatus.ASSUMED: "A", StepStatus.EXACT: "=",
                          StepStatus.NUMERIC: "~", StepStatus.FAILED: "X"}[s.status]
                         for s in result.steps)
        head = result.status.value.upper() if result.derives or not result.ok else \
            "NOT DERIVED"
        say(f"{claim_id}: {head} [{marks}] {result.title} -- {result.summary()}")
        for step in result.steps:
            if step.status is StepStatus.FAILED:
                say(f"    step {step.index} ({step.relation}) failed: {step.detail}")
            elif step.cited:
                say(f"    step {step.index} cited, not checked: {step.cited}")
        if result.conclusion is StepStatus.FAILED or result.circular:
            say(f"    {result.conclusion_detail}")
    return all_ok


def _command_prove(args: argparse.Namespace) -> int:
    loaded = _load_modules(args.module)
    claims = loaded if loaded and not args.claims and args.family is None else \
        _selected(args.claims, args.family)
    ok = _prove(claims, _evidence(args))
    return EXIT_OK if ok else EXIT_FAIL


class _Progress:
    """A rich progress bar on a terminal; in logs and CI, one line per finished claim."""

    def __init__(self, total: int):
        self.total, self.done, self.bar = total, 0, None
        if sys.stderr.isatty():
            import rich.console
            import rich.progress as bars

            columns = (bars.BarColumn(), bars.MofNCompleteColumn(), bars.TimeElapsedColumn(),
                       bars.TextColumn("{task.description}"))
            # no refresh thread: checks fork child processes, and a thread holding a lock
            # at the fork would leave the child waiting on it
            self.bar = bars.Progress(*columns, console=rich.console.Console(file=sys.stderr),
                                     transient=True, auto_refresh=False)
            self.task = self.bar.add_task("", total=total)
            self.bar.start()

    def update(self, message: str, advance: int = 0) -> None:
        """Show ``message``; ``advance`` counts finished steps (a line each in logs)."""
        self.done += advance
        if self.bar is not None:
            self.bar.update(self.task, advance=advance, description=message[:80])
            self.bar.refresh()
        elif advance:
            sys.stderr.write(f"[{self.done}/{self.total}] {message}\n")
            sys.stderr.flush()

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.stop()


def _run_options(args: argparse.Namespace) -> str:
    """Validate check's and verify's options before any work; returns the device."""
    from theorylab.verifier import resolve_device

    if not args.device.strip():
        raise ParameterError("--device", "one of 'cpu', 'cuda', 'auto'", args.device)
    if args.budget is not None and not 1 <= args.budget <= MAX_BUDGET:
        raise ParameterError("--budget", f"an integer in [1, {MAX_BUDGET}]", args.budget)
    if not 0 <= args.seed < 2**32:
        raise ParameterError("--seed", "an integer in [0, 2**32)", args.seed)
    if not 0 <= args.timeout <= MAX_TIMEOUT:  # NaN fails too
        raise ParameterError("--timeout", f"seconds in [0, {MAX_TIMEOUT:g}] (0: no limit)",
                             args.timeout)
    return resolve_device(args.device)


def _run_checks(args: argparse.Namespace, claims: Sequence[Any], *, prove: bool) -> int:
    from theorylab import registry
    from theorylab.isolation import check_with_deadline
    from theorylab.verifier import Status

    device = _run_options(args)
    evidence = _evidence(args)
    started = time.perf_counter()
    progress = _Progress(len(claims) * (2 if prove else 1))
    proved: dict[str, bool] = {}
    lines: list[str] = []
    verdicts = []
    workers = None if args.scheduler is not None else check_workers(args.workers, len(claims))
    if workers is None or workers > 1:  # in parallel on Dask, derivations too
        verdicts = _distributed_checks(args, claims, device, evidence, progress, workers,
                                       proved if prove else None, lines)
        claims = ()
    elif prove:
        for claim in claims:
            progress.update(f"proving {claim.id}")
            proved[claim.id] = _prove([claim], evidence, say=lines.append)
            progress.update(f"proved {claim.id}", advance=1)
    for claim in claims:
        progress.update(f"checking {claim.id}")
        verdict = check_with_deadline(  # recorded at once: kept even if a later one crashes
            claim, timeout=args.timeout, modules=args.module, budget=args.budget,
            seed=args.seed, device=device, progress=progress.update, record=evidence)
        verdicts.append(verdict)
        progress.update(f"{claim.id} {verdict.status.value}", advance=1)
    progress.close()
    failed = any(v.status is not Status.PASS for v in verdicts) or any(
        not v.decoys_rejected for v in verdicts) or not all(proved.values())
    if args.json:
        from theorylab.calibration import strict_json

        print(json.dumps(strict_json([v.to_dict() for v in verdicts]), allow_nan=False))
        return EXIT_FAIL if failed else EXIT_OK
    for line in lines:
        if "FAILED" in line or "failed" in line or "NOT DERIVED" in line or "cited" in line \
                or "conclusion" in line:
            print(line)
    header = (f"{'claim':<40} {'check':<12} {'decoys':<7} {'|diff|/tol':>10} "
              f"{'detects':>8} {'needs':>6} {'time':>7}  status")
    print(header)
    print("-" * len(header))
    for verdict in verdicts:
        claim = registry.get(verdict.claim)
        rejected = sum(d.status is Status.FAIL for d in verdict.decoys)
        worst = verdict.counterexample or verdict.worst
        ratio = f"{worst.ratio:10.2g}" if worst else f"{'-':>10}"
        state = registry.status(claim, evidence)
        rests_on = registry.derivation_summary(claim, evidence)
        smoke = " (smoke check: status unchanged)" if verdict.smoke else ""
        print(f"{verdict.claim:<40} {verdict.status.value:<12} "
              f"{rejected}/{len(verdict.decoys):<5} {ratio} "
              f"{_percent(verdict.relative_resolution()):>8} {_percent(claim.resolution):>6} "
              f"{verdict.wall_time:6.1f}s  {state}{f' ({rests_on})' if rests_on else ''}{smoke}")
        if verdict.status is not Status.PASS:
            print(f"    {verdict.summary()}")
        for decoy in verdict.decoys:
            if decoy.status is not Status.FAIL:
                print(f"    decoy not rejected: {decoy.summary()}")
    print(f"\n'|diff|/tol' is the largest |estimate - prediction| / tolerance (PASS needs <= 1); "
          f"'detects' the smallest relative error of the prediction the check detects, "
          f"'needs' the claim's required resolution.\n"
          f"{len(verdicts)} claims, seed {args.seed}, device {device}, "
          f"{time.perf_counter() - started:.1f}s; evidence in {evidence.path}")
    return EXIT_FAIL if failed else EXIT_OK


def _percent(value: float) -> str:
    import math

    if not math.isfinite(value):
        return "-"
    return f"{100 * value:.2g}%" if value >= 1e-4 else f"{value:.0e}"


def _command_check(args: argparse.Namespace) -> int:
    _run_options(args)
    loaded = _load_modules(args.module)
    if loaded and not args.claims and args.family is None:
        return _run_checks(args, loaded, prove=False)
    return _run_checks(args, _targets(args.claims, args.family), prove=False)


def _command_verify(args: argparse.Namespace) -> int:
    _run_options(args)
    loaded = _load_modules(args.module)
    claims = loaded if loaded and args.family is None else _selected((), args.family)
    report = None if args.no_report else _site_dir(args, args.report)  # checked before the run
    code = _run_checks(args, claims, prove=True)
    if report is not None:
        try:
            _build_site(args, report, claims=claims, out=sys.stderr if args.json else sys.stdout,
                        examples=True)
        except Exception as error:  # noqa: BLE001  (the verdicts are kept; say why, not crash)
            print(f"theorylab: warning: the docs site was not written: "
                  f"{type(error).__name__}: {error}", file=sys.stderr)
    return code


def _site_dir(args: argparse.Namespace, given: str | None) -> Any:
    from theorylab.docs import default_site_dir, prepare_out

    return prepare_out(given if given is not None else default_site_dir(_evidence(args).path))


def _build_site(args: argparse.Namespace, folder: Any, *, claims: Any = None,
                family: str | None = None, out: Any = None, examples: bool = False) -> None:
    from theorylab.docs import build_site

    result = build_site(folder, claims=claims, family=family, evidence=_evidence(args),
                        examples=examples)
    for warning in result.warnings:
        print(f"theorylab: docs warning: {warning}", file=sys.stderr)
    print(f"docs: {len(result.pages)} claim pages in {result.seconds:.1f}s; "
          f"open {result.index}", file=out or sys.stdout)


def _command_docs(args: argparse.Namespace) -> int:
    from theorylab import registry

    loaded = _load_modules(args.module)
    claims = registry.claims(args.family)  # an unknown family is an error before any work
    claims += [claim for claim in loaded if claim not in claims]
    _build_site(args, _site_dir(args, args.out), claims=claims)
    return EXIT_OK


def _command_export(args: argparse.Namespace) -> int:
    from theorylab import registry
    from theorylab.derivation import check_derivation
    from theorylab.docs.tex import bibtex, latex_fragment

    _load_modules(args.module)
    claim = registry.get(args.claim)
    if args.bib:
        sys.stdout.write(bibtex(claim))
        return EXIT_OK
    results = [check_derivation(d, claim.statement) for d in registry.derivations(claim.id)]
    sys.stdout.write(latex_fragment(claim, results))
    return EXIT_OK


COMMANDS = {"list": _command_list, "show": _command_show, "predict": _command_predict,
            "prove": _command_prove, "check": _command_check, "verify": _command_verify,
            "docs": _command_docs, "export": _command_export, "calibrate": _command_calibrate}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    import os

    from theorylab.errors import elide

    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit:  # --help, --version and usage errors, also when called in-process
        return exit.code if isinstance(exit.code, int) else EXIT_USAGE
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe shows here, where it is handled, not at exit
        return code
    except TheorylabError as error:
        print(f"theorylab: error: {elide(str(error), 280)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("theorylab: interrupted; results so far are in the evidence file", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `theorylab show ID | head -1`: the reader has gone; stop quietly
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_OK
    except OSError as error:  # a path that cannot be read or written
        where = f": {elide(str(error.filename), 80)}" if error.filename else ""
        print(f"theorylab: error: {error.strerror or type(error).__name__}{where}",
              file=sys.stderr)
        return EXIT_USAGE
    except (RecursionError, MemoryError, OverflowError) as error:  # bad input beyond a bound
        if os.environ.get("THEORYLAB_DEBUG"):
            raise
        print(f"theorylab: error: {elide(f'{type(error).__name__}: {error}', 200)} (input "
              f"beyond a practical bound; THEORYLAB_DEBUG=1 shows where)", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())

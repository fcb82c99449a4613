"""The printed report of a benchmark: head lines, table and targets.

Part of :mod:`_harness`.  The table has one line per implementation --
status, first-call time, median/min/max time, work rate, fraction of the
roofline and speed-up over the reference (the first row) -- and a last
line for the roofline itself.  A row without times (skipped, failed) shows
only its status.
"""

import statistics

__all__ = ["format_table", "report", "target_lines"]


def _stats(row, work, ceiling, ref_median):
    """Figures of a timed row.

    Parameters
    ----------
    row : dict
        Row with ``times``.
    work : int
        Work units of one call.
    ceiling : _harness.Ceiling
        Roofline.
    ref_median : float
        Median time of the reference.

    Returns
    -------
    median, rate, fraction, speedup : float
        Median seconds, work units per second, fraction of the roofline
        and speed-up over the reference.
    """
    median = statistics.median(row["times"])
    rate = work / median
    return median, rate, rate / ceiling.rate, ref_median / median


def format_table(bench, rows, work, ceiling):
    """Render the result table.

    Parameters
    ----------
    bench : _harness.Benchmark
        The benchmark (reference name, unit).
    rows : list of dict
        Measured and checked rows, reference first.
    work : int
        Work units of one call.
    ceiling : _harness.Ceiling
        Roofline.

    Returns
    -------
    str
        One line per implementation plus the roofline line.
    """
    ref_median = statistics.median(rows[0]["times"])
    width = max(len(text) for text in ["implementation", ceiling.label, *(r["name"] for r in rows)]) + 1
    speedup = f"vs {bench.impls[0].key}"
    header = (
        f"{'implementation':<{width}} {'status':<20} {'first call s':>12} "
        f"{'median s':>10} {'min s':>10} {'max s':>10} {bench.unit:>10} "
        f"{'roofline':>8} {speedup:>8} {'max rel err':>11}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        if "times" not in row:
            lines.append(f"{row['name']:<{width}} {row['status']}")
            continue
        median, rate, fraction, ratio = _stats(row, work, ceiling, ref_median)
        err = row.get("err")
        err_text = "reference" if err is None else f"{err:.1e}"
        lines.append(
            f"{row['name']:<{width}} {row['status']:<20} {row['first_s']:>12.4f} "
            f"{median:>10.4f} {min(row['times']):>10.4f} {max(row['times']):>10.4f} "
            f"{rate:>10.3e} {fraction:>8.3f} {ratio:>7.2f}x {err_text:>11}"
        )
    lines.append(
        f"{ceiling.label:<{width}} {'measured':<20} {'':>12} {'':>10} {'':>10} {'':>10} "
        f"{ceiling.rate:>10.3e} {1.0:>8.3f} {ceiling.rate * ref_median / work:>7.2f}x"
    )
    return "\n".join(lines)


def target_lines(bench, rows, work, ceiling):
    """PASS/MISS lines for the benchmark's targets.

    Parameters
    ----------
    bench, rows, work, ceiling
        As for :func:`format_table`.

    Returns
    -------
    list of str
        One line per target; an implementation without times misses.
    """
    keys = [impl.key for impl in bench.impls]
    lines = []
    for target in bench.targets:
        row = rows[keys.index(target.key)]
        base = rows[keys.index(target.vs or keys[0])]
        if target.metric == "roofline":
            goal, fmt = f"{target.threshold:.0%} of roofline", "{:.1%}"
        else:
            goal, fmt = f"{target.threshold:g}x {target.vs or keys[0]}", "{:.2f}x"
        head = f"target {row['name']} >= {goal}:"
        missing = next((r for r in (row, base) if "times" not in r), None)
        if missing is not None:
            which = "" if missing is row else f"{missing['name']}: "
            lines.append(f"{head} MISS ({which}{missing['status']})")
            continue
        _, _, fraction, speedup = _stats(row, work, ceiling, statistics.median(base["times"]))
        value = fraction if target.metric == "roofline" else speedup
        lines.append(f"{head} {fmt.format(value)} -> {'PASS' if value >= target.threshold else 'MISS'}")
    return lines


def report(bench, args, rows, mask, ceiling, isolated=True):
    """The full printed report: settings, roofline, agreement, table, targets.

    Parameters
    ----------
    bench : _harness.Benchmark
        The benchmark.
    args : argparse.Namespace
        Parsed command line.
    rows : list of dict
        Measured and checked rows, reference first.
    mask : ndarray of bool
        Points compared.
    ceiling : _harness.Ceiling
        Roofline.
    isolated : bool, optional
        Whether each implementation ran in its own process.

    Returns
    -------
    str
    """
    work = bench.work(args)
    where = "each implementation in a fresh process" if isolated else "all in one process"
    head = f"{bench.describe(args)}; median of {args.repeats} after one warm-up call, {where}"
    where = "every entry" if mask is None else f"{int(mask.sum())} of {mask.size} points"
    check = (
        f"agreement vs {bench.impls[0].key}: rtol {bench.rtol:.0e} (atol {bench.atol:.0e}) on "
        f"{', '.join(bench.outputs)} over {where}{bench.mask_text}"
    )
    table = format_table(bench, rows, work, ceiling)
    targets = target_lines(bench, rows, work, ceiling)
    return "\n".join([head, ceiling.text, check, "", table, "", *targets])

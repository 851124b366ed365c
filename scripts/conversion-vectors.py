#!/usr/bin/env python3
"""Test vectors for the conversion service's experiment statistics, from scipy.

    python3 -m pip install --quiet numpy scipy   # if missing
    python3 scripts/conversion-vectors.py > /tmp/vectors.swift

Prints Swift literals that Tests/ConversionTests/ExperimentStatisticsTests.swift
holds verbatim (between its `BEGIN/END generated` markers): each experiment's
inputs with scipy's lift, 95% CI, two-sided p, chance to win, SRM p-value and
the decision API.md's rules give; and the distribution functions at extreme
arguments. The formulas are API.md's ("## conversion", Experiments), written
here independently of the Swift code. When mpmath is installed, every
distribution value is also checked against it at 50 digits (warnings on
stderr), so a disagreement can be blamed on the right side.
"""
import math
import sys

from scipy import stats

ALPHA = 0.05
SRM_THRESHOLD = 0.001
MIN_USERS = 100
MIN_CONVERSIONS = 25


def cr(variant_id, weight, users, conversions):
    return dict(id=variant_id, weight=weight, users=users, conversions=conversions, revenue=0.0, ss=0.0)


def rev(variant_id, weight, users, conversions, mean, sd):
    """A revenue variant from its per-user mean and standard deviation."""
    revenue = users * mean
    ss = (users - 1) * sd * sd + users * mean * mean
    return dict(id=variant_id, weight=weight, users=users, conversions=conversions, revenue=revenue, ss=ss)


CASES = [
    ("49/100 vs 51/100 (API.md's chance to win)", "conversionRate", [cr("A", 1, 100, 49), cr("B", 1, 100, 51)]),
    ("clear winner", "conversionRate", [cr("A", 1, 10000, 1000), cr("B", 1, 10000, 1200)]),
    ("three variants, best lift wins", "conversionRate",
     [cr("A", 1, 10000, 1000), cr("B", 1, 10000, 1110), cr("C", 1, 10000, 1250)]),
    ("significant worse challenger: control wins", "conversionRate", [cr("A", 1, 10000, 1200), cr("B", 1, 10000, 1000)]),
    ("worse significant, better not significant: control wins", "conversionRate",
     [cr("A", 1, 10000, 1000), cr("B", 1, 10000, 850), cr("C", 1, 10000, 1040)]),
    ("sample ratio mismatch blocks a significant winner", "conversionRate",
     [cr("A", 1, 10000, 1000), cr("B", 1, 9000, 1300)]),
    ("split within chance passes SRM", "conversionRate", [cr("A", 1, 10000, 1000), cr("B", 1, 9800, 1200)]),
    ("unequal weights 20/80, matching split", "conversionRate", [cr("A", 0.2, 2000, 200), cr("B", 0.8, 8000, 960)]),
    ("unequal weights 20/80, even split is a mismatch", "conversionRate", [cr("A", 0.2, 5000, 500), cr("B", 0.8, 5000, 600)]),
    ("unnormalised weights 1:2:2", "conversionRate",
     [cr("A", 1, 2000, 300), cr("B", 2, 4000, 640), cr("C", 2, 3950, 600)]),
    ("99 users: below the minimum sample", "conversionRate", [cr("A", 1, 99, 30), cr("B", 1, 99, 70)]),
    ("24 conversions: below the minimum sample", "conversionRate", [cr("A", 1, 5000, 24), cr("B", 1, 5000, 90)]),
    ("control with no conversions: lift undefined", "conversionRate", [cr("A", 1, 1000, 0), cr("B", 1, 1000, 40)]),
    ("everyone converted: zero variance", "conversionRate", [cr("A", 1, 200, 200), cr("B", 1, 200, 200)]),
    ("challenger with no conversions: zero variance", "conversionRate", [cr("A", 1, 200, 30), cr("B", 1, 200, 0)]),
    ("one user in a variant", "conversionRate", [cr("A", 1, 1, 1), cr("B", 1, 300, 40)]),
    ("no users at all", "conversionRate", [cr("A", 1, 0, 0), cr("B", 1, 0, 0)]),
    ("small samples, few degrees of freedom", "conversionRate", [cr("A", 1, 10, 2), cr("B", 1, 10, 5)]),
    ("a million users, small lift", "conversionRate", [cr("A", 1, 1000000, 50000), cr("B", 1, 1000000, 50700)]),
    ("fifty million users (df near 1e8)", "conversionRate",
     [cr("A", 1, 50000000, 2500000), cr("B", 1, 50000000, 2503000)]),
    ("ten variants", "conversionRate",
     [cr(chr(65 + i), 1, 1000 + 7 * i, 100 + 3 * i * i) for i in range(10)]),
    ("revenue: clear winner", "revenue", [rev("A", 1, 1000, 300, 50, 80), rev("B", 1, 1000, 320, 60, 90)]),
    ("revenue: not significant", "revenue", [rev("A", 1, 1000, 300, 50, 80), rev("B", 1, 1000, 310, 52, 85)]),
    ("revenue: unequal variances and sizes", "revenue", [rev("A", 1, 400, 100, 20, 5), rev("B", 1, 450, 120, 21.5, 40)]),
    ("revenue: significant worse, control wins", "revenue", [rev("A", 1, 3000, 900, 30, 20), rev("B", 1, 3000, 880, 27, 22)]),
    ("revenue: control earned nothing", "revenue", [rev("A", 1, 500, 0, 0, 0), rev("B", 1, 500, 40, 3, 10)]),
    ("revenue: three users each (df about 3)", "revenue", [rev("A", 1, 3, 2, 10, 2), rev("B", 1, 3, 3, 14, 9)]),
]


def mean_and_variance(metric, v):
    n = v["users"]
    if metric == "conversionRate":
        m = v["conversions"] / n
        return m, m * (1 - m) / n
    m = v["revenue"] / n
    s2 = (v["ss"] - n * m * m) / (n - 1)
    return m, s2 / n


def compare(metric, c, t):
    if c["users"] < 2 or t["users"] < 2:
        return None, "users"
    mc, vc = mean_and_variance(metric, c)
    mt, vt = mean_and_variance(metric, t)
    if mc == 0:
        return None, "mean"
    lift = mt / mc - 1
    var = vt / mc**2 + mt**2 * vc / mc**4
    if not math.isfinite(var) or var <= 0:
        return None, "variance"
    df = (vt + vc) ** 2 / (vt**2 / (t["users"] - 1) + vc**2 / (c["users"] - 1))
    se = math.sqrt(var)
    z = lift / se
    half = stats.t.ppf(1 - ALPHA / 2, df) * se
    p = 2 * stats.t.sf(abs(z), df)
    chance = stats.norm.cdf(z)
    return dict(lift=lift, low=lift - half, high=lift + half, p=p, chance=chance, df=df), None


def srm(variants):
    total = sum(v["users"] for v in variants)
    if total == 0:
        return None
    wsum = sum(v["weight"] for v in variants)
    statistic = 0.0
    for v in variants:
        expected = total * v["weight"] / wsum
        statistic += (v["users"] - expected) ** 2 / expected
    return stats.chi2.sf(statistic, len(variants) - 1)


def decide(variants, comparisons, srm_p):
    if srm_p is not None and srm_p < SRM_THRESHOLD:
        return None, "sampleRatioMismatch"
    if any(v["users"] < MIN_USERS or v["conversions"] < MIN_CONVERSIONS for v in variants):
        return None, "insufficientSample"
    significant = [(v["id"], c) for v, c in zip(variants[1:], comparisons) if c is not None and c["p"] < ALPHA]
    if not significant:
        return None, "notSignificant"
    better = [(vid, c) for vid, c in significant if c["lift"] > 0]
    if better:
        best = max(better, key=lambda item: item[1]["lift"])  # first of equal lifts
        return best[0], "challengerWins"
    return variants[0]["id"], "controlWins"


def num(x):
    if x is None:
        return "nil"
    return repr(float(x))


def swift_variant(metric, v):
    if metric == "conversionRate":
        return f'cr("{v["id"]}", {num(v["weight"])}, {v["users"]}, {v["conversions"]})'
    return f'rev("{v["id"]}", {num(v["weight"])}, {v["users"]}, {v["conversions"]}, {num(v["revenue"])}, {num(v["ss"])})'


def statistics_vectors():
    lines = []
    for name, metric, variants in CASES:
        comparisons, reasons = [], []
        for t in variants[1:]:
            c, reason = compare(metric, variants[0], t)
            comparisons.append(c)
            reasons.append(reason)
        srm_p = srm(variants)
        winner, rule = decide(variants, comparisons, srm_p)
        swift_comparisons = []
        for c, reason in zip(comparisons, reasons):
            if c is None:
                swift_comparisons.append(f".undefined(.{reason})")
            else:
                swift_comparisons.append(
                    f".defined(lift: {num(c['lift'])}, low: {num(c['low'])}, high: {num(c['high'])}, "
                    f"p: {num(c['p'])}, chance: {num(c['chance'])}, df: {num(c['df'])})")
        lines.append("        StatisticsVector(")
        lines.append(f'            name: "{name}", metric: .{metric},')
        lines.append("            variants: [" + ", ".join(swift_variant(metric, v) for v in variants) + "],")
        lines.append("            comparisons: [")
        for sc in swift_comparisons:
            lines.append(f"                {sc},")
        lines.append("            ],")
        winner_text = "nil" if winner is None else f'"{winner}"'
        lines.append(f"            srm: {num(srm_p)}, winner: {winner_text}, rule: .{rule}),")
    return lines


DISTRIBUTION_CASES = (
    [("normalCDF", x, 0.0) for x in [-37.5, -20.0, -8.0, -1.0, 0.0, 1e-10, 3.0, 8.0]]
    + [("tCDF", t, df) for t, df in [
        (-1000.0, 0.1), (-40.0, 1.0), (-5.0, 2.5), (-1e-8, 3.0), (2.0, 30.0), (-10.0, 30.0), (-30.0, 10.0),
        (-300.0, 5.0), (0.5, 0.5), (-2.5, 1e4), (-6.0, 1e6), (-2.0, 1e9), (1.5, 5e9), (-3.0, 1e12), (-3.0, 1e15),
        (-1e5, 1.0), (-1e10, 2.0), (3.0, 1e-3), (-1.0, 1e-3), (-2.0, 7.3),
    ]]
    + [("tTwoSidedP", t, df) for t, df in [(1e-12, 5.0), (50.0, 3.0), (8.0, 200.0), (0.7, 1.0), (4.0, 1e7)]]
    + [("tQuantile", p, df) for p, df in [
        (0.975, 0.1), (0.975, 0.5), (0.975, 1.0), (0.975, 2.0), (0.975, 3.7), (0.975, 10.0), (0.975, 100.0),
        (0.975, 1e4), (0.975, 1e8), (0.975, 1e12), (1e-12, 3.0), (1e-10, 1e6), (0.5 + 1e-6, 7.0), (0.5 - 1e-9, 2.0),
        (0.999999, 1.0), (1e-300, 50.0), (0.025, 2.5), (0.9, 0.05),
    ]]
    + [("chiSquareSurvival", x, k) for x, k in [
        (1e-6, 1.0), (0.5, 1.0), (3.84, 1.0), (100.0, 1.0), (700.0, 1.0), (1e-3, 9.0), (20.0, 9.0), (200.0, 9.0),
        (50.0, 2.0), (9000.0, 1e4), (11000.0, 1e4), (1e6, 1e6), (1.002e6, 1e6), (5.0, 3.0), (0.1, 4.0),
    ]]
)


def distribution_value(kind, x, df):
    if kind == "normalCDF":
        return stats.norm.cdf(x)
    if kind == "tCDF":
        return stats.t.cdf(x, df)
    if kind == "tTwoSidedP":
        return 2 * stats.t.sf(abs(x), df)
    if kind == "tQuantile":
        return stats.t.ppf(x, df)
    return stats.chi2.sf(x, df)


def mpmath_check(kind, x, df, value):
    try:
        import mpmath
    except ImportError:
        return
    mpmath.mp.dps = 50
    x, df = mpmath.mpf(x), mpmath.mpf(df)

    def tcdf(t):
        # P(T ≤ t) = 1 − ½ I_{df/(df+t²)}(df/2, ½) for t ≥ 0.
        tail = mpmath.betainc(df / 2, mpmath.mpf(1) / 2, 0, df / (df + t * t), regularized=True) / 2
        return tail if t < 0 else 1 - tail

    if kind == "normalCDF":
        exact = mpmath.ncdf(x)
    elif kind == "tCDF":
        exact = tcdf(x)
    elif kind == "tTwoSidedP":
        exact = 2 * tcdf(-abs(x))
    elif kind == "tQuantile":
        exact = mpmath.findroot(lambda t: tcdf(t) - x, mpmath.mpf(value))
    else:
        exact = mpmath.gammainc(df / 2, x / 2, mpmath.inf, regularized=True)
    if exact != 0 and abs((mpmath.mpf(value) - exact) / exact) > 1e-11:
        print(f"warning: scipy {kind}({x}, {df}) = {value!r}, mpmath {mpmath.nstr(exact, 17)}", file=sys.stderr)


def distribution_vectors():
    lines = []
    for kind, x, df in DISTRIBUTION_CASES:
        value = distribution_value(kind, x, df)
        mpmath_check(kind, x, df, value)
        lines.append(f"        DistributionVector(.{kind}, {num(x)}, {num(df)}, {num(value)}),")
    return lines


def main():
    print("    // BEGIN generated by scripts/conversion-vectors.py")
    print("    static let statistics: [StatisticsVector] = [")
    print("\n".join(statistics_vectors()))
    print("    ]")
    print()
    print("    static let distributions: [DistributionVector] = [")
    print("\n".join(distribution_vectors()))
    print("    ]")
    print("    // END generated by scripts/conversion-vectors.py")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Compares `physgen measure --json` outputs of model samples with a reference ensemble.

Usage: diffusion_quality_compare.py REF.json LABEL=SAMPLES.json [LABEL=SAMPLES.json ...]

Prints, per ensemble, |m|, chi, Binder U4 and G(x) (x = 1..L/2): the relative deviation
(value / reference - 1) and the deviation in units of the combined statistical error (z).
The last column is the worst relative deviation over |m|, chi and G(x) (U4 separately:
it is small in the symmetric phase, where its relative error is large).
"""
import json
import math
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def obs(d, key):
    o = d["observables"][key]
    return o["mean"], o["error"]


def main():
    ref = load(sys.argv[1])
    names = ["abs_m", "chi", "binder"]
    L = ref["L"]
    xs = list(range(1, L // 2 + 1))
    head = "%-22s" % "samples" + "".join("%18s" % n for n in names) + "".join(
        "%18s" % ("G(%d)" % x) for x in xs) + "%12s" % "max|rel|"
    print(head)
    print("%-22s" % "reference" + "".join("%18s" % ("%.4g+-%.2g" % obs(ref, n)) for n in names) +
          "".join("%18s" % ("%.4g+-%.2g" % (ref["correlator"]["G"]["mean"][x],
                                           ref["correlator"]["G"]["error"][x])) for x in xs))
    for arg in sys.argv[2:]:
        label, path = arg.split("=", 1)
        d = load(path)
        cells, worst = [], 0.0
        pairs = [(obs(d, n), obs(ref, n), n) for n in names]
        pairs += [((d["correlator"]["G"]["mean"][x], d["correlator"]["G"]["error"][x]),
                   (ref["correlator"]["G"]["mean"][x], ref["correlator"]["G"]["error"][x]),
                   "G") for x in xs]
        for (v, e), (r, re), n in pairs:
            rel = v / r - 1.0
            z = (v - r) / math.hypot(e, re)
            if n != "binder":
                worst = max(worst, abs(rel))
            cells.append("%+7.1f%% (%+5.1f)" % (100 * rel, z))
        print("%-22s" % label + "".join("%18s" % c for c in cells) + "%11.1f%%" % (100 * worst))


if __name__ == "__main__":
    main()

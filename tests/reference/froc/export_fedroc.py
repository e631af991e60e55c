"""Convert the JAFROC 4.2.1 example "FedRoc" (Zanca et al. 2009 data, ROC ratings in JAFROC's
free-response layout) and its published weighted-JAFROC DBM output into test inputs.

    python export_fedroc.py <path to a checkout of github.com/dpc10ster/RJafroc>

Reads inst/JAFROC/FedRoc.xlsx (sheets TRUTH, TP, FP; parsed with the standard library) and
inst/JAFROC/FedRoc.txt (the output file of the Windows program JAFROC 4.2.1, an independent
implementation, FOM "ANALYSIS_METHOD_JAFROC_WEIGHTED", DBM-MRMC). Writes fedroc_marks.csv,
fedroc_truth.csv and fedroc_published.json (numbers parsed from the output file as printed).
"""

from __future__ import annotations

import csv
import json
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
HERE = Path(__file__).resolve().parent


def _sheets(path: Path) -> dict[str, list[list[str]]]:
    z = zipfile.ZipFile(path)
    shared = [("".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")))
              for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", NS)]
    names = [s.get("name") for s in ET.fromstring(z.read("xl/workbook.xml")).find("m:sheets", NS)]
    out = {}
    for i, name in enumerate(names, start=1):
        rows = []
        for row in ET.fromstring(z.read(f"xl/worksheets/sheet{i}.xml")).iter(f"{{{NS['m']}}}row"):
            vals = []
            for c in row.findall("m:c", NS):
                v = c.find("m:v", NS)
                text = "" if v is None else v.text or ""
                vals.append(shared[int(text)] if c.get("t") == "s" else text)
            rows.append(vals)
        out[str(name)] = rows
    return out


def _num(x: str) -> str:
    f = float(x)
    return str(int(f)) if f.is_integer() else repr(f)


def main(repo: str) -> None:
    base = Path(repo) / "inst" / "JAFROC"
    sh = _sheets(base / "FedRoc.xlsx")
    truth = sh["TRUTH"][1:]
    with open(HERE / "fedroc_truth.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["case", "lesion", "weight"])
        for case, lesion, weight, *_ in truth:
            lz = _num(lesion)
            w.writerow([_num(case), "" if lz == "0" else lz, "" if lz == "0" else weight])
    with open(HERE / "fedroc_marks.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["case", "reader", "modality", "lesion", "rating"])
        for reader, modality, case, lesion, rating, *_ in sh["TP"][1:]:
            w.writerow([_num(case), _num(reader), _num(modality), _num(lesion), _num(rating)])
        for reader, modality, case, rating, *_ in sh["FP"][1:]:
            w.writerow([_num(case), _num(reader), _num(modality), "", _num(rating)])
    text = (base / "FedRoc.txt").read_text(encoding="latin-1")
    est = text[text.index("*****                            Estimates"):]
    foms = {}
    for line in est.splitlines():
        parts = line.split()
        if len(parts) == 6 and all(re.fullmatch(r"\d+\.\d{8}", x) for x in parts[1:]):
            foms[parts[0]] = [float(x) for x in parts[1:]]
        if line.startswith(" TREATMENT MEANS"):
            break
    f_line = re.search(r"Treatment\s+4\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\n\s*Error\s+([\d.]+)",
                       text)
    comps = dict(re.findall(r"\n (Var\([^)]+\)(?: \+ Var\(Error\))?)\s+(-?[\d.]+)", text))
    orc = dict(re.findall(r"\n (Reader|Treatment\*Reader|COV1|COV2|COV3|ERROR)\s+(-?[\d.]+)",
                          text))
    out = {
        "source": "RJafroc inst/JAFROC/FedRoc.txt (JAFROC 4.2.1, weighted JAFROC, DBM-MRMC)",
        "reader_foms": foms,
        "rrrc": {"ms_treatment": float(f_line.group(1)), "F": float(f_line.group(2)),
                 "p": float(f_line.group(3)), "ddf": float(f_line.group(4))},
        "dbm_components": {k: float(v) for k, v in comps.items()},
        "or_components": {k: float(v) for k, v in orc.items()},
    }
    (HERE / "fedroc_published.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])

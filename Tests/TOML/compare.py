"""toml-test's comparison rules, for Tests/TOML/run.sh.

Values compare as strings except floats (by value; nan by text, its sign
ignored) and date/times (by the instant they name, after toml-test's
replacements of ' ', 't', 'z'; fractions to nanoseconds). toml-test 1.2's own
Go runner parses the expected date/time twice and so never compares them; this
one does.
"""
import json, os, re, subprocess, sys

decoder, suite, skipfile = sys.argv[1:4]
verbose = os.environ.get("TOML_TEST_VERBOSE") == "1"
skips = {}
for line in open(skipfile, encoding="utf-8"):
    line = line.strip()
    if line and not line.startswith("#"):
        name, _, reason = line.partition(" ")
        skips[name] = reason.strip()

DT = re.compile(r"^(?:(\d{4})-(\d{2})-(\d{2}))?(?:T?(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?$")

def instant(kind, text):
    t = text.replace(" ", "T").replace("t", "T").replace("z", "Z")
    m = DT.match(t)
    if not m:
        return ("bad", text)
    y, mo, d, h, mi, s, frac, off = m.groups()
    ns = int((frac or "0")[:9].ljust(9, "0"))
    parts = [int(x) if x else 0 for x in (y, mo, d, h, mi, s)]
    if kind == "datetime":
        if not off:
            return ("bad", text)
        minutes = 0 if off == "Z" else (1 if off[0] == "+" else -1) * (int(off[1:3]) * 60 + int(off[4:6]))
        import datetime
        base = datetime.datetime(parts[0], parts[1], parts[2], parts[3], parts[4], min(parts[5], 59))
        epoch = int((base - datetime.datetime(1970, 1, 1)).total_seconds()) - minutes * 60 + max(parts[5] - 59, 0)
        return (epoch, ns)
    return (tuple(parts), ns)

def same(want, have, path):
    if isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            return f"{path}: expected an array of {len(want)}, got {json.dumps(have)[:200]}"
        for i, (w, h) in enumerate(zip(want, have)):
            r = same(w, h, f"{path}[{i}]")
            if r: return r
        return None
    if not isinstance(have, dict):
        return f"{path}: expected {json.dumps(want)[:200]}, got {json.dumps(have)[:200]}"
    is_value = set(want.keys()) == {"type", "value"} and isinstance(want.get("type"), str)
    if is_value:
        if set(have.keys()) != {"type", "value"}:
            return f"{path}: expected a value, got {json.dumps(have)[:200]}"
        wt, ht, wv, hv = want["type"], have["type"], want["value"], have["value"]
        if wt != ht:
            return f"{path}: expected type {wt}, got {ht}"
        if wt == "float":
            if wv.endswith("nan") or hv.endswith("nan"):
                ok = wv.endswith("nan") and hv.endswith("nan")
            else:
                ok = float(wv) == float(hv)
        elif wt in ("datetime", "datetime-local", "date-local", "time-local"):
            ok = instant(wt, wv) == instant(wt, hv) and instant(wt, hv)[0] != "bad"
        else:
            ok = wv == hv
        return None if ok else f"{path}: expected {wt} {wv!r}, got {hv!r}"
    if set(want.keys()) != set(have.keys()):
        return f"{path}: keys differ: expected {sorted(want.keys())}, got {sorted(have.keys())}"
    for k in want:
        r = same(want[k], have[k], f"{path}.{k}" if path else k)
        if r: return r
    return None

def run(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        p = subprocess.run([decoder], input=data, capture_output=True, timeout=10)
    except subprocess.TimeoutExpired:
        return "hang", b"", b""
    return p.returncode, p.stdout, p.stderr

counts = {}
failures = []
skipped = []
for group in ("valid", "invalid"):
    passed = total = 0
    for root, _, files in os.walk(os.path.join(suite, group)):
        for name in sorted(files):
            if not name.endswith(".toml"):
                continue
            path = os.path.join(root, name)
            case = os.path.relpath(path, suite)[:-5]
            if case in skips:
                skipped.append(f"{case}: {skips[case]}")
                continue
            total += 1
            rc, out, err = run(path)
            if group == "valid":
                if rc != 0:
                    failures.append(f"{case}: rejected (exit {rc}): {err.decode(errors='replace').strip()[:300]}")
                    continue
                with open(path[:-5] + ".json", encoding="utf-8") as f:
                    want = json.load(f)
                try:
                    have = json.loads(out)
                except ValueError as e:
                    failures.append(f"{case}: output is not JSON: {e}")
                    continue
                why = same(want, have, "")
                if why:
                    failures.append(f"{case}: {why}")
                    continue
            else:
                if rc != 1:
                    what = "accepted" if rc == 0 else f"exit {rc} (crash or hang, not an error)"
                    failures.append(f"{case}: {what}" + (f": {out.decode(errors='replace')[:200]}" if rc == 0 and verbose else ""))
                    continue
            passed += 1
    counts[group] = (passed, total)

for f in failures:
    print("FAIL " + f)
for s in skipped:
    print("skip " + s)
v, i = counts["valid"], counts["invalid"]
print(f"toml-test: valid {v[0]}/{v[1]} decoded correctly, invalid {i[0]}/{i[1]} rejected, {len(skipped)} skipped")
sys.exit(1 if failures else 0)

#!/usr/bin/env python3
"""Man page and generated-config tests.

  test_man.py uptodate GEN_MAN GEN_ICINGA2 DATE
      regenerate man/*.1 and packaging/icinga2/mailprobe-commands.conf from the option
      tables into a temp dir; fail when the committed files differ
  test_man.py lint
      mandoc -Tlint -W all and groff -ww on every page: no message at all
  test_man.py help
      every option of every built plugin's --help (names, value, help text, default)
      is in its man page and vice versa; every perfdata label the code emits and the
      README lists is documented
"""

from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pkgtest as t  # noqa: E402


def uptodate(gen_man: str, gen_icinga2: str, date: str) -> None:
    src = t.source_dir()
    stale = []
    with t.temp_dir("mp-man-") as tmp:
        t.run([gen_man, "--templates", src / "man" / "src", "--out", tmp, "--date", date])
        t.run([gen_icinga2, "--out", tmp / "mailprobe-commands.conf"])
        pairs = [(src / "man" / f"{p}.1", tmp / f"{p}.1") for p in t.PLUGINS]
        pairs.append((src / "packaging" / "icinga2" / "mailprobe-commands.conf",
                      tmp / "mailprobe-commands.conf"))
        for committed, fresh in pairs:
            old = committed.read_text() if committed.exists() else ""
            new = fresh.read_text()
            if old != new:
                stale.append(committed)
                sys.stdout.writelines(difflib.unified_diff(
                    old.splitlines(True), new.splitlines(True), str(committed), "regenerated"))
    if stale:
        t.fail("out of date (options or templates changed): "
               + ", ".join(str(s) for s in stale)
               + "\nrun: cmake --build BUILD --target regenerate   and commit the result")
    t.log(f"OK: {len(t.PLUGINS)} man pages and the Icinga 2 commands match the option tables")


def lint() -> None:
    mandoc = t.ensure_tool("mandoc", "mandoc")
    groff = t.ensure_tool("groff", "groff-base")
    pages = [t.source_dir() / "man" / f"{p}.1" for p in t.PLUGINS]
    p = t.run([mandoc, "-Tlint", "-W", "all", *pages], check_rc=False)
    if p.returncode != 0 or p.stdout.strip() or p.stderr.strip():
        t.fail(f"mandoc -Tlint -W all reported (exit {p.returncode}):\n{p.stdout}{p.stderr}")
    for page in pages:
        g = t.run([groff, "-man", "-ww", "-z", "-t", page], check_rc=False)
        if g.returncode != 0 or g.stderr.strip():
            t.fail(f"groff -ww on {page}:\n{g.stderr}")
    t.log(f"OK: mandoc -Tlint -W all and groff -ww are silent on {len(pages)} pages")


# ---------------------------------------------------------------- help <-> man agreement

def roff_to_text(roff: str) -> str:
    text = re.sub(r"\\f[BIRP]", "", roff)
    text = text.replace("\\-", "-").replace("\\e", "\\").replace("\\&", "")
    text = text.replace("\\(lq", '"').replace("\\(rq", '"').replace("\\(em", "--")
    return text


def man_options(page: Path) -> tuple[dict[str, str], str]:
    """long name -> plain text of the option's entry (heading + body) in OPTIONS; and the
    plain text of the whole page."""
    roff = page.read_text()
    m = re.search(r"^\.SH OPTIONS\n(.*?)^\.SH ", roff, re.S | re.M)
    t.check(m is not None, f"{page}: no OPTIONS section")
    entries: dict[str, str] = {}
    for block in m.group(1).split("\n.TP\n")[1:]:
        lines = [l for l in block.splitlines() if not l.startswith(".SS")]
        heading = roff_to_text(lines[0])
        body = roff_to_text(" ".join(lines[1:]))
        name = re.search(r"--([a-z0-9-]+)", heading)
        t.check(name is not None, f"{page}: option heading without a long name: {lines[0]}")
        entries[name.group(1)] = heading + "\n" + " ".join(body.split())
    return entries, roff_to_text(roff)


def help_options(program: str) -> dict[str, dict]:
    """long name -> {short, value, text}: the options of PROGRAM --help, the (wrapped)
    help text joined into one line."""
    p = t.run([t.bin_dir() / program, "--help"], check_rc=False, quiet=True)
    t.check(p.returncode == 3, f"{program} --help exited {p.returncode}, expected 3 (UNKNOWN)")
    opts: dict[str, dict] = {}
    current = None
    for line in p.stdout.splitlines():
        m = re.match(r"^  (?:-(\w), |    )--([a-z0-9-]+)((?:, --[a-z0-9-]+)*)(?: (\S+))?$", line)
        if m:
            current = {"short": m.group(1), "aliases": m.group(3), "value": m.group(4), "text": ""}
            opts[m.group(2)] = current
        elif current is not None and line.startswith("      ") and line.strip():
            current["text"] = (current["text"] + " " + line.strip()).strip()
        else:
            current = None
    t.check(len(opts) >= 10, f"{program} --help: only {len(opts)} options parsed:\n{p.stdout}")
    return opts


def help_text_from_man(body: str) -> set[str]:
    """The --help texts a man page option body can come from (gen_man appends '.' to help
    without one, then 'Default: X.' and 'Repeatable.')."""
    m = re.fullmatch(r"(.*?)(?: Default: (.*)\.)?( Repeatable\.)?", body, re.S)
    help_text, default, repeatable = m.group(1), m.group(2), m.group(3)
    suffix = (f" (default: {default})" if default else "") + (" (repeatable)" if repeatable else "")
    candidates = {help_text + suffix}
    if help_text.endswith("."):
        candidates.add(help_text[:-1] + suffix)
    return candidates


def perf_labels_in_code() -> set[str]:
    labels = set()
    for src in (t.source_dir() / "common" / "checks").glob("*.cpp"):
        text = src.read_text()
        # whole literal labels only ("auth_" + method is documented by its expansions)
        labels |= set(re.findall(r'_datum\(\s*"([a-z0-9_]+)"\s*[,)]', text))
        labels |= set(re.findall(r'certificate_result\(\s*"([a-z0-9_]+)"', text))
        labels |= set(re.findall(r'\.label\s*=\s*"([a-z0-9_]+)"', text))
    return labels


def perf_labels_in_readme() -> set[str]:
    readme = (t.source_dir() / "README.md").read_text()
    m = re.search(r"## Performance data\n(.*?)\n## ", readme, re.S)
    t.check(m is not None, "README.md has no 'Performance data' section")
    labels = set()
    for row in m.group(1).splitlines():
        if row.startswith("| `"):
            labels |= set(re.findall(r"`([a-zA-Z0-9_]+)`", row.split("|")[1]))
    return labels


def help_agreement() -> None:
    problems = []
    documented: set[str] = set()
    for program in t.PLUGINS:
        page = t.source_dir() / "man" / f"{program}.1"
        entries, plain = man_options(page)
        opts = help_options(program)
        for name, o in opts.items():
            entry = entries.get(name)
            if entry is None:
                problems.append(f"{program}: --{name} is in --help but not in {page.name}")
                continue
            heading, body = entry.split("\n", 1)
            expect_heading = (f"-{o['short']}, " if o["short"] else "") + f"--{name}" + o["aliases"]
            if o["value"]:
                expect_heading += " " + o["value"]
            if heading.strip() != expect_heading:
                problems.append(f"{program}: heading '{heading}' != --help '{expect_heading}'")
            if o["text"] not in help_text_from_man(body):
                problems.append(f"{program}: --{name}: text differs:\n  --help: {o['text']}\n"
                                f"  man:    {body}")
        for name in entries:
            if name not in opts:
                problems.append(f"{program}: --{name} is in {page.name} but not in --help")
        m = re.search(r"^\.SH \"PERFORMANCE DATA\"\n(.*?)^\.SH ", page.read_text(), re.S | re.M)
        t.check(m is not None, f"{page}: no PERFORMANCE DATA section")
        documented |= set(re.findall(r"^\.BI? ([a-z0-9_]+)", m.group(1), re.M))
        documented |= {w for line in re.findall(r"^\.BR (.*)$", m.group(1), re.M)
                       for w in re.findall(r"([a-z0-9_]+)", line)}
        if re.search(r"^\.BI hop N _delay", m.group(1), re.M):
            documented.add("hopN_delay")
        for var in ("MAILPROBE_STATE_DIR",):
            if var not in plain:
                problems.append(f"{page.name}: ENVIRONMENT lacks {var}")
        if "/var/lib/mailprobe/USER/probe.key" not in plain:
            problems.append(f"{page.name}: FILES lacks /var/lib/mailprobe/USER/probe.key")
    code = perf_labels_in_code()
    readme = perf_labels_in_readme()
    t.check(len(code) >= 10, f"found only {sorted(code)} perfdata labels in common/checks")
    for label in sorted(code - documented):
        problems.append(f"perfdata label '{label}' (common/checks) is in no man page")
    for label in sorted(readme - documented):
        problems.append(f"perfdata label '{label}' (README.md) is in no man page")
    if problems:
        t.fail("help and man pages disagree:\n" + "\n".join(problems))
    t.log(f"OK: --help of {len(t.PLUGINS)} plugins and their man pages agree; "
          f"{len(code | readme)} perfdata labels documented")


def main() -> None:
    if len(sys.argv) < 2:
        t.fail(__doc__)
    cmd = sys.argv[1]
    if cmd == "uptodate" and len(sys.argv) == 5:
        uptodate(*sys.argv[2:5])
    elif cmd == "lint":
        lint()
    elif cmd == "help":
        help_agreement()
    else:
        t.fail(__doc__)


if __name__ == "__main__":
    main()

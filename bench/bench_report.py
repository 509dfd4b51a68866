"""bench: the per-check cost table and the report."""

import datetime
import os
import platform
import subprocess
import time

from bench_runs import REPO
from bench_stats import mb, ms, spread


class ReportSections:
    # ---------------------------------------------------------------- cost per check
    def cost_table(self):
        out = ["## 7. Cost per check at -v 0", "",
               "CPU (user+sys) and peak RSS per run, from the runs above (all at the default verbosity).", "",
               "| plugin | runs | CPU ms median (min–max) | peak RSS MB median (min–max) |", "|---|---|---|---|"]
        for label, runs in self.costs.items():
            out.append(f"| {label} | {len(runs)} | {spread([r.cpu for r in runs], ms)} | "
                       f"{spread([r.rss_kb for r in runs], mb)} |")
        self.sections.append("\n".join(out))

    # ---------------------------------------------------------------- report
    def header(self):
        def ver(cmd):
            try:
                return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                      timeout=10).stdout.strip().splitlines()[0]
            except Exception:  # noqa: BLE001 - informational only
                return "?"
        pk = ver(["dpkg-query", "-W", "-f", "${Version}", "monitoring-plugins-contrib"])
        ps = ver(["dpkg-query", "-W", "-f", "${Version}", "monitoring-plugins-standard"])
        pf = ver(["dpkg-query", "-W", "-f", "${Version}", "postfix"])
        dv = ver(["dpkg-query", "-W", "-f", "${Version}", "dovecot-core"])
        rev = ver(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
        build = "?"
        try:
            with open(os.path.join(os.path.dirname(self.bin_dir), "CMakeCache.txt")) as f:
                build = next((ln.split("=", 1)[1].strip() for ln in f if ln.startswith("CMAKE_BUILD_TYPE:")), "?")
        except OSError:
            pass
        cpu = "?"
        try:
            with open("/proc/cpuinfo") as f:
                cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?")
        except OSError:
            pass
        mode = "quick" if self.quick else "full"
        return "\n".join([
            f"# mailprobe benchmark ({mode} mode)", "",
            f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; "
            f"{os.cpu_count()} CPUs ({cpu}), load average {os.getloadavg()[0]:.2f} at start "
            f"(shared machine: the ratios, from alternating runs, are the figures that count); "
            f"Linux {platform.release()}; Postfix {pf}, Dovecot {dv} on 127.0.0.1, plain text (no TLS).",
            f"Ours: {self.bin_dir} ({build} build; source tree at {rev}); peers: monitoring-plugins-contrib {pk}, "
            f"monitoring-plugins-standard {ps}.",
            f"{self.runs} run(s) per plugin after one unrecorded warm-up round, alternating; "
            "figures are median (min–max); "
            "wall = spawn to exit, CPU = user+sys of the plugin and its child processes, "
            "peak RSS = largest resident set among them.",
        ])

    def report(self, started):
        parts = [self.header(), *self.sections]
        if self.targets:
            t = ["## Targets", "", "| target | figure | met |", "|---|---|---|"]
            for name, fig, met in self.targets:
                if isinstance(met, bool):
                    met = "yes" if met else "**no**"
                t.append(f"| {name} | {fig} | {met} |")
            parts.append("\n".join(t))
        tail = f"Bench run took {time.monotonic() - started:.0f} s. "
        tail += ("All plugin results were correct." if not self.failures else
                 f"**{len(self.failures)} wrong result(s):**\n\n" + "\n".join(f"- {f}" for f in self.failures))
        parts.append(tail)
        return "\n\n".join(parts) + "\n"

#!/usr/bin/env python3
"""Runs the SwiftVMX benchmark suite (called by scripts/bench, which builds and installs what it needs).

Measures, each figure beside its reference from the same run:
  1. Linux boot to power-off: SwiftVMX vs QEMU TCG (same kernel, initramfs, command line, memory).
  2. Guest MIPS on fixed workloads: one guest image (swiftvmx-dev bench image) run unchanged by SwiftVMX
     (multiboot kernel, VMX non-root), QEMU TCG (the same multiboot kernel) and Bochs (the same kernel
     bytes behind a boot sector on a disk image).
  3. VM exit + entry round trip and I/O exit round trip on SwiftVMX, and the same loops on /dev/kvm.
  4. Memory of the VMM beyond guest RAM while booting Linux (smaps samples), and peak RSS.
Prints a table and writes a JSON file. Standard library only.
"""
import argparse
import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

POWEROFF_MARKER = "SWIFTVMX-GUEST-POWEROFF"


def note(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------
# Helpers


def summary(values):
    """min/median/max of a list (None when empty)."""
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "n": len(values)}


class Result:
    """One process run: exit status (or 'timeout'), wall and CPU seconds, and for runs whose output was read
    through a pipe, the bytes with their arrival times."""

    def __init__(self, rc, wall, cpu, data=b"", arrivals=None):
        self.rc, self.wall, self.cpu, self.data, self.arrivals = rc, wall, cpu, data, arrivals or []
        self.memory = None

    def arrival(self, offset):
        """perf_counter time at which byte `offset` of the piped output arrived."""
        for end, t in self.arrivals:
            if offset < end:
                return t
        return None


class MemorySampler(threading.Thread):
    """Samples /proc/PID/smaps of the process that `/usr/bin/time` (PID `parent`) runs, every `interval`
    seconds: resident memory in the guest-RAM mapping (the mapping of `guest_bytes`, up to 4 MiB more) and
    everywhere else. The VMM's memory beyond guest RAM is the largest "everywhere else" seen."""

    def __init__(self, parent, guest_bytes, interval=0.25):
        super().__init__(daemon=True)
        self.parent, self.guest_kib, self.interval = parent, guest_bytes // 1024, interval
        self.stop = threading.Event()
        self.max_other_kib = None
        self.max_other_anon_kib = None
        self.max_total_kib = None
        self.guest_kib_at_end = None
        self.samples = 0

    def child(self):
        try:
            for tid in os.listdir(f"/proc/{self.parent}/task"):
                kids = read_text(f"/proc/{self.parent}/task/{tid}/children").split()
                if kids:
                    return int(kids[0])
        except OSError:
            pass
        return None

    def sample(self, pid):
        total = guest = anon = 0
        size = 0
        in_guest = False
        try:
            with open(f"/proc/{pid}/smaps") as f:
                for line in f:
                    if line.startswith("Size:"):
                        size = int(line.split()[1])
                        # The guest-RAM mapping: the RAM size, or a little more (QEMU aligns its RAM block;
                        # QEMU's 1 GiB TCG code buffer is not guest RAM).
                        in_guest = self.guest_kib <= size <= self.guest_kib + 4096
                    elif line.startswith("Rss:"):
                        rss = int(line.split()[1])
                        total += rss
                        if in_guest:
                            guest += rss
                    elif line.startswith("Anonymous:") and not in_guest:
                        anon += int(line.split()[1])
        except (OSError, ValueError):
            return
        if total == 0:
            return
        self.samples += 1
        other = total - guest
        self.max_other_kib = max(self.max_other_kib or 0, other)
        self.max_other_anon_kib = max(self.max_other_anon_kib or 0, anon)
        self.max_total_kib = max(self.max_total_kib or 0, total)
        self.guest_kib_at_end = guest

    def run(self):
        pid = None
        while not self.stop.is_set():
            pid = pid or self.child()
            if pid:
                self.sample(pid)
            self.stop.wait(self.interval)


def run_timed(cmd, *, stdout_path, timeout, pipe=False, sampler=None):
    """Runs cmd with stdin from /dev/null; stdout and stderr go to a file, or with `pipe` through a pipe
    read here, each chunk timestamped as it arrives (and then written to the file).

    CPU time is user + system time of the process and the children it waited for (wait4): the figure
    that other load on a shared machine disturbs least."""
    with open(stdout_path, "wb") as out, open(os.devnull, "rb") as devnull:
        start = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=devnull, stdout=subprocess.PIPE if pipe else out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        timed_out = threading.Event()
        def kill():
            timed_out.set()
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        timer = threading.Timer(timeout, kill)
        timer.start()
        monitor = sampler(p.pid) if sampler else None
        if monitor:
            monitor.start()
        data, arrivals = bytearray(), []
        try:
            if pipe:
                fd = p.stdout.fileno()
                while True:
                    chunk = os.read(fd, 65536)
                    now = time.perf_counter()
                    if not chunk:
                        break
                    data += chunk
                    arrivals.append((len(data), now))
                p.stdout.close()
                out.write(data)
            _, status, usage = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
            if monitor:
                monitor.stop.set()
                monitor.join()
        wall = time.perf_counter() - start
        p.returncode = os.waitstatus_to_exitcode(status)
        rc = "timeout" if timed_out.is_set() else p.returncode
        result = Result(rc, wall, usage.ru_utime + usage.ru_stime, bytes(data), arrivals)
        result.memory = monitor
        return result


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def max_rss_kib(time_output_path):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", read_text(time_output_path))
    return int(m.group(1)) if m else None


def machine_info():
    cpu = "unknown"
    for line in read_text("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    def version(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
            return out.splitlines()[0] if out else "unknown"
        except (OSError, subprocess.TimeoutExpired):
            return "unknown"
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "memory_mib": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1 << 20),
        "load_average_at_start": os.getloadavg()[0],
        "qemu": version(["qemu-system-x86_64", "--version"]),
        "bochs": version(["dpkg-query", "-W", "-f", "bochs ${Version}", "bochs"]),
        "swift": version(["swift", "--version"]),
    }


def fmt(x, digits=1):
    return "-" if x is None else f"{x:.{digits}f}"


def fmt_summary(s, digits=1, unit=""):
    if not s:
        return "-"
    return f"{fmt(s['min'], digits)} / {fmt(s['median'], digits)} / {fmt(s['max'], digits)}{unit}"


# ---------------------------------------------------------------------------------------------------------
# 1. Linux boot


def linux_boot(args, workdir):
    kernel = os.path.join(args.guests, "vmlinuz")
    initrd = os.path.join(args.guests, "initramfs.cpio.gz")
    append = "console=ttyS0"
    memory = 512
    cmds = {
        "swiftvmx": [args.swiftvmx, "run", "--engine", args.engine, "--kernel", kernel, "--initrd", initrd, "--append", append,
                     "--memory", str(memory)],
        "qemu": ["qemu-system-x86_64", "-accel", "tcg", "-m", str(memory), "-nographic", "-no-reboot",
                 "-kernel", kernel, "-initrd", initrd, "-append", append],
    }
    runs = {"swiftvmx": args.swiftvmx_linux_runs, "qemu": args.linux_runs}
    results = {}
    for name in ("qemu", "swiftvmx"):
        entries = []
        for r in range(runs[name]):
            log = os.path.join(workdir, f"linux-{name}-{r + 1}.log")
            tfile = os.path.join(workdir, f"linux-{name}-{r + 1}.time")
            note(f"Linux boot: {name} run {r + 1}/{runs[name]} (timeout {args.linux_timeout} s)")
            res = run_timed(["/usr/bin/time", "-v", "-o", tfile] + cmds[name], stdout_path=log,
                            timeout=args.linux_timeout,
                            sampler=lambda pid: MemorySampler(pid, memory << 20))
            rc, secs, cpu = res.rc, res.wall, res.cpu
            mem = res.memory
            text = read_text(log)
            if rc == "timeout":
                status = f"timeout after {args.linux_timeout} s"
            elif rc == 0 and POWEROFF_MARKER in text:
                status = "ok"
            elif POWEROFF_MARKER in text:
                status = f"exit {rc} after {POWEROFF_MARKER}"
            else:
                last = [l for l in text.strip().splitlines() if l.strip()][-1:] or [""]
                status = f"exit {rc}: {last[0].strip()[:100]}"
            rss = max_rss_kib(tfile) if rc != "timeout" else None
            other = mem.max_other_kib / 1024 if mem and mem.max_other_kib is not None else None
            other_anon = mem.max_other_anon_kib / 1024 if mem and mem.max_other_anon_kib is not None else None
            entries.append({"run": r + 1, "seconds": secs, "cpu_seconds": cpu, "status": status, "exit": rc,
                            "max_rss_kib": rss, "beyond_guest_ram_mib": other,
                            "anonymous_beyond_guest_ram_mib": other_anon, "memory_samples": mem.samples if mem else 0,
                            "guest_ram_resident_mib_at_end": mem.guest_kib_at_end / 1024 if mem and mem.guest_kib_at_end else None,
                            "log": log})
            note(f"  {status}, {secs:.2f} s" + (f", peak RSS {rss / 1024:.1f} MiB" if rss else "")
                 + (f", beyond guest RAM {other:.1f} MiB" if other is not None else ""))
        ok = [e["seconds"] for e in entries if e["status"] == "ok"]
        ok_cpu = [e["cpu_seconds"] for e in entries if e["status"] == "ok"]
        rss_ok = [e["max_rss_kib"] / 1024 for e in entries if e["max_rss_kib"]]
        beyond = [e["beyond_guest_ram_mib"] for e in entries if e["beyond_guest_ram_mib"] is not None]
        anon = [e["anonymous_beyond_guest_ram_mib"] for e in entries if e["anonymous_beyond_guest_ram_mib"] is not None]
        results[name] = {"runs": entries, "seconds": summary(ok), "cpu_seconds": summary(ok_cpu),
                         "peak_rss_mib": summary(rss_ok), "beyond_guest_ram_mib": summary(beyond),
                         "anonymous_beyond_guest_ram_mib": summary(anon)}
    s, q = results["swiftvmx"]["seconds"], results["qemu"]["seconds"]
    ratio = s["median"] / q["median"] if s and q else None
    rss = results["swiftvmx"]["peak_rss_mib"]
    literal = {k: v - memory for k, v in rss.items() if k != "n"} if rss else None
    return {"kernel": kernel, "initrd": initrd, "append": append, "memory_mib": memory,
            "swiftvmx": results["swiftvmx"], "qemu": results["qemu"], "ratio_median": ratio,
            "swiftvmx_peak_rss_minus_guest_ram_mib": literal}


# ---------------------------------------------------------------------------------------------------------
# 2. Guest MIPS


class Image:
    def __init__(self, args, workdir):
        self.dir = os.path.join(workdir, "image")
        subprocess.run([args.swiftvmx_dev, "bench", "image", "--output", self.dir], check=True,
                       stdout=subprocess.DEVNULL)
        with open(os.path.join(self.dir, "manifest.json")) as f:
            self.manifest = json.load(f)
        with open(os.path.join(self.dir, self.manifest["kernel"]), "rb") as f:
            self.kernel = f.read()
        with open(os.path.join(self.dir, self.manifest["disk"]), "rb") as f:
            self.disk = f.read()
        self.workloads = {w["name"]: w for w in self.manifest["workloads"]}

    def patched(self, data, base, number, units):
        m = self.manifest
        b = bytearray(data)
        b[base + m["workloadOffset"]:base + m["workloadOffset"] + 4] = number.to_bytes(4, "little")
        b[base + m["unitsOffset"]:base + m["unitsOffset"] + 4] = units.to_bytes(4, "little")
        return bytes(b)

    def write_kernel(self, path, number, units):
        with open(path, "wb") as f:
            f.write(self.patched(self.kernel, 0, number, units))

    def write_disk(self, path, number, units):
        with open(path, "wb") as f:
            f.write(self.patched(self.disk, self.manifest["diskKernelOffset"], number, units))


BOCHSRC = """megs: {ram}
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=disk, path={disk}, mode=flat, cylinders={c}, heads={h}, spt={s}
boot: disk
display_library: rfb, options="timeout=0"
log: {log}
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
port_e9_hack: enabled=1
mouse: enabled=0
cpu: model=corei7_skylake_x, count=1
clock: sync=none
"""


class ImageRun:
    """One run of the benchmark image: status, wall and CPU seconds of the process, the console text, and
    the workload's own time between the guest's markers (None when not measurable)."""

    def __init__(self, status, wall, cpu, text, marker_seconds):
        self.status, self.wall, self.cpu, self.text, self.marker_seconds = status, wall, cpu, text, marker_seconds


def marker_offsets(text):
    """Offsets in the console of the last byte of the "bench: start <name>" line (its newline) and of the
    first byte of "bench: end": the workload runs between the guest's writes of these two bytes."""
    a = text.find("bench: start ")
    b = text.find("bench: end ")
    if a < 0 or b < 0:
        return None
    nl = text.find("\n", a)
    return (nl, b) if 0 <= nl < b else None


def swiftvmx_marker_seconds(trace_path, text):
    """The workload time from `swiftvmx run --trace exits=FILE`: every byte the guest writes to port 0xE9
    is an I/O exit whose host time the trace records (the debug console file itself is written in blocks)."""
    offs = marker_offsets(text)
    if not offs:
        return None
    times = []
    for line in read_text(trace_path).splitlines():
        if '"ioInstruction"' not in line:
            continue
        try:
            e = json.loads(line)
        except ValueError:
            continue
        q = e["qualification"]
        if q >> 16 == 0xE9 and q & 8 == 0:     # OUT to port 0xE9 (exit qualification, SDM Vol. 3C Table 28-5)
            times.append(e["host_ns"])
    if len(times) != len(text.encode()):
        return None
    return (times[offs[1]] - times[offs[0]]) / 1e9


def piped_marker_seconds(result):
    """The workload time from the arrival times of the marker bytes on the emulator's output pipe."""
    text = result.data.decode("utf-8", "replace")
    offs = marker_offsets(text)
    if not offs or len(text) != len(result.data):
        return None
    t0, t1 = result.arrival(offs[0]), result.arrival(offs[1])
    return t1 - t0 if t0 is not None and t1 is not None else None


def run_image(emulator, image, number, units, workdir, tag, timeout, trace=True):
    """Runs the image with workload `number` × `units` on one emulator; returns an ImageRun. `trace`
    (SwiftVMX) records the exit trace that times the markers: off for the I/O loop, whose every OUT exits."""
    m = image.manifest
    out = os.path.join(workdir, f"{tag}.out")
    if emulator == "swiftvmx":
        kernel = os.path.join(workdir, f"{tag}.kernel")
        console = os.path.join(workdir, f"{tag}.console")
        trace_file = os.path.join(workdir, f"{tag}.trace")
        image.write_kernel(kernel, number, units)
        cmd = [ARGS.swiftvmx, "run", "--engine", ARGS.engine, "--kernel", kernel, "--memory", str(m["ramMiB"]), "--debugcon", console]
        if trace:
            cmd += ["--trace", f"exits={trace_file}"]
        res = run_timed(cmd, stdout_path=out, timeout=timeout)
        text = read_text(console)
        marker = swiftvmx_marker_seconds(trace_file, text) if trace else None
        for f in (kernel, trace_file):
            if os.path.exists(f):
                os.remove(f)
        expected = m["exitStatus"]
    elif emulator == "qemu":
        kernel = os.path.join(workdir, f"{tag}.kernel")
        image.write_kernel(kernel, number, units)
        cmd = ["qemu-system-x86_64", "-accel", "tcg", "-m", str(m["ramMiB"]), "-display", "none", "-serial", "none",
               "-monitor", "none", "-no-reboot", "-kernel", kernel, "-debugcon", "stdio",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
        res = run_timed(cmd, stdout_path=out, timeout=timeout, pipe=True)
        text = res.data.decode("utf-8", "replace")
        marker = piped_marker_seconds(res)
        os.remove(kernel)
        expected = m["exitStatus"]
    else:  # bochs: the debugger build needs a "continue" command; port 0xE9 goes to stdout, flushed per byte.
        disk = os.path.join(workdir, f"{tag}.img")
        image.write_disk(disk, number, units)
        rc_file = os.path.join(workdir, "bochs-continue.rc")
        with open(rc_file, "w") as f:
            f.write("continue\n")
        conf = os.path.join(workdir, f"{tag}.bochsrc")
        with open(conf, "w") as f:
            f.write(BOCHSRC.format(ram=m["ramMiB"], disk=disk, c=m["diskCylinders"], h=m["diskHeads"],
                                   s=m["diskSectorsPerTrack"], log=os.path.join(workdir, f"{tag}.bochs.log")))
        res = run_timed(["bochs", "-q", "-unlock", "-f", conf, "-rc", rc_file], stdout_path=out, timeout=timeout,
                        pipe=True)
        text = res.data.decode("utf-8", "replace")
        marker = piped_marker_seconds(res)
        os.remove(disk)
        expected = None  # Bochs ends through its shutdown port (a fatal "panic", exit status 1)
    if res.rc == "timeout":
        status = f"timeout after {timeout} s"
    elif "bench: exit" not in text:
        status = f"exit {res.rc} without 'bench: exit'"
    elif expected is not None and res.rc != expected:
        status = f"exit {res.rc} (expected {expected})"
    else:
        status = "ok"
    return ImageRun(status, res.wall, res.cpu, text, marker)


def checksum(text):
    m = re.search(r"bench: end \S+ checksum=([0-9a-f]{16})", text)
    return m.group(1) if m else None


def mips_suite(args, image, workdir):
    emulators = ["swiftvmx", "bochs", "qemu"]
    names = [n for n, w in image.workloads.items() if w["isMIPS"]]
    def units_for(emulator, w):
        scale = args.unit_scale * (args.qemu_scale if emulator == "qemu" else 1)
        return max(1, round(w["defaultUnits"] * scale))
    runs = {e: {n: [] for n in ["baseline"] + names} for e in emulators}
    statuses = {e: {} for e in emulators}
    checksums = {e: {} for e in emulators}
    timeout = args.image_timeout
    # Rounds interleave the emulators so that a slow phase of a shared machine hits all of them.
    for r in range(args.runs):
        for e in emulators:
            note(f"MIPS: round {r + 1}/{args.runs}, {e}")
            for n in ["baseline"] + names:
                number = 0 if n == "baseline" else image.workloads[n]["number"]
                units = 0 if n == "baseline" else units_for(e, image.workloads[n])
                run = run_image(e, image, number, units, workdir, f"mips-{e}-{n}-{r + 1}", timeout)
                if run.status == "ok":
                    runs[e][n].append(run)
                    if n != "baseline":
                        checksums[e].setdefault(n, checksum(run.text))
                else:
                    statuses[e][n] = run.status
                    note(f"  {n}: {run.status}")
    # QEMU runs scaled units: check its results once at the units the others ran.
    checksum_qemu_same_units = {}
    if args.qemu_scale != 1:
        for n in names:
            run = run_image("qemu", image, image.workloads[n]["number"], units_for("swiftvmx", image.workloads[n]),
                            workdir, f"mips-qemu-check-{n}", timeout)
            checksum_qemu_same_units[n] = checksum(run.text) if run.status == "ok" else None
    else:
        checksum_qemu_same_units = checksums["qemu"]
    def median_or_none(v):
        return statistics.median(v) if v else None
    base_wall = {e: median_or_none([x.wall for x in runs[e]["baseline"]]) for e in emulators}
    base_cpu = {e: median_or_none([x.cpu for x in runs[e]["baseline"]]) for e in emulators}
    rows = []
    for n in names:
        w = image.workloads[n]
        row = {"workload": n, "summary": w["summary"], "instructions_per_unit": w["instructionsPerUnit"],
               "rep_elements_per_unit": w["repElementsPerUnit"]}
        for e in emulators:
            units = units_for(e, w)
            instr = w["fixedInstructions"] + units * w["instructionsPerUnit"]
            rs = runs[e][n]
            marker = [x.marker_seconds for x in rs if x.marker_seconds]
            net = [x.wall - base_wall[e] for x in rs] if base_wall[e] is not None else []
            net_cpu = [x.cpu - base_cpu[e] for x in rs] if base_cpu[e] is not None else []
            def mips(times):
                return summary([instr / t / 1e6 for t in times if t > 0])
            row[e] = {"units": units, "instructions": instr, "status": statuses[e].get(n, "ok"),
                      "checksum": checksums[e].get(n),
                      "marker_seconds": summary(marker), "mips": mips(marker),
                      "wall_seconds": summary([x.wall for x in rs]), "net_wall_seconds": summary(net),
                      "mips_baseline_subtracted": mips(net),
                      "cpu_seconds": summary([x.cpu for x in rs]), "net_cpu_seconds": summary(net_cpu),
                      "mips_cpu_baseline_subtracted": mips(net_cpu)}
        for key in ("mips", "mips_baseline_subtracted", "mips_cpu_baseline_subtracted"):
            s, b, q = row["swiftvmx"][key], row["bochs"][key], row["qemu"][key]
            row[f"ratio_swiftvmx_bochs{key[4:]}"] = s["median"] / b["median"] if s and b else None
            row[f"ratio_swiftvmx_qemu{key[4:]}"] = s["median"] / q["median"] if s and q else None
        sums = {checksums["swiftvmx"].get(n), checksums["bochs"].get(n), checksum_qemu_same_units.get(n)}
        row["checksums_agree"] = len(sums) == 1 and None not in sums
        rows.append(row)
    return {"runs": args.runs, "unit_scale": args.unit_scale, "qemu_scale": args.qemu_scale,
            "baseline_seconds": {e: summary([x.wall for x in runs[e]["baseline"]]) for e in emulators},
            "baseline_cpu_seconds": {e: summary([x.cpu for x in runs[e]["baseline"]]) for e in emulators},
            "baseline_status": {e: statuses[e].get("baseline", "ok") for e in emulators},
            "workloads": rows}


# ---------------------------------------------------------------------------------------------------------
# 3. Exits


def exits_suite(args, image, workdir):
    result = {}
    note("exits: swiftvmx-dev bench-vmexit")
    p = subprocess.run([args.swiftvmx_dev, "bench-vmexit", "--json", "--iterations", str(args.vmexit_iterations),
                        "--runs", str(args.runs_exits)], capture_output=True, text=True)
    try:
        result["vmcall_swiftvmx_ns"] = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        result["vmcall_swiftvmx_ns"] = {"error": (p.stderr or p.stdout).strip()[-300:]}

    # I/O exit round trip: the image's io workload (16 × OUT 0x80 per unit) on `swiftvmx run`, minus the baseline.
    w = image.workloads["io"]
    units = max(1, round(w["defaultUnits"] * args.unit_scale))
    outs = units * w["portWritesPerUnit"]
    base, io, status = [], [], "ok"
    for r in range(args.runs_exits):
        note(f"exits: I/O loop round {r + 1}/{args.runs_exits}")
        b = run_image("swiftvmx", image, 0, 0, workdir, f"io-baseline-{r + 1}", args.image_timeout, trace=False)
        x = run_image("swiftvmx", image, w["number"], units, workdir, f"io-{r + 1}", args.image_timeout, trace=False)
        s1, t1, s2, t2 = b.status, b.wall, x.status, x.wall
        if s1 == "ok" and s2 == "ok":
            base.append(t1)
            io.append(t2)
        else:
            status = s1 if s1 != "ok" else s2
    per_out = [(t - statistics.median(base)) / outs * 1e9 for t in io] if base else []
    result["io_swiftvmx_ns"] = summary(per_out) | {"outs": outs, "status": status} if per_out else {"status": status}
    # The VMM's own handling time per I/O exit (swiftvmx run --stats).
    kernel = os.path.join(workdir, "io-stats.kernel")
    image.write_kernel(kernel, w["number"], units)
    p = subprocess.run([args.swiftvmx, "run", "--engine", args.engine, "--kernel", kernel, "--memory", str(image.manifest["ramMiB"]), "--stats"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=args.image_timeout)
    m = re.search(r"^ioInstruction\s+30\s+(\d+)\s+\S+\s+\S+\s+\S+\s+(\d+)\s*$", p.stderr, re.M)
    result["io_swiftvmx_vmm_handler_ns"] = int(m.group(2)) if m else None

    # /dev/kvm
    if not os.path.exists("/dev/kvm"):
        result["kvm"] = {"skipped": "/dev/kvm absent"}
    elif not args.kvm_harness:
        result["kvm"] = {"skipped": "no C compiler to build scripts/bench-kvm.c"}
    else:
        note("exits: /dev/kvm harness")
        p = subprocess.run([args.kvm_harness, str(args.kvm_iterations), str(args.runs_exits)], capture_output=True,
                           text=True)
        try:
            result["kvm"] = json.loads(p.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            result["kvm"] = {"skipped": f"bench-kvm failed: {(p.stderr or p.stdout).strip()[-200:]}"}
    return result


# ---------------------------------------------------------------------------------------------------------
# Report


def report(res):
    lines = []
    add = lines.append
    mi = res["machine"]
    add(f"SwiftVMX benchmarks, {mi['date']}")
    add(f"machine: {mi['cpu']}, {mi['cores']} cores, {mi['memory_mib']} MiB, Linux {mi['kernel']}; "
        f"1-minute load average {mi['load_average_at_start']:.2f} at the start, {mi['load_average_at_end']:.2f} at the end")
    add(f"references: {mi['qemu']}; {mi['bochs']} (Debian build)")
    targets = []

    lb = res.get("linux")
    if lb:
        add("")
        add(f"1. Linux boot to power-off ({os.path.basename(lb['kernel'])} + {os.path.basename(lb['initrd'])}, "
            f"--append \"{lb['append']}\", {lb['memory_mib']} MiB), wall seconds")
        add(f"   {'':10} {'runs':>4}  {'min / median / max':>28}  status")
        for name, label in (("swiftvmx", "SwiftVMX"), ("qemu", "QEMU TCG")):
            r = lb[name]
            st = sorted({e["status"] for e in r["runs"]})
            add(f"   {label:10} {len(r['runs']):>4}  {fmt_summary(r['seconds'], 2, ' s'):>28}  {'; '.join(st)}")
        ratio = lb["ratio_median"]
        add(f"   ratio SwiftVMX / QEMU (medians): {fmt(ratio, 2) + '×' if ratio else '- (no SwiftVMX or QEMU run reached power-off)'}")
        targets.append(("Linux boot ≤ 1.0× QEMU TCG", f"{fmt(ratio, 2)}×" if ratio else "no completed boot",
                        ratio is not None and ratio <= 1.0))

    mp = res.get("mips")
    if mp:
        add("")
        add(f"2. Guest MIPS, one image on all three (64-bit, CPL 0, paging on; {mp['runs']} runs each; min / median / max)")
        add("   MIPS = stated instructions / wall time between the guest's start and end markers on port 0xE9")
        verified = res.get("image", {}).get("counts_verified", {}).get("ok")
        add("   stated instruction counts " + ("checked on the processor model (swiftvmx-dev bench verify): ok" if verified
                                               else "NOT confirmed by swiftvmx-dev bench verify: see the JSON"))
        add(f"   {'workload':10} {'instructions':>13}  {'SwiftVMX MIPS':>22}  {'Bochs MIPS':>22}  {'QEMU TCG MIPS':>25}  {'SwiftVMX/Bochs':>14}  {'check':>5}")
        for row in mp["workloads"]:
            def cell(e):
                c = row[e]
                return fmt_summary(c["mips"]) if c["mips"] else c["status"][:22]
            ratio = row["ratio_swiftvmx_bochs"]
            add(f"   {row['workload']:10} {row['swiftvmx']['instructions'] / 1e6:>12.1f}M  {cell('swiftvmx'):>22}  "
                f"{cell('bochs'):>22}  {cell('qemu'):>25}  {(fmt(ratio, 2) + '×') if ratio else '-':>14}  "
                f"{'ok' if row['checksums_agree'] else 'DIFF':>5}")
            targets.append((f"MIPS ≥ 2× Bochs: {row['workload']}", f"{fmt(ratio, 2)}×" if ratio else "-",
                            ratio is not None and ratio >= 2.0))
        bl = mp["baseline_seconds"]
        add("   cross-check, medians of the same runs timed as whole processes minus the baseline run (boot + exit, no")
        add("   workload: " + ", ".join(f"{e} {fmt(bl[e]['median'], 3) if bl[e] else '-'} s" for e in ("swiftvmx", "bochs", "qemu"))
            + "), on wall time and on CPU time (user + system):")
        add(f"   {'workload':10} {'SwiftVMX':>17} {'Bochs':>17} {'QEMU TCG':>17}  {'SwiftVMX/Bochs':>14}")
        for row in mp["workloads"]:
            def med(e):
                a, b = row[e]["mips_baseline_subtracted"], row[e]["mips_cpu_baseline_subtracted"]
                return f"{fmt(a['median']) if a else '-'} / {fmt(b['median']) if b else '-'}"
            r1, r2 = row["ratio_swiftvmx_bochs_baseline_subtracted"], row["ratio_swiftvmx_bochs_cpu_baseline_subtracted"]
            add(f"   {row['workload']:10} {med('swiftvmx'):>17} {med('bochs'):>17} {med('qemu'):>17}  "
                f"{fmt(r1, 2) + '×' if r1 else '-'} / {fmt(r2, 2) + '×' if r2 else '-'}")
        add("   check: the checksum the guest prints is the same on all three at the same units")
        if mp["qemu_scale"] != 1:
            add(f"   QEMU runs {mp['qemu_scale']:g}× the units (the same code, longer) so that its runs last long enough to time")

    ex = res.get("exits")
    if ex:
        add("")
        add("3. VM exits, ns per round trip (min / median / max)")
        vm = ex.get("vmcall_swiftvmx_ns", {})
        kvm = ex.get("kvm", {})
        def kvm_cell(key):
            if "skipped" in kvm:
                return f"skipped: {kvm['skipped']}"
            v = kvm.get(key)
            if isinstance(v, dict):
                return fmt_summary(v, 0, " ns")
            return str(v)
        add(f"   VMCALL exit + entry, Swift handler (bench-vmexit):   SwiftVMX {fmt_summary(vm, 0, ' ns') if 'min' in vm else vm}")
        add(f"     /dev/kvm, in-kernel handler: CPUID {kvm_cell('cpuid')}; VMCALL {kvm_cell('vmcall')}")
        io = ex.get("io_swiftvmx_ns", {})
        add(f"   I/O exit through the port bus (OUT 0x80 loop):       SwiftVMX {fmt_summary(io, 0, ' ns') if 'min' in io else io.get('status')}"
            + (f"  (VMM handler alone: {ex['io_swiftvmx_vmm_handler_ns']} ns, from --stats)" if ex.get("io_swiftvmx_vmm_handler_ns") else ""))
        add(f"     /dev/kvm, KVM_EXIT_IO to user space: OUT {kvm_cell('out')}; HLT {kvm_cell('hlt')}")
        v = vm.get("median")
        targets.append(("VM exit + entry ≤ 100 ns", f"{fmt(v, 0)} ns" if v else "-", v is not None and v <= 100))
        v = io.get("median")
        targets.append(("I/O exit through the bus ≤ 200 ns", f"{fmt(v, 0)} ns" if v else "-", v is not None and v <= 200))

    if lb:
        add("")
        sv, qm = lb["swiftvmx"], lb["qemu"]
        add(f"4. Memory while booting Linux ({lb['memory_mib']} MiB guest): resident memory outside the guest-RAM mapping,")
        add("   largest of /proc/PID/smaps samples every 0.25 s (guest RAM is mapped lazily, so peak RSS minus guest RAM")
        add("   would be negative); of it, private anonymous memory (the rest is shared-library text); peak RSS")
        for name, label in (("swiftvmx", "SwiftVMX"), ("qemu", "QEMU TCG")):
            r = lb[name]
            add(f"   {label:10} beyond guest RAM {fmt_summary(r['beyond_guest_ram_mib'], 1, ' MiB')}"
                f", anonymous {fmt_summary(r['anonymous_beyond_guest_ram_mib'], 1, ' MiB')}"
                f", peak RSS {fmt_summary(r['peak_rss_mib'], 1, ' MiB')}")
        o = sv["beyond_guest_ram_mib"]
        v = o["median"] if o else None
        targets.append(("VMM memory beyond guest RAM ≤ 16 MiB", f"{fmt(v, 1)} MiB" if v is not None else "-",
                        v is not None and v <= 16))

    if targets:
        add("")
        add("Targets (issue 7)")
        for name, value, met in targets:
            add(f"   {name:40} {value:>12}   {'met' if met else 'NOT met'}")
    res["targets"] = [{"target": n, "value": v, "met": m} for n, v, m in targets]
    return "\n".join(lines)


ARGS = None


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--swiftvmx", required=True)
    ap.add_argument("--engine", default="interpreter", choices=["interpreter", "jit"],
                    help="the engine `swiftvmx run` uses (--engine)")
    ap.add_argument("--swiftvmx-dev", required=True)
    ap.add_argument("--guests", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--kvm-harness", default="")
    ap.add_argument("--runs", type=int, default=3, help="runs of each MIPS workload per emulator")
    ap.add_argument("--runs-exits", type=int, default=5)
    ap.add_argument("--linux-runs", type=int, default=3, help="QEMU Linux boots")
    ap.add_argument("--swiftvmx-linux-runs", type=int, default=1)
    ap.add_argument("--linux-timeout", type=int, default=300)
    ap.add_argument("--image-timeout", type=int, default=120)
    ap.add_argument("--unit-scale", type=float, default=1.0)
    ap.add_argument("--qemu-scale", type=float, default=4.0)
    ap.add_argument("--vmexit-iterations", type=int, default=200000)
    ap.add_argument("--kvm-iterations", type=int, default=20000)
    ap.add_argument("--skip-linux", action="store_true")
    ap.add_argument("--skip-mips", action="store_true")
    ap.add_argument("--skip-exits", action="store_true")
    ARGS = args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    runs_dir = tempfile.mkdtemp(prefix="runs-", dir=args.workdir)
    started = time.perf_counter()
    res = {"machine": machine_info(),
           "settings": {k: v for k, v in vars(args).items() if k not in ("swiftvmx", "swiftvmx_dev", "guests", "workdir", "json")}}
    image = Image(args, args.workdir) if not (args.skip_mips and args.skip_exits) else None
    if image:
        res["image"] = {"workloads": list(image.workloads.values()), "ram_mib": image.manifest["ramMiB"]}
        # The stated instruction counts, checked on the processor model (units 0, 1, 2 of each workload).
        p = subprocess.run([args.swiftvmx_dev, "bench", "verify", "--json"], capture_output=True, text=True)
        try:
            res["image"]["counts_verified"] = json.loads(p.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            res["image"]["counts_verified"] = {"ok": False, "error": (p.stderr or p.stdout).strip()[-300:]}
    if not args.skip_linux:
        res["linux"] = linux_boot(args, runs_dir)
    if not args.skip_mips:
        res["mips"] = mips_suite(args, image, runs_dir)
    if not args.skip_exits:
        res["exits"] = exits_suite(args, image, runs_dir)
    res["elapsed_seconds"] = time.perf_counter() - started
    res["machine"]["load_average_at_end"] = os.getloadavg()[0]
    table = report(res)
    print(table)
    print(f"\n(suite ran {res['elapsed_seconds'] / 60:.1f} min; JSON: {args.json}; run logs: {runs_dir})")
    with open(args.json, "w") as f:
        json.dump(res, f, indent=2, sort_keys=True)
    with open(os.path.splitext(args.json)[0] + ".txt", "w") as f:
        f.write(table + "\n")


if __name__ == "__main__":
    main()

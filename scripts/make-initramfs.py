#!/usr/bin/env python3
"""Builds the SwiftVMX test initramfs: a gzip-compressed newc cpio archive around a static busybox.

Usage: make-initramfs.py --busybox PATH --output FILE [--init FILE] [--program PATH]...
                         [--file SRC:DEST]... [--no-gzip]

The archive holds /bin/busybox, applet symlinks, the usual empty directories, the device nodes
/dev/console (5,1), /dev/null (1,3) and /dev/ttyS0 (4,64) -- written as cpio headers, so no root and
no mknod are needed -- and an /init script that prints SWIFTVMX-GUEST-READY, some facts about the
guest, starts a shell on the console when the kernel command line holds `swiftvmx.shell`, and
then prints SWIFTVMX-GUEST-POWEROFF and powers off.

The output is reproducible: every mtime is SOURCE_DATE_EPOCH (default 0), the gzip header carries
no name and no time. Standard library only.
"""

import argparse
import gzip
import os
import stat
import struct
import sys

MARKER_READY = "SWIFTVMX-GUEST-READY"
MARKER_POWEROFF = "SWIFTVMX-GUEST-POWEROFF"

INIT_SCRIPT = r"""#!/bin/busybox sh
# /init of the SwiftVMX test initramfs (written by scripts/make-initramfs.py).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
/bin/busybox --install -s /bin 2>/dev/null
hostname -F /etc/hostname 2>/dev/null
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo @READY@
uname -a
echo "== ls /"
ls /
echo "== head -5 /proc/cpuinfo"
head -5 /proc/cpuinfo 2>/dev/null
grep -m1 '^flags' /proc/cpuinfo 2>/dev/null
cmdline=$(cat /proc/cmdline 2>/dev/null)
case " $cmdline " in
*" swiftvmx.shell "* | *" swiftvmx.shell="*)
    # The device behind /dev/console is the last word of console/active (ttyS0 for
    # console=ttyS0). Opening it after setsid makes it the controlling terminal: job control
    # and Ctrl-C work, which they do not on /dev/console.
    con=ttyS0
    if [ -r /sys/class/tty/console/active ]; then
        for c in $(cat /sys/class/tty/console/active); do con=$c; done
    fi
    tty=/dev/$con
    [ -c "$tty" ] || tty=/dev/console
    echo "SWIFTVMX: shell on $tty; 'exit' powers the guest off"
    cd /
    PS1='\w # ' setsid sh -c 'exec sh -i <"$0" >"$0" 2>&1' "$tty"
    ;;
esac
echo @POWEROFF@
sync
poweroff -f
# Only reached when the platform cannot power off: a reset ends the VMM (QEMU with -no-reboot).
sleep 2
reboot -f
while :; do sleep 3600; done
""".replace("@READY@", MARKER_READY).replace("@POWEROFF@", MARKER_POWEROFF)

DIRECTORIES = [
    ("bin", 0o755), ("dev", 0o755), ("etc", 0o755), ("proc", 0o555), ("root", 0o700),
    ("sbin", 0o755), ("sys", 0o555), ("tmp", 0o1777), ("usr", 0o755), ("usr/bin", 0o755),
    ("usr/sbin", 0o755),
]
# The applets /init needs before `busybox --install` has run, and the common ones, as symlinks
# in the archive; /init installs links for every other applet at boot.
APPLETS = [
    "sh", "ash", "cat", "cp", "dmesg", "echo", "grep", "head", "ls", "mkdir", "mount", "mv",
    "hostname", "poweroff", "ps", "reboot", "rm", "setsid", "sleep", "sync", "uname", "umount",
]
DEVICES = [  # name, major, minor, permissions
    ("dev/console", 5, 1, 0o600),
    ("dev/null", 1, 3, 0o666),
    ("dev/ttyS0", 4, 64, 0o660),
]
ETC_FILES = [
    ("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"),
    ("etc/group", b"root:x:0:\n"),
    ("etc/hostname", b"swiftvmx-guest\n"),
]


class NewcWriter:
    """Writes a cpio archive in the "new ASCII" (newc, magic 070701) format that Linux unpacks."""

    def __init__(self, out, mtime):
        self.out = out
        self.mtime = mtime
        self.ino = 0
        self.offset = 0

    def _write(self, data):
        self.out.write(data)
        self.offset += len(data)

    def _pad(self):
        self._write(b"\0" * (-self.offset % 4))

    def entry(self, name, mode, data=b"", nlink=1, rdev=(0, 0)):
        if name != "TRAILER!!!":
            self.ino += 1
        encoded = name.encode() + b"\0"
        fields = [
            self.ino if name != "TRAILER!!!" else 0,
            mode, 0, 0,                     # mode, uid, gid
            nlink, self.mtime, len(data),
            0, 0,                           # devmajor, devminor (of the file system)
            rdev[0], rdev[1],               # rdevmajor, rdevminor (of a device node)
            len(encoded), 0,                # namesize (with the NUL), check
        ]
        header = b"070701" + b"".join(b"%08X" % f for f in fields)
        assert len(header) == 110
        self._write(header + encoded)
        self._pad()
        self._write(data)
        self._pad()

    def directory(self, name, perm):
        self.entry(name, stat.S_IFDIR | perm, nlink=2)

    def file(self, name, data, perm):
        self.entry(name, stat.S_IFREG | perm, data)

    def symlink(self, name, target):
        self.entry(name, stat.S_IFLNK | 0o777, target.encode())

    def char_device(self, name, major, minor, perm):
        self.entry(name, stat.S_IFCHR | perm, rdev=(major, minor))

    def trailer(self):
        self.entry("TRAILER!!!", 0)


def check_static_x86_64_elf(data, path):
    """Refuses anything but a static x86-64 ELF executable: the initramfs has no libc."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit(f"make-initramfs: error: {path} is not a 64-bit little-endian ELF file")
    e_machine = struct.unpack_from("<H", data, 18)[0]
    if e_machine != 62:
        sys.exit(f"make-initramfs: error: {path} is not an x86-64 executable (e_machine {e_machine})")
    e_phoff = struct.unpack_from("<Q", data, 32)[0]
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 54)
    for i in range(e_phnum):
        p_type = struct.unpack_from("<I", data, e_phoff + i * e_phentsize)[0]
        if p_type == 3:  # PT_INTERP
            sys.exit(f"make-initramfs: error: {path} is dynamically linked; use busybox-static's /bin/busybox")


def build(busybox, init_script, mtime, programs=(), files=()):
    """Returns the uncompressed cpio archive; `programs` are (name, data) pairs installed in /bin, `files`
    (path, data) pairs installed at that path (read-only, with the directories above them)."""
    import io
    buf = io.BytesIO()
    w = NewcWriter(buf, mtime)
    for name, perm in DIRECTORIES:
        w.directory(name, perm)
    w.file("bin/busybox", busybox, 0o755)
    for applet in APPLETS:
        w.symlink("bin/" + applet, "busybox")
    for name, major, minor, perm in DEVICES:
        w.char_device(name, major, minor, perm)
    for name, data in ETC_FILES:
        w.file(name, data, 0o644)
    for name, data in programs:
        w.file("bin/" + name, data, 0o755)
    made = {name for name, _ in DIRECTORIES}
    for path, data in files:
        parts = path.split("/")[:-1]
        for k in range(1, len(parts) + 1):
            d = "/".join(parts[:k])
            if d not in made:
                w.directory(d, 0o755)
                made.add(d)
        w.file(path, data, 0o644)
    w.file("init", init_script, 0o755)
    w.trailer()
    return buf.getvalue()


def main():
    parser = argparse.ArgumentParser(description="Build the SwiftVMX test initramfs (gzip'd newc cpio).")
    parser.add_argument("--busybox", help="a static x86-64 busybox binary")
    parser.add_argument("--output", "-o", help="the archive to write")
    parser.add_argument("--init", help="use this file as /init instead of the built-in script")
    parser.add_argument("--program", action="append", default=[],
                        help="also install this static x86-64 executable as /bin/NAME (repeatable)")
    parser.add_argument("--file", action="append", default=[], metavar="SRC:DEST",
                        help="also install file SRC at path DEST (e.g. lib/modules/kvm.ko; repeatable)")
    parser.add_argument("--no-gzip", action="store_true", help="write the cpio uncompressed")
    parser.add_argument("--print-init", action="store_true", help="print the built-in /init and exit")
    args = parser.parse_args()

    if args.print_init:
        sys.stdout.write(INIT_SCRIPT)
        return
    if not args.busybox or not args.output:
        parser.error("--busybox and --output are required")
    try:
        with open(args.busybox, "rb") as f:
            busybox = f.read()
        check_static_x86_64_elf(busybox, args.busybox)
        if args.init:
            with open(args.init, "rb") as f:
                init_script = f.read()
        else:
            init_script = INIT_SCRIPT.encode()
        programs = []
        for path in args.program:
            with open(path, "rb") as f:
                data = f.read()
            check_static_x86_64_elf(data, path)
            programs.append((os.path.basename(path), data))
        files = []
        for spec in args.file:
            src, sep, dest = spec.rpartition(":")
            dest = dest.strip("/")
            if not sep or not src or not dest or ".." in dest.split("/"):
                parser.error(f"--file wants SRC:DEST with a relative DEST, not {spec!r}")
            with open(src, "rb") as f:
                files.append((dest, f.read()))
        mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
        archive = build(busybox, init_script, mtime, programs, files)
        tmp = args.output + ".part"
        with open(tmp, "wb") as f:
            if args.no_gzip:
                f.write(archive)
            else:
                # filename="" and mtime=0: no name and no time in the gzip header (reproducible).
                with gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=9, mtime=0) as gz:
                    gz.write(archive)
        os.replace(tmp, args.output)
    except OSError as e:
        sys.exit(f"make-initramfs: error: {e}")


if __name__ == "__main__":
    main()

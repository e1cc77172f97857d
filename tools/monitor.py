# `pybms monitor --channel PTY [--interface slcan] [--log FILE]`: watch what pyBMS
# (or any Victron CAN-bus BMS) sends, decoded with the shipped DBC, and flag what a
# GX would trip over: no 0x351 for more than 2 s, CVL = 0, active alarms.
# --log writes a candump-format log: (1700000000.123456) can0 351#2802F401E803E001
#
# Garbage on the link is never fatal and never decoded: a line that is not exactly
# a frame (tools/monitor_slcan.py), or a frame too short for its message, is shown
# as "!! MALFORMED <reason>" and counted; the summary always prints.
# `decode_frame()` is the one place a frame is read as a GX reads it.

import signal
import sys
import time
from collections import namedtuple

from tools.monitor_slcan import ADAPTER_ERROR, Malformed, PythonCanLink, SlcanLink

GAP_S = 2.0        # the GX declares the BMS lost after ~3 s; flag earlier
FLAG = "!!"


def add_arguments(parser):
    parser.add_argument("--channel", required=True,
                        help="serial device or pty of the CAN adapter (SLCAN), or an interface channel")
    parser.add_argument("--interface", default="slcan",
                        help="python-can interface (default slcan)")
    parser.add_argument("--bitrate", type=int, default=500000, help="CAN bitrate (Victron: 500000)")
    parser.add_argument("--log", metavar="FILE", help="also write a candump-format log")
    parser.add_argument("--duration", type=float, default=None,
                        help="stop after this many seconds (default: until Ctrl-C)")
    parser.add_argument("--frames", type=int, default=None,
                        help="stop after this many well-formed frames (like candump -n)")
    parser.add_argument("--gap", type=float, default=GAP_S,
                        help="flag a silence of 0x351 longer than this (seconds, default 2)")


def candump_line(timestamp, can_id, data, channel="can0", extended=None):
    if extended is None:
        extended = can_id > 0x7FF
    ident = ("%08X" if extended else "%03X") % can_id
    return "(%.6f) %s %s#%s" % (timestamp, channel, ident, bytes(data).hex().upper())


def _fmt(v):
    if isinstance(v, float):
        return ("%.3f" % v).rstrip("0").rstrip(".")
    return str(v)


Decoded = namedtuple("Decoded", "can_id name values text malformed")
Decoded.__doc__ = """One frame as a GX reads it: `name`/`values` from the DBC (None for an id
the DBC does not know), `text` one readable line without the time, `malformed` a
reason when the bytes cannot be that frame (then nothing is decoded)."""


def _ident(can_id, extended):
    return ("0x%08X" if extended else "0x%03X") % can_id


def _needed_bytes(msg):
    """Bytes a frame must carry for every field of `msg`; ASCII-only messages
    (one 64-bit text field) take any length, as the GX pads a short name."""
    if len(msg.signals) == 1 and msg.signals[0].length == 64 and msg.signals[0].minimum is None:
        return 0
    return max((sig.start + sig.length + 7) // 8 for sig in msg.signals)


def decode_frame(db, can_id, data, extended=False, remote=False):
    """Decode one CAN frame with the DBC `db` the way a GX would, never raising."""
    data = bytes(data)
    ident = _ident(can_id, extended)
    if len(data) > 8 or can_id < 0 or can_id > (0x1FFFFFFF if extended else 0x7FF):
        return Decoded(can_id, None, None, "", "%s: not a classic CAN frame" % ident)
    msg = None
    if not extended:   # the GX's BMS protocol is 11-bit: 0x00000351 is another frame
        try:
            msg = db.get_message_by_frame_id(can_id)
        except KeyError:
            msg = None
    if remote:
        return Decoded(can_id, msg.name if msg else None, None, "%s remote request" % ident, None)
    if msg is None:
        return Decoded(can_id, None, None, ("%s %s" % (ident, data.hex(" ").upper())).rstrip(), None)
    need = _needed_bytes(msg)
    if len(data) < need:
        return Decoded(can_id, msg.name, None, "",
                       "%s %s: %d data bytes, its fields need %d" % (ident, msg.name, len(data), need))
    values = msg.decode(data + bytes(msg.length - len(data)), decode_choices=False)
    text = _signals_text(msg, values)
    return Decoded(can_id, msg.name, values, "%s %s%s" % (ident, msg.name, " " + text if text else ""),
                   None)


def _signals_text(msg, values):
    parts = []
    for sig in msg.signals:
        v = values[sig.name]
        if sig.name.startswith(("alarm_", "warning_")):
            continue
        if sig.minimum is None and sig.maximum is None and isinstance(v, int) and msg.length == 8 \
                and sig.length == 64:
            v = v.to_bytes(8, "little").rstrip(b"\x00").decode("ascii", "replace")
        parts.append("%s=%s" % (sig.name, _fmt(v)))
    return " ".join(parts)


def _shown(raw, limit=48):
    """Raw bytes as printable text (escapes for the rest), cut at `limit`."""
    text = raw[:limit].decode("ascii", "backslashreplace")
    text = "".join(c if " " <= c <= "~" else "\\x%02x" % ord(c) for c in text)
    return text + ("..." if len(raw) > limit else "")


class Monitor:
    """Decodes frames and keeps the checks; `frame()` and `tick()` return lines."""

    def __init__(self, db, gap_s=GAP_S):
        self.db = db
        self.gap_s = gap_s
        self.frames = 0
        self.by_id = {}
        self.flags = {"gap": 0, "cvl_zero": 0, "alarm": 0, "warning": 0, "malformed": 0}
        self.malformed_by = {}   # reason -> count
        self.adapter_errors = 0
        self.last_limits = None
        self.gap_open = False
        self._active = set()

    def malformed(self, t, reason, raw=b"", detail=None):
        """Count (by `reason`) and show input that is not a frame, or not the frame
        its id says; `detail` replaces the raw bytes in the line when given."""
        self.flags["malformed"] += 1
        self.malformed_by[reason] = self.malformed_by.get(reason, 0) + 1
        shown = detail if detail is not None else _shown(raw)
        return [("%s %.3f MALFORMED %s %s" % (FLAG, t, reason, shown)).rstrip()]

    def item(self, t, item):
        """Lines for one item from a link (tools.monitor_slcan): frame or not."""
        if item is ADAPTER_ERROR:
            self.adapter_errors += 1
            return []
        if isinstance(item, Malformed):
            return self.malformed(t, item.reason, item.raw)
        return self.frame(t, item.can_id, item.data, item.extended, item.remote)

    def frame(self, t, can_id, data, extended=False, remote=False):
        d = decode_frame(self.db, can_id, data, extended, remote)
        if d.malformed:
            return self.malformed(t, "short_for_id" if d.name else "not_classic", detail=d.malformed)
        self.frames += 1
        key = _ident(can_id, extended)
        self.by_id[key] = self.by_id.get(key, 0) + 1
        line = "%.3f %s" % (t, d.text)
        values = d.values
        out = []
        if values is None:
            return [line]
        if can_id == 0x35A:
            active = sorted(k for k, v in values.items() if v == 1)
            line += " active=" + (",".join(active) if active else "none")
            now = set(active)
            for name in sorted(now - self._active):
                kind = "alarm" if name.startswith("alarm_") else "warning"
                self.flags[kind] += 1
                out.append("%s %.3f %s %s" % (FLAG, t, kind.upper(), name.split("_", 1)[1]))
            for name in sorted(self._active - now):
                out.append("   %.3f cleared %s" % (t, name))
            self._active = now
        out.insert(0, line)
        if can_id == 0x351:
            if self.gap_open:
                out.append("   %.3f 0x351 back after %.1f s" % (t, t - self.last_limits))
            self.gap_open = False
            self.last_limits = t
            if values["cvl"] == 0:
                self.flags["cvl_zero"] += 1
                out.append("%s %.3f CVL = 0 V: a GX would take 0 V as the target and discharge to it"
                           % (FLAG, t))
        return out

    def tick(self, t):
        """Call often: flags the moment 0x351 has been silent longer than gap_s."""
        if self.last_limits is None or self.gap_open:
            return []
        silent = t - self.last_limits
        if silent > self.gap_s:
            self.gap_open = True
            self.flags["gap"] += 1
            return ["%s %.3f GAP: no 0x351 for %.2f s (the GX declares the BMS lost after ~3 s)"
                    % (FLAG, t, silent)]
        return []

    def summary(self):
        ids = " ".join("%s:%d" % (k, self.by_id[k]) for k in sorted(self.by_id, key=lambda k: (len(k), k)))
        flags = " ".join("%s=%d" % (k, self.flags[k])
                         for k in ("gap", "cvl_zero", "alarm", "warning", "malformed"))
        text = "frames=%d %s | %s" % (self.frames, flags, ids)
        if self.malformed_by:
            text += " | malformed: " + " ".join("%s=%d" % (k, self.malformed_by[k])
                                                for k in sorted(self.malformed_by))
        if self.adapter_errors:
            text += " | adapter_errors=%d" % self.adapter_errors
        return text


class _Terminated(Exception):
    """SIGTERM (`timeout 60 pybms monitor ...`, a service stop): end like Ctrl-C."""


def _on_sigterm(signum, frame):
    raise _Terminated()


def open_link(args):
    """The link named on the command line: SLCAN through our own strict reader,
    any other python-can interface through python-can."""
    if args.interface == "slcan":
        return SlcanLink(args.channel, args.bitrate)
    import can
    return PythonCanLink(can.Bus(interface=args.interface, channel=args.channel, bitrate=args.bitrate))


def run(args):
    import cantools

    from tools.cli import UsageError
    from tools.victron_dbc import PATH

    db = cantools.database.load_file(PATH)
    try:
        link = open_link(args)
    except Exception as e:  # pyserial and python-can raise several types for a bad channel
        raise UsageError("cannot open %s on %s: %s" % (args.interface, args.channel, e))
    log = open(args.log, "w") if args.log else None
    mon = Monitor(db, args.gap)
    start = time.monotonic()
    status = 0
    print("monitoring %s (%s, %d bit/s); decoding with %s" % (args.channel, args.interface,
                                                             args.bitrate, PATH), flush=True)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        while args.duration is None or time.monotonic() - start < args.duration:
            if args.frames is not None and mon.frames >= args.frames:
                break
            items = link.poll()
            t = time.monotonic() - start
            lines = []
            for item in items:
                if args.frames is not None and mon.frames >= args.frames:
                    break   # exactly --frames frames, like candump -n
                if log is not None and hasattr(item, "can_id") and not item.remote:
                    log.write(candump_line(time.time(), item.can_id, item.data,
                                           extended=item.extended) + "\n")
                    log.flush()
                lines += mon.item(t, item)
            lines += mon.tick(t)
            for line in lines:
                print(line, flush=True)
    except (KeyboardInterrupt, _Terminated):
        pass
    except OSError as e:   # the port went away (adapter unplugged, pty closed)
        print("%s link lost: %s" % (FLAG, e), flush=True)
        status = 1
    finally:
        signal.signal(signal.SIGTERM, previous)
        try:
            link.close()
        except Exception as e:  # closing a dead port must not hide the summary
            print("%s closing the link: %s" % (FLAG, e), flush=True)
        if log is not None:
            log.close()
        print("summary: " + mon.summary(), flush=True)
    return status


if __name__ == "__main__":
    from tools.cli import main
    sys.exit(main(["monitor"] + sys.argv[1:]))

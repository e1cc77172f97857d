# `pybms monitor --channel PTY [--interface slcan] [--log FILE]`: watch what pyBMS
# (or any Victron CAN-bus BMS) sends, decoded with the shipped DBC, and flag what a
# GX would trip over: no 0x351 for more than 2 s, CVL = 0, active alarms.
# --log writes a candump-format log: (1700000000.123456) can0 351#2802F401E803E001

import sys
import time

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
                        help="stop after this many frames (like candump -n)")
    parser.add_argument("--gap", type=float, default=GAP_S,
                        help="flag a silence of 0x351 longer than this (seconds, default 2)")


def candump_line(timestamp, can_id, data, channel="can0"):
    ident = ("%08X" if can_id > 0x7FF else "%03X") % can_id
    return "(%.6f) %s %s#%s" % (timestamp, channel, ident, bytes(data).hex().upper())


def _fmt(v):
    if isinstance(v, float):
        return ("%.3f" % v).rstrip("0").rstrip(".")
    return str(v)


class Monitor:
    """Decodes frames and keeps the checks; `frame()` and `tick()` return lines."""

    def __init__(self, db, gap_s=GAP_S):
        self.db = db
        self.gap_s = gap_s
        self.frames = 0
        self.by_id = {}
        self.flags = {"gap": 0, "cvl_zero": 0, "alarm": 0, "warning": 0}
        self.last_limits = None
        self.gap_open = False
        self._active = set()

    def _text(self, msg, values):
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

    def frame(self, t, can_id, data):
        self.frames += 1
        self.by_id[can_id] = self.by_id.get(can_id, 0) + 1
        out = []
        try:
            msg = self.db.get_message_by_frame_id(can_id)
        except KeyError:
            out.append("%.3f 0x%03X %s" % (t, can_id, bytes(data).hex(" ").upper()))
            return out
        values = msg.decode(bytes(data), decode_choices=False)
        text = self._text(msg, values)
        line = "%.3f 0x%03X %s%s" % (t, can_id, msg.name, " " + text if text else "")
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
        ids = " ".join("0x%03X:%d" % (k, self.by_id[k]) for k in sorted(self.by_id))
        flags = " ".join("%s=%d" % (k, self.flags[k]) for k in ("gap", "cvl_zero", "alarm", "warning"))
        return "frames=%d %s | %s" % (self.frames, flags, ids)


def run(args):
    import can
    import cantools

    from tools.cli import UsageError
    from tools.victron_dbc import PATH

    db = cantools.database.load_file(PATH)
    kwargs = {"interface": args.interface, "channel": args.channel, "bitrate": args.bitrate}
    if args.interface == "slcan":
        kwargs["sleep_after_open"] = 0
    try:
        bus = can.Bus(**kwargs)
    except Exception as e:  # python-can raises several types for a bad channel
        raise UsageError("cannot open %s on %s: %s" % (args.interface, args.channel, e))
    log = open(args.log, "w") if args.log else None
    mon = Monitor(db, args.gap)
    start = time.monotonic()
    print("monitoring %s (%s, %d bit/s); decoding with %s" % (args.channel, args.interface,
                                                             args.bitrate, PATH), flush=True)
    try:
        while args.duration is None or time.monotonic() - start < args.duration:
            if args.frames is not None and mon.frames >= args.frames:
                break
            msg = bus.recv(timeout=0.1)
            t = time.monotonic() - start
            lines = []
            if msg is not None and not msg.is_error_frame:
                if log is not None:
                    log.write(candump_line(msg.timestamp or time.time(), msg.arbitration_id,
                                           msg.data) + "\n")
                    log.flush()
                lines += mon.frame(t, msg.arbitration_id, msg.data)
            lines += mon.tick(t)
            for line in lines:
                print(line, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        bus.shutdown()
        if log is not None:
            log.close()
    print("summary: " + mon.summary(), flush=True)
    return 0


if __name__ == "__main__":
    from tools.cli import main
    sys.exit(main(["monitor"] + sys.argv[1:]))

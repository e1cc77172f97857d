# The files a run leaves behind (the CAN log, the event log) and whether an event
# log replays to the transitions it recorded. Host only.

def write_candump(r, path, epoch_s=0.0):
    """Every frame the firmware sent, candump format, simulated seconds + epoch_s."""
    from tools.monitor import candump_line
    with open(path, "w") as f:
        for t, can_id, data, _ok in r.can:
            f.write(candump_line(epoch_s + t / 1000.0, can_id, data) + "\n")


def write_events(lines, path):
    with open(path, "w") as f:
        for line in lines:
            f.write(line if line.endswith("\n") else line + "\n")


def replay_problem(lines):
    """None when the log replays to the transitions it recorded, else why not."""
    from tools import replay
    taken, recorded, _has_header = replay.replay(replay.parse(lines))
    if not recorded:
        return "the log recorded no transition"
    return replay.first_difference(taken, recorded)

# What the state machine remembers between events. Guards read it, actions write
# it; everything in it comes from events, so replaying a log rebuilds it exactly.

from bms import diagnosis


class Context:
    def __init__(self, cfg, contactors):
        self.cfg = cfg
        self.contactors = contactors
        self.pack_ready = False        # the pack has answered completely at least once
        self.want_connect = cfg["auto_connect"]
        self.attempts = 0              # precharge attempts since the last success/reset
        self.entered_ms = 0            # when the current state was entered
        self.attempt_end_ms = 0        # when the last failed precharge attempt ended
        self.main_closed_ms = 0        # when main positive closed (precharge overlap)
        self.precharge_release_due = False  # precharge still closed on purpose (overlap)
        self.faults = bytearray(diagnosis.COUNT)  # fault diagnoses the machine has heard of
        self.last_fault = None

    def hold_fault(self, i):
        """Record fault diagnosis row i as held by the machine, and as the latest."""
        self.faults[i] = 1
        self.last_fault = diagnosis.ROWS[i][diagnosis.ID]

    def active_faults(self):
        return [diagnosis.ROWS[i][diagnosis.ID] for i in range(diagnosis.COUNT) if self.faults[i]]

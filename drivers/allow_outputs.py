# Hard-wired allow-to-charge / allow-to-discharge outputs (relay or GPIO), for
# chargers and loads the GX cannot control. Driven by the same decision as the CAN
# limits (bms.limits.Limits): allowed exactly when CCL (DCL) > 0. Pins are objects
# with machine.Pin's value(v), named by the board file; either may be None.
# Level 1 = allowed, so a dead BMS (pins low) allows nothing; use drivers.gpio.Inverted
# only for an active-low relay board, where "released" must still mean "not allowed".


class AllowOutputs:
    def __init__(self, charge_pin=None, discharge_pin=None):
        self.charge_pin = charge_pin
        self.discharge_pin = discharge_pin
        self.charge = False
        self.discharge = False
        self.changes = 0
        self._drive(False, False)

    def _drive(self, charge, discharge):
        if self.charge_pin is not None:
            self.charge_pin.value(1 if charge else 0)
        if self.discharge_pin is not None:
            self.discharge_pin.value(1 if discharge else 0)

    def update(self, limits):
        charge = limits.charge_allowed
        discharge = limits.discharge_allowed
        if charge != self.charge or discharge != self.discharge:
            self.changes += 1
        self.charge = charge
        self.discharge = discharge
        self._drive(charge, discharge)

    def block_all(self):
        """Both outputs off (e.g. from an exception handler in the main loop)."""
        self.charge = False
        self.discharge = False
        self._drive(False, False)

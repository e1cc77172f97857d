# What the application is built from (app.boot makes them from a board file; the
# plant harness and tests make their own). Its own module so a board's boot can
# gather the parts before it loads the application's code (app/boot.py).


class Parts:
    """What the application is built from. Everything optional is None when the
    board has no such part (boards say so in their files)."""

    def __init__(self, pack, can, contactors, allow=None, heater=None, connect=None,
                 reset=None, watchdog=None, store=None, bus_voltage=None, wall=None,
                 current=None, log=None, diag=None, link=None, soc_store=None,
                 connect_at_boot=True):
        self.pack = pack              # a bms.pack.Pack
        self.can = can                # a drivers.can.CanBus
        self.contactors = contactors  # drivers.contactors.Contactors (feedback optional)
        self.allow = allow            # drivers.allow_outputs.AllowOutputs
        self.heater = heater          # output pin
        self.connect = connect        # drivers.operator_inputs.Switch
        self.connect_at_boot = connect_at_boot  # its level at boot counts (else changes only)
        self.reset = reset            # drivers.operator_inputs.LongPress
        self.watchdog = watchdog      # feed()
        self.store = store            # app.persist.Persist
        self.bus_voltage = bus_voltage  # () -> DC-bus volts or None
        self.wall = wall              # drivers.wall_clock.WallClock, or None (no wall clock)
        self.current = current        # drivers.current_sensor.CurrentSensor or None
        self.log = log                # app.events.TickFilter over an fsm.eventlog.EventLog
        self.diag = diag              # the Diagnosis the pack driver reports to
        self.link = link              # the plant link (unix port): poll() once a pass
        self.soc_store = soc_store    # a RecordStore for the SoC record, or None

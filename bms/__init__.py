# Battery-management logic shared by the state machine, drivers and protocols:
# configuration schema, the diagnosis table and the pack interface.

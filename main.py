# What a board boots: the whole BMS (app/boot.py builds it from the board file and
# the configuration, then runs the main loop for ever).
from app.boot import run

run()

# What a board boots: the whole BMS (app.entry builds it from the board file and the
# configuration through app.boot, drops what only boot used, then runs the main
# loop for ever).
from app.entry import run

run()

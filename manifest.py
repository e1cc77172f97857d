# The firmware: what a board image freezes (bytecode in flash) and what deploy copies.
# The one list of firmware folders: the MicroPython build tools read it
# (`freeze`/`package` lines, paths relative to this file), and so do pyBMS's own
# tests, benchmarks and build scripts (tools.manifest parses these lines).
package("bms")
package("fsm")
package("states")
package("drivers")
package("protocols")
package("boards")
package("app")

# Everything the host starts on MicroPython (the unix port, or the 32-bit build of
# the pinned source): precompiling firmware and tests (build.py), the runner of the
# dual-runtime tests (run_tests.py), the 32-bit interpreter build (i686.py), the
# heap figures of the firmware core (heap.py) and the workloads of `pybms bench`
# that run on MicroPython (*_workload.py). Scripts here run with this folder first
# on sys.path under MicroPython: never name one after a firmware package (fsm.py
# would shadow fsm/).

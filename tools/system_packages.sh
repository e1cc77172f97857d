#!/bin/sh
# `make setup`, part two: the Debian packages the board-true tools need
# (MICROPYTHON_SRC's build-i686.sh for the 32-bit MicroPython test run, qemu-m0.sh
# for instruction counts on an emulated Cortex-M0). Installs a missing one with
# apt-get only when running as root on a machine that has apt-get; otherwise says
# what it skipped and how to install it. Never fails: everything else works without
# these (the 32-bit run and the M0 figures say plainly that they were skipped).

PACKAGES="${PYBMS_SYSTEM_PACKAGES:-gcc-i686-linux-gnu gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm}"

missing=""
for p in $PACKAGES; do
    if command -v dpkg-query >/dev/null 2>&1 &&
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        continue
    fi
    missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "system packages: all present ($PACKAGES)"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
    echo "system packages: skipped (no apt-get/dpkg on this machine); the board-true tools need:$missing"
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "system packages: skipped (not root); to install: sudo apt-get install$missing"
    exit 0
fi
echo "system packages: installing$missing"
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1; }; then
    echo "system packages: installed$missing"
else
    echo "system packages: apt-get could not install$missing (offline?); skipped, setup continues"
fi
exit 0

# Solar and house-load profiles over the time of day: a day/night cycle, passing
# clouds (seeded, so a scenario repeats exactly) and a morning and evening peak.
# Constant values override the shapes for fault scenarios. Host only.

import math
import random

CLOUD_BLOCK_S = 900.0   # clouds change every quarter hour, smoothly in between


class Profile:
    def __init__(self, start_hour=8.0, solar_peak_w=0.0, sunrise_h=6.0, sunset_h=20.0,
                 clouds=0.0, load_base_w=0.0, load_peak_w=0.0, seed=1,
                 solar_w=None, load_w=None):
        self.start_hour = start_hour
        self.solar_peak_w = solar_peak_w
        self.sunrise_h = sunrise_h
        self.sunset_h = sunset_h
        self.clouds = clouds
        self.load_base_w = load_base_w
        self.load_peak_w = load_peak_w
        self.seed = seed
        self.constant_solar_w = solar_w
        self.constant_load_w = load_w
        self._cloud_cache = {}

    def hour(self, t_s):
        return (self.start_hour + t_s / 3600.0) % 24.0

    def _cloud_block(self, k):
        v = self._cloud_cache.get(k)
        if v is None:
            v = random.Random(self.seed * 1000003 + k).random()
            if len(self._cloud_cache) > 4096:
                self._cloud_cache.clear()
            self._cloud_cache[k] = v
        return v

    def cloud_factor(self, t_s):
        """1 = clear sky; down to 1 - clouds under a thick cloud."""
        if not self.clouds:
            return 1.0
        x = t_s / CLOUD_BLOCK_S
        k = int(math.floor(x))
        f = x - k
        w = 0.5 - 0.5 * math.cos(math.pi * f)
        c = self._cloud_block(k) * (1 - w) + self._cloud_block(k + 1) * w
        return 1.0 - self.clouds * c

    def solar_w(self, t_s):
        if self.constant_solar_w is not None:
            return self.constant_solar_w
        h = self.hour(t_s)
        if not self.sunrise_h < h < self.sunset_h:
            return 0.0
        sun = math.sin(math.pi * (h - self.sunrise_h) / (self.sunset_h - self.sunrise_h))
        return self.solar_peak_w * sun * self.cloud_factor(t_s)

    def load_w(self, t_s):
        if self.constant_load_w is not None:
            return self.constant_load_w
        h = self.hour(t_s)
        w = self.load_base_w
        w += self.load_peak_w * _bump(h, 19.5, 2.5)         # evening: cooking, lights
        w += 0.5 * self.load_peak_w * _bump(h, 7.0, 1.0)    # morning
        return w


def _bump(h, centre, half_width):
    d = abs(h - centre)
    if d >= half_width:
        return 0.0
    return 0.5 + 0.5 * math.cos(math.pi * d / half_width)

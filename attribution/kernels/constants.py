"""Names every layer shares: the touchless row and the internal key separator."""

#: the channel of touchless conversions (conversions with no touch in their lookback window); every model credits
#: them here so that credited totals equal the input's
NONE_CHANNEL = "(none)"

#: conversions a model says no channel caused (the hazard model; calibration to experiments)
BASELINE_CHANNEL = "(baseline)"

#: joins channel names into the keys of path and channel-set statistics (a control character no name may hold)
KEY_SEPARATOR = "\x1f"

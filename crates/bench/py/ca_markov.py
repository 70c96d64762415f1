"""ChannelAttribution's markov_model on a ChannelAttribution CSV, timed around the call only.

Usage: ca_markov.py PATHS.csv ORDER. Prints one JSON line last: seconds and per-channel credits.
"""
import json
import sys
import time

import pandas as pd
from ChannelAttribution import markov_model

df = pd.read_csv(sys.argv[1], sep=";")
order = int(sys.argv[2])
started = time.perf_counter()
res = markov_model(
    df,
    var_path="path",
    var_conv="total_conversions",
    var_value="total_conversion_value",
    var_null="total_null",
    order=order,
    out_more=True,
    sep=">",
    ncore=1,
    verbose=0,
)
seconds = time.perf_counter() - started
credits = {
    r["channel_name"].strip(): [r["total_conversions"], r["total_conversion_value"]]
    for r in res["result"].to_dict(orient="records")
}
print(json.dumps({"seconds": seconds, "credits": credits}))

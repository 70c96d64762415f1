"""First-touch, last-touch and linear credits per channel over stored touches, in DuckDB.

Usage: duckdb_attribution.py TOUCHES.parquet. The file has one row per touch: journey,
pos (0-based, in time order), channel, and the journey's conversions and value on every
row. Timed from the connection to the fetched result; prints one JSON line.
"""
import json
import sys
import time

import duckdb

SQL = """
WITH t AS (
  SELECT channel, pos, conversions, value,
         count(*) OVER (PARTITION BY journey) AS n
  FROM read_parquet($path)
)
SELECT channel,
       sum(CASE WHEN pos = 0 THEN conversions ELSE 0 END) AS first_conv,
       sum(CASE WHEN pos = 0 THEN value ELSE 0 END) AS first_value,
       sum(CASE WHEN pos = n - 1 THEN conversions ELSE 0 END) AS last_conv,
       sum(CASE WHEN pos = n - 1 THEN value ELSE 0 END) AS last_value,
       sum(conversions / n) AS linear_conv,
       sum(value / n) AS linear_value
FROM t
GROUP BY channel
ORDER BY channel
"""

started = time.perf_counter()
con = duckdb.connect()
con.execute("SET threads = 2")
rows = con.execute(SQL, {"path": sys.argv[1]}).fetchall()
seconds = time.perf_counter() - started
models = {"first_touch": {}, "last_touch": {}, "linear": {}}
for ch, fc, fv, lc, lv, nc, nv in rows:
    models["first_touch"][ch] = [fc, fv]
    models["last_touch"][ch] = [lc, lv]
    models["linear"][ch] = [nc, nv]
print(json.dumps({"seconds": seconds, "models": models, "sql": SQL}))

"""The funnel report's figures in DuckDB SQL over the bench's Parquet files.

Usage: duckdb_funnel.py MOVES.parquet DEALS.parquet WINDOW_SECS. Ordered funnel over six
stages: per deal, the first event of stage 1, then for each next stage its first event
after the previous matched one (by sequence), within WINDOW_SECS of the first step. Then,
overall and per source: deals entering each stage and the median, mean and p90 of the time
from the previous step; the median and mean stay in each stage; and the summary (deals
by status, mean won amount and cycle, loss reasons). Timed from the connection to the last
fetched row, threads = 2. Prints one JSON line.
"""
import json
import sys
import time

import duckdb

STAGES = ["lead", "mql", "sql", "opportunity", "proposal", "won"]
moves, deals, window = sys.argv[1], sys.argv[2], int(sys.argv[3])


def quote(path):
    return "'" + path.replace("'", "''") + "'"


step_case = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(STAGES))
ctes = [
    f"ev AS (SELECT deal, seq, moved_at AS t, source, CASE stage {step_case} END AS step "
    f"FROM read_parquet({quote(moves)}))",
    "m0 AS (SELECT deal, any_value(source) AS source, min(seq) AS q, "
    "arg_min(t, seq) AS t, arg_min(t, seq) AS t0, NULL::BIGINT AS delta "
    "FROM ev WHERE step = 0 GROUP BY deal)",
]
for k in range(1, len(STAGES)):
    ctes.append(
        f"m{k} AS (SELECT p.deal, any_value(p.source) AS source, min(e.seq) AS q, "
        f"arg_min(e.t, e.seq) AS t, any_value(p.t0) AS t0, "
        f"arg_min(e.t, e.seq) - any_value(p.t) AS delta "
        f"FROM m{k - 1} p JOIN ev e ON e.deal = p.deal AND e.step = {k} "
        f"AND e.seq > p.q AND e.t - p.t0 <= {window} GROUP BY p.deal)"
    )
matched = " UNION ALL ".join(
    f"SELECT source, {k} AS step, delta FROM m{k}" for k in range(len(STAGES))
)
ctes.append(f"matched AS ({matched})")
with_clause = "WITH " + ",\n".join(ctes)

ENTERED = f"""{with_clause}
SELECT source, step, count(*) AS entered, median(delta), avg(delta),
       quantile_cont(delta, 0.9)
FROM matched GROUP BY GROUPING SETS ((source, step), (step)) ORDER BY source, step"""

STAYS = f"""{ctes[0].replace('ev AS', 'WITH ev AS', 1)}
SELECT source, step, median(stay), avg(stay) FROM (
  SELECT source, step, lead(t) OVER (PARTITION BY deal ORDER BY seq) - t AS stay FROM ev
) WHERE step IS NOT NULL AND stay IS NOT NULL
GROUP BY GROUPING SETS ((source, step), (step)) ORDER BY source, step"""

SUMMARY = f"""
SELECT status, count(*), avg(amount_cents) FILTER (WHERE status = 'won'),
       avg(closed_at - opened_at) FILTER (WHERE status = 'won') / 86400.0
FROM read_parquet({quote(deals)}) GROUP BY status"""

REASONS = f"""
SELECT close_reason, count(*) FROM read_parquet({quote(deals)})
WHERE status = 'lost' GROUP BY close_reason ORDER BY 2 DESC"""

started = time.perf_counter()
con = duckdb.connect()
con.execute("SET threads = 2")
entered_rows = con.execute(ENTERED).fetchall()
stay_rows = con.execute(STAYS).fetchall()
summary = con.execute(SUMMARY).fetchall()
reasons = con.execute(REASONS).fetchall()
seconds = time.perf_counter() - started
overall = [0] * len(STAGES)
for source, step, n, *_ in entered_rows:
    if source is None:
        overall[step] = n
print(
    json.dumps(
        {
            "seconds": seconds,
            "entered": overall,
            "rows": len(entered_rows) + len(stay_rows) + len(summary) + len(reasons),
            "sql": [ENTERED, STAYS, SUMMARY, REASONS],
        }
    )
)

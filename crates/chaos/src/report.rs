//! `docs/reliability.md`: the run's load, faults, effects and verdict.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use crate::Args;
use crate::faults::FaultLog;
use crate::load::{Ledger, Setup, Suite};
use crate::verify::Outcome;

pub fn render(
    args: &Args,
    suite: &Suite,
    setup: &Setup,
    ledger: &Ledger,
    faults: &FaultLog,
    outcome: &Outcome,
    load_seconds: f64,
) -> String {
    let entries = ledger.inner.lock().expect("ledger");
    let touches: u32 = entries.touches.values().sum();
    let o = &suite.outcomes;
    let server_errors = o.server_errors_500.load(Ordering::Relaxed);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Reliability under faults\n\n\
         Written by `make chaos` (`touchstone-chaos --seed {seed} --seconds {secs}`): the suite \
         as `make run REPLICAS={r}` starts it (every service twice, each process supervised, \
         the topology declared up front), a fixed load for {secs} s, and five faults in the \
         order seed {seed} gives. Afterwards the invariants are read from the public APIs \
         only. Regenerate with `make chaos` (`CHAOS_SEED=… CHAOS_SECONDS=…`); it is not part \
         of `make test`.\n",
        seed = args.seed,
        secs = args.seconds,
        r = args.replicas,
    );
    let _ = writeln!(
        s,
        "**Verdict: {}.** Lost {} and doubled {} effects; {} unexpected dead letters; {} of \
         {} poison copies in the right DLQs; {server_errors} answers 500.\n",
        if outcome.passed() && server_errors == 0 {
            "pass"
        } else {
            "FAIL"
        },
        outcome.checks.iter().map(|c| c.lost).sum::<u64>(),
        outcome.checks.iter().map(|c| c.doubled).sum::<u64>(),
        outcome.unexpected_dead_letters.len(),
        outcome.poison_found,
        faults
            .poison
            .iter()
            .map(|p| p.consumers.len())
            .sum::<usize>(),
    );

    let _ = writeln!(s, "## Load held\n");
    let _ = writeln!(
        s,
        "Open loop over {load_seconds:.0} s, straight to the instances (ports 8081… and \
         8181…), a request that met a dead instance, a timeout or a 503 sent again to the \
         next instance with the same `Idempotency-Key` (touchpoints also with the same ids):\n"
    );
    let _ = writeln!(s, "| what | rate | effects asked for |");
    let _ = writeln!(s, "|---|---|---|");
    let _ = writeln!(
        s,
        "| leads created (`POST /v1/leads`) | {}/s | {} leads |",
        args.leads_per_second,
        entries.leads.len()
    );
    let _ = writeln!(
        s,
        "| paid-search clicks with a cost (`POST /v1/touchpoints`, 20 a request) | {}/s | {touches} touchpoints over {} campaigns |",
        args.touches_per_second,
        setup.campaigns.len()
    );
    let _ = writeln!(
        s,
        "| bulk imports (`POST /v1/touchpoints/bulk`, NDJSON) | {} touchpoints every {} s | (in the touchpoints above) |",
        crate::load::BULK_TOUCHES,
        crate::load::BULK_EVERY_SECONDS
    );
    let _ = writeln!(
        s,
        "| deal transitions (`POST /v1/deals/{{id}}/transitions`), 2 in 3 won | 2.5/s | {} won, {} lost |\n",
        entries.won.len(),
        entries.lost
    );
    let _ = writeln!(s, "## Faults injected\n");
    let _ = writeln!(
        s,
        "Recovery: from the end of the fault until every instance was ready and a lead \
         created then had its deal in the funnel (leads → relay → broker → funnel).\n"
    );
    let _ = writeln!(
        s,
        "| at (s) | fault | lasted (s) | recovered after (s) | note |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    for f in &faults.injected {
        let _ = writeln!(
            s,
            "| {:.0} | {} | {:.1} | {} | {} |",
            f.at,
            f.fault.name(),
            f.lasted,
            f.recovered_after
                .map_or("not recovered".into(), |r| format!("{r:.1}")),
            f.note
        );
    }
    let _ = writeln!(s, "\n## Effects\n");
    let _ = writeln!(
        s,
        "All effects had settled {} after the load stopped.\n",
        outcome
            .settled_after
            .map_or("not".into(), |t| format!("{t:.0} s"))
    );
    let _ = writeln!(s, "| invariant | asked for | observed | lost | doubled |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    for c in &outcome.checks {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            c.name, c.expected, c.observed, c.lost, c.doubled
        );
    }
    let _ = writeln!(s, "\n## Poison and dead letters\n");
    for p in &faults.poison {
        let _ = writeln!(
            s,
            "- {} (`{}`): expected in the DLQ of {}",
            p.what,
            p.message_id,
            p.consumers.join(", ")
        );
    }
    if outcome.unexpected_dead_letters.is_empty() && outcome.missing_poison.is_empty() {
        let _ = writeln!(
            s,
            "\nEvery copy is in its DLQ with a reason, and no other message was dead-lettered."
        );
    }
    for u in &outcome.unexpected_dead_letters {
        let _ = writeln!(s, "- unexpected: {u}");
    }
    for m in &outcome.missing_poison {
        let _ = writeln!(s, "- missing: {m}");
    }
    let _ = writeln!(s, "\n## Requests\n");
    let _ = writeln!(
        s,
        "{} requests; {} sent again; {} answered 503; {} connection errors or timeouts; {} \
         answered 500 (a bug); {} given up.",
        o.requests.load(Ordering::Relaxed),
        o.retried.load(Ordering::Relaxed),
        o.unavailable_503.load(Ordering::Relaxed),
        o.connection_errors.load(Ordering::Relaxed),
        server_errors,
        o.given_up.load(Ordering::Relaxed),
    );
    s
}

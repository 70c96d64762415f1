//! The company month: `breakeven.reached` the first time a month's contribution covers
//! its fixed costs, in one currency.

use chrono::Utc;
use contracts::Currency;
use contracts::breakeven::BreakevenReached;
use diesel::PgConnection;
use platform::TraceContext;
use platform::bus::outbox;

use crate::domain::company::{MonthFigures, month_bounds};
use crate::domain::cvp::present;
use crate::error::BreakevenError;
use crate::store::{alerts, deals, fixed_costs, products};

/// A month's figures in `currency`: its deals, the products priced in that currency and
/// the fixed costs.
fn month_figures(
    conn: &mut PgConnection,
    month: &str,
    currency: &str,
) -> Result<MonthFigures, BreakevenError> {
    let sums = deals::month_sums(conn, month, currency)?;
    Ok(MonthFigures::new(
        sums.revenue,
        sums.known,
        sums.unknown_revenue,
        &products::prices_in(conn, currency)?,
        &fixed_costs::in_currency(conn, currency)?,
    )?)
}

/// Sends `breakeven.reached` for a month the first time it breaks even.
pub fn evaluate_month(
    conn: &mut PgConnection,
    month: &str,
    currency: &str,
    trace: Option<&TraceContext>,
) -> Result<(), BreakevenError> {
    if alerts::month_reached_at(conn, month, currency)?.is_some() {
        return Ok(());
    }
    let figures = month_figures(conn, month, currency)?;
    if !figures.breaks_even() {
        return Ok(());
    }
    let now = Utc::now();
    if !alerts::mark_month_reached(conn, month, currency, now)? {
        return Ok(());
    }
    let (Some((start, end)), Ok(cur)) = (month_bounds(month), Currency::parse(currency)) else {
        return Ok(());
    };
    outbox::enqueue(
        conn,
        &BreakevenReached {
            period: month.to_string(),
            period_start: start,
            period_end: end,
            fixed_costs: present::money(figures.fixed_costs),
            contribution: present::money(figures.contribution),
            revenue: figures.revenue,
            currency: cur,
            reached_at: now,
        },
        trace,
    )?;
    Ok(())
}

/// Re-evaluates every month with deals in `currency` (after its fixed costs change).
pub fn evaluate_months(
    conn: &mut PgConnection,
    currency: &str,
    trace: Option<&TraceContext>,
) -> Result<(), BreakevenError> {
    for month in deals::months_in(conn, currency)? {
        evaluate_month(conn, &month, currency, trace)?;
    }
    Ok(())
}

//! Projection: at a monthly run-rate, when the break-even point is reached.

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::cvp::{Calc, div, sub};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    /// Months from `start` until the break-even point; 0 when already reached.
    pub months: Decimal,
    pub date: NaiveDate,
}

/// Months to cover `remaining` at `per_month` (both in units, or both in money), and the
/// date that is, counting whole calendar months from `start` and the fraction as days of
/// the following month, rounded up to a whole day. `None` when the run-rate is zero.
pub fn project(
    target: Decimal,
    to_date: Decimal,
    per_month: Decimal,
    start: NaiveDate,
) -> Calc<Option<Projection>> {
    let remaining = sub(target, to_date)?;
    if remaining <= Decimal::ZERO {
        return Ok(Some(Projection {
            months: Decimal::ZERO,
            date: start,
        }));
    }
    if per_month <= Decimal::ZERO {
        return Ok(None);
    }
    let months = div(remaining, per_month)?;
    Ok(date_after(start, months).map(|date| Projection { months, date }))
}

/// `start` plus a fractional number of months; `None` past chrono's calendar.
pub fn date_after(start: NaiveDate, months: Decimal) -> Option<NaiveDate> {
    let whole = months.trunc();
    let fraction = months - whole;
    let whole: u32 = whole.to_u32()?;
    let base = start.checked_add_months(Months::new(whole))?;
    let next = base.checked_add_months(Months::new(1))?;
    let days_in_month = (next - base).num_days();
    let days = (fraction * Decimal::from(days_in_month)).ceil().to_i64()?;
    base.checked_add_days(chrono::Days::new(days as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Hicks sells 200 birdbaths a month from 1 January: 450 / 200 = 2.25 months →
    /// 1 March plus 0.25 × 31 = 7.75 → 8 days = 9 March.
    #[test]
    fn hicks_at_two_hundred_a_month() {
        let p = project(d("450"), d("0"), d("200"), date("2025-01-01"))
            .unwrap()
            .unwrap();
        assert_eq!(p.months, d("2.25"));
        assert_eq!(p.date, date("2025-03-09"));
    }

    #[test]
    fn already_reached_and_never() {
        let p = project(d("450"), d("500"), d("10"), date("2025-01-01")).unwrap();
        assert_eq!(p.unwrap().months, Decimal::ZERO);
        assert_eq!(
            project(d("450"), d("0"), d("0"), date("2025-01-01")).unwrap(),
            None
        );
    }
}

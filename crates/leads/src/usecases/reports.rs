//! Report inputs: the store's CSV export of live leads or of accounts, with engagement
//! decayed to now under the current model's half-life.

use platform::{Db, Settings};

use super::scoring;
use crate::error::LeadsError;
use crate::store::reports as store;

/// Which rows a report reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    Leads,
    Accounts,
}

pub async fn export(db: &Db, settings: &Settings, what: Export) -> Result<Vec<u8>, LeadsError> {
    let (_, model) = db.run(scoring::current_model).await?;
    let sql = match what {
        Export::Leads => store::leads_csv_sql(model.half_life_days),
        Export::Accounts => store::accounts_csv_sql(model.half_life_days),
    };
    Ok(platform::db::copy_csv(&settings.database, &sql).await?)
}

//! Referrals as the store keeps them apart from the log (see the migration `referrals`):
//! states and follow-up days, for the households' follow-ups and the overview.

use super::db::on_db;
use super::{CaseStore, StoreError};

impl CaseStore {
    /// Where the referral `referral_id` stands: its state and follow-up day (`YYYY-MM-DD`);
    /// `None` when the store has no such referral.
    pub async fn referral_states(
        &self,
        referral_id: &str,
    ) -> Result<Option<(String, Option<String>)>, StoreError> {
        on_db!(&self.db, |pool| {
            Ok(
                sqlx::query_as("SELECT state, follow_up FROM referrals WHERE id = $1")
                    .bind(referral_id)
                    .fetch_optional(pool)
                    .await?,
            )
        })
    }
}

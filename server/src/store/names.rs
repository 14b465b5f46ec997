//! The households' names: as compared (`case_names`, for the review queue's search and the
//! duplicate check) and as shown beside a form (the names of the households merged into one
//! joined with its own).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cris_core::record::{self, Case};

use super::db::{Dialect, Tx, on_db};
use super::{CaseStore, StoreError};

/// The case property that names a household: what the caseload, the review queue's search,
/// exports and the dashboard show.
pub const HOUSEHOLD_NAME: &str = "household_name";

/// The rows of `case_names` for property writes `(case_id, field, value)`: each household's
/// names as compared, once each, none empty.
pub(crate) fn case_names<'a>(
    writes: impl Iterator<Item = (&'a str, &'a str, &'a str)>,
) -> Vec<(&'a str, String)> {
    let mut names: Vec<(&str, String)> = writes
        .filter(|(_, field, _)| *field == HOUSEHOLD_NAME)
        .map(|(case_id, _, value)| (case_id, cris_core::duplicates::comparable(value)))
        .filter(|(_, name)| !name.is_empty())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

impl CaseStore {
    /// Fills `case_names` for the household names logged before it existed, once (when
    /// `server_info` still says 'case_names' 'to fill'), as a store opens: the names are
    /// folded in Rust, which a migration cannot do. Pushes write the rows of what arrives
    /// after. Run twice at once (two servers starting), the second writes nothing new.
    pub(crate) async fn fill_case_names(&self) -> Result<(), StoreError> {
        let names: Vec<(String, String)> = on_db!(&self.db, |pool| {
            let to_fill: Option<String> =
                sqlx::query_scalar("SELECT value FROM server_info WHERE key = 'case_names'")
                    .fetch_optional(pool)
                    .await?;
            if to_fill.is_none() {
                return Ok(());
            }
            sqlx::query_as(&format!(
                "SELECT case_id, value FROM field_writes WHERE field = '{HOUSEHOLD_NAME}'"
            ))
            .fetch_all(pool)
            .await?
        });
        let names = case_names(
            names
                .iter()
                .map(|(c, v)| (c.as_str(), HOUSEHOLD_NAME, v.as_str())),
        );
        let mut tx = self.db.begin_push().await?;
        insert_case_names(&mut tx, &names).await?;
        on_db!(&mut tx, |tx| {
            sqlx::query("DELETE FROM server_info WHERE key = 'case_names'")
                .execute(&mut **tx)
                .await?;
        });
        tx.commit().await
    }

    /// The names of the households `households` (not merged into another) as they stand
    /// now, their properties joined with those of the households merged into them: what the
    /// review queue and exports show beside a form. A household without a name is left out.
    pub(crate) async fn names_of_households(
        &self,
        households: &[&str],
    ) -> Result<HashMap<String, String>, StoreError> {
        on_db!(&self.db, |pool| {
            let mut merges: Vec<(String, String, String)> = Vec::new();
            for chunk in households.chunks(1000) {
                let sql = standing_merges_into_sql(&pool.values(1, chunk.len()));
                let mut q = sqlx::query_as::<_, (String, String, String)>(&sql);
                for id in chunk {
                    q = q.bind(*id);
                }
                merges.extend(q.fetch_all(pool).await?);
            }
            let cases: Vec<&str> = households
                .iter()
                .copied()
                .chain(merges.iter().map(|(case_id, _, _)| case_id.as_str()))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let mut writes: Vec<(String, String, String, String)> = Vec::new();
            for chunk in cases.chunks(1000) {
                let sql = household_names_sql(&pool.values(1, chunk.len()));
                let mut q = sqlx::query_as::<_, (String, String, String, String)>(&sql);
                for id in chunk {
                    q = q.bind(*id);
                }
                writes.extend(q.fetch_all(pool).await?);
            }
            names_shown(writes, merges)
        })
    }

    /// Sets the name of the household each review item is shown with.
    pub(crate) async fn name_households(
        &self,
        items: &mut [cris_core::api::ReviewItem],
    ) -> Result<(), StoreError> {
        let households: Vec<&str> = items
            .iter()
            .map(|i| i.household_id.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let names = self.names_of_households(&households).await?;
        for item in items {
            if let Some(name) = names.get(&item.household_id) {
                item.household_name.clone_from(name);
            }
        }
        Ok(())
    }
}

/// Keeps households' names as compared (see [`case_names`]), each once.
pub(crate) async fn insert_case_names(
    tx: &mut Tx,
    names: &[(&str, String)],
) -> Result<(), StoreError> {
    on_db!(tx, |tx| {
        for chunk in names.chunks(1000) {
            let sql = format!(
                "INSERT INTO case_names (case_id, name) VALUES {} ON CONFLICT DO NOTHING",
                tx.values(chunk.len(), 2)
            );
            let mut q = sqlx::query(&sql);
            for (case_id, name) in chunk {
                q = q.bind(*case_id).bind(name);
            }
            q.execute(&mut **tx).await?;
        }
    });
    Ok(())
}

/// The households merged into the households `{ids}` while their merges stand: (merged,
/// merge, joined).
pub(crate) fn standing_merges_into_sql(ids: &str) -> String {
    format!(
        "SELECT case_id, op_id, into_id FROM case_merges
         WHERE undone_op_id IS NULL AND into_id IN {ids}"
    )
}

/// The names of households as shown (see [`cris_core::record::households`]), from the writes
/// of the household names of them and of the households merged into them (`(case, hlc, value,
/// seen)`, as [`household_names_sql`] reads them) and those merges (as [`standing_merges_into_sql`]
/// reads them).
pub(crate) fn names_shown(
    writes: Vec<(String, String, String, String)>,
    merges: Vec<(String, String, String)>,
) -> Result<HashMap<String, String>, StoreError> {
    let mut by_case: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    for (case_id, hlc, value, seen) in writes {
        by_case.entry(case_id).or_default().push((hlc, value, seen));
    }
    for (case_id, _, into) in &merges {
        by_case.entry(case_id.clone()).or_default();
        by_case.entry(into.clone()).or_default();
    }
    let mut cases: BTreeMap<String, Case> = BTreeMap::new();
    for (case_id, rows) in by_case {
        let mut case = Case::new(&case_id, 0.0);
        if !rows.is_empty() {
            case.fields
                .0
                .insert(HOUSEHOLD_NAME.to_owned(), super::decode::field(rows)?);
        }
        cases.insert(case_id, case);
    }
    for (case_id, merge, into) in merges {
        if let Some(case) = cases.get_mut(&case_id) {
            case.merges.insert(merge, into);
        }
    }
    let cases: Vec<Case> = cases.into_values().collect();
    Ok(record::households(&cases)
        .into_iter()
        .map(|h| {
            let name = h.household_name().to_owned();
            (h.id, name)
        })
        .collect())
}

/// The writes of the household names of the cases `{ids}`: (case, hlc, value, seen).
pub(crate) fn household_names_sql(ids: &str) -> String {
    format!(
        "SELECT case_id, hlc, value, seen FROM field_writes
         WHERE field = '{HOUSEHOLD_NAME}' AND case_id IN {ids}"
    )
}

-- The dashboard follows merges of households (see server/src/store/dashboard.rs): a household
-- merged into another is counted, listed and summarised as part of the one it joined, never
-- on its own, and on its own again once the merge is undone.
--
-- A merged household keeps its row in `case_summaries`, naming the household it joined in
-- `merged_into` (NULL: shown on its own) and holding nothing the dashboard counts (it is left
-- out of `household_counts`, and has no steps due). The row stays rather than going: its `seq`
-- keeps a refresh that read the log before the merge from writing the household back.
-- A summary's `seq` now counts the operations of every household ever merged into it too
-- (undone since or not), so that it grows when one is merged in or taken out.
ALTER TABLE case_summaries ADD COLUMN merged_into TEXT;

-- Every merge of a household and into a household, undone or not: a refresh re-summarises the
-- households a changed household was ever merged into, and a summary's `seq` covers the
-- households ever merged into it.
CREATE INDEX case_merges_of_case ON case_merges (case_id);
CREATE INDEX case_merges_of_into ON case_merges (into_id);

-- The summaries made so far count merged households twice: every derived table is emptied
-- and the watermark set back, so that the next dashboard summarises every household anew
-- (once, as after a bulk import) and counts it again.
DELETE FROM case_summaries;
DELETE FROM household_counts;
DELETE FROM case_summary_visits;
DELETE FROM visit_counts;
UPDATE case_summaries_watermark SET seq = 0;

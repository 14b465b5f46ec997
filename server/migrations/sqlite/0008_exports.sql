-- Exports: every file of submissions a supervisor or admin took out of the system (for
-- funder reporting), recorded before the file is handed over, so that who took which
-- households' data out, and when, can always be told. `filter_json` is the query as used
-- (JSON: form, table, team, worker, from, to, lang); `row_count` the rows in the file (on every
-- sheet, headings not counted); `case_count` the households whose data is in it. The file
-- itself is not kept.
CREATE TABLE exports (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    at_ms       INTEGER NOT NULL,
    format      TEXT NOT NULL CHECK (format IN ('xlsx', 'csv')),
    filter_json TEXT NOT NULL,
    row_count   INTEGER NOT NULL,
    case_count  INTEGER NOT NULL
) STRICT;

-- The exports of a team's supervisors, newest first.
CREATE INDEX exports_by_user ON exports (user_id, at_ms);

-- Exports: every file of submissions a supervisor or admin took out of the system, recorded
-- before the file is handed over (see migrations/sqlite/0008_exports.sql). `filter_json` is
-- the query as used, as JSON text.
CREATE TABLE exports (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    at_ms       BIGINT NOT NULL,
    format      TEXT NOT NULL CHECK (format IN ('xlsx', 'csv')),
    filter_json TEXT NOT NULL,
    row_count   BIGINT NOT NULL,
    case_count  BIGINT NOT NULL
);

-- The exports of a team's supervisors, newest first.
CREATE INDEX exports_by_user ON exports (user_id, at_ms);

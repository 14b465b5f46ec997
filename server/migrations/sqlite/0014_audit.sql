-- Who read what: every read of one household's data by a supervisor or administrator, every
-- export, login, failed login and logout. Append-only; nothing of it goes to the log lines.
-- `login` is NULL for a failed login under a name no account has (what was typed may be
-- anything, a password even, and is not kept).
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms     INTEGER NOT NULL,
    action    TEXT NOT NULL,
    login     TEXT,
    device_id TEXT,
    address   TEXT,
    case_id   TEXT,
    export_id TEXT,
    endpoint  TEXT NOT NULL
) STRICT;

CREATE INDEX audit_by_case ON audit (case_id, at_ms) WHERE case_id IS NOT NULL;
CREATE INDEX audit_by_login ON audit (login, at_ms);
CREATE INDEX audit_by_time ON audit (at_ms);

-- The case store proper. `ops` is the append-only log of every change (who, when, from which
-- device, what: the operation as the phone sent it) and the order phones pull in (`seq`).
-- `field_writes` is every write of every case property; the current value and any conflict
-- are computed from it by the same merge the phones run (cris_core::merge).
CREATE TABLE cases (
    id         TEXT PRIMARY KEY NOT NULL,
    team_id    TEXT NOT NULL REFERENCES teams (id),
    created_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE ops (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id       TEXT NOT NULL UNIQUE,
    case_id     TEXT NOT NULL REFERENCES cases (id),
    user_id     TEXT NOT NULL REFERENCES users (id),
    device_id   TEXT NOT NULL,
    hlc         TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    body        TEXT NOT NULL
) STRICT;

CREATE INDEX ops_by_case ON ops (case_id, seq);

CREATE TABLE submissions (
    id           TEXT PRIMARY KEY NOT NULL,
    case_id      TEXT NOT NULL REFERENCES cases (id),
    form_id      TEXT NOT NULL,
    form_version INTEGER NOT NULL,
    op_id        TEXT NOT NULL REFERENCES ops (op_id)
) STRICT;

CREATE INDEX submissions_by_case ON submissions (case_id);

CREATE TABLE field_writes (
    case_id TEXT NOT NULL REFERENCES cases (id),
    field   TEXT NOT NULL,
    hlc     TEXT NOT NULL,
    value   TEXT NOT NULL,
    seen    TEXT NOT NULL,
    op_id   TEXT NOT NULL REFERENCES ops (op_id),
    PRIMARY KEY (case_id, field, hlc)
) STRICT;
